"""Prompt templates: Jinja2 text whose placeholders are checked against what the profile fills, when loaded.

A template is read from ``prompt_dir/name`` when the user supplied one, else from the packaged ``prompts/`` folder.
Rendering is one Jinja pass: values are inserted as output and never read as template syntax, so task text reaches
the model byte for byte whatever braces it holds. Undefined names raise (``StrictUndefined``), nothing is escaped,
and the trailing newline is kept so the packaged files render exactly as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import ConfigError

# Sandboxed: a shared --prompt-dir template cannot reach Python internals through attribute access.
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class PromptTemplate:
    """One loaded template: ``source`` (the file, for errors), the compiled ``template`` and the names it uses."""

    source: str
    template: Template
    placeholders: frozenset[str]

    def render(self, values: Mapping[str, str]) -> str:
        """The text with ``values`` substituted; ConfigError naming the file if the template fails while rendering."""
        try:
            return self.template.render(values)
        except TemplateError as exc:
            raise ConfigError(f"prompt template {self.source}: {exc}") from exc


def load_template(name: str, prompt_dir: Path | None, allowed: frozenset[str],
                  required: frozenset[str] = frozenset()) -> PromptTemplate:
    """Load, parse and check template file ``name``.

    Raises ConfigError naming the file when it is not valid Jinja, when it uses a placeholder outside ``allowed``
    (the names the profile fills; a template may leave some of them out), or when it leaves out one of ``required``.
    """
    custom = prompt_dir / name if prompt_dir else None
    if custom is not None and custom.is_file():
        source, text = str(custom), custom.read_text(encoding="utf-8")
    else:
        source = f"glmv_agent/prompts/{name}"
        text = resources.files("glmv_agent.prompts").joinpath(name).read_text(encoding="utf-8")
    template, used = _compile(text, source)
    known = ", ".join(sorted(allowed)) or "nothing"
    unknown = sorted(used - allowed)
    if unknown:
        names = ", ".join("{{" + n + "}}" for n in unknown)
        raise ConfigError(f"prompt template {source}: unknown placeholder {names} (this template is filled with: "
                          f"{known})")
    missing = sorted(required - used)
    if missing:
        names = ", ".join("{{" + n + "}}" for n in missing)
        raise ConfigError(f"prompt template {source}: missing placeholder {names}, so the model would never see it "
                          f"(this template is filled with: {known})")
    return PromptTemplate(source, template, used)


@lru_cache(maxsize=64)
def _compile(text: str, source: str) -> tuple[Template, frozenset[str]]:
    """Parse once: the compiled template and the undeclared names it reads (Jinja's own globals excluded)."""
    try:
        tree = _ENV.parse(text, filename=source)
    except TemplateSyntaxError as exc:
        raise ConfigError(f"prompt template {source}, line {exc.lineno}: {exc.message}") from exc
    used = frozenset(meta.find_undeclared_variables(tree)) - set(_ENV.globals)
    return _ENV.from_string(tree), used


__all__ = ["PromptTemplate", "load_template"]
