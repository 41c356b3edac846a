"""Secrets: the model writes ``<secret>NAME</secret>``; only the environment ever sees the value.

Values come from ``--secret NAME=VALUE``, ``GLMV_SECRET_NAME`` environment variables or a ``NAME=VALUE`` file. They
are substituted into typed text right before execution and scrubbed from everything written or logged afterwards
(outcome texts, error messages, log records) and from what an environment shows the model
(:meth:`SecretStore.redact_observation`). Redaction replaces whole occurrences of a value in any of the spellings
:mod:`glmv_agent.oversight.redaction` lists (raw, URL-encoded, JSON-escaped, base64) and a copy clipped with "…";
it never cuts pieces out of other words.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..types import Observation
from .redaction import clipped_prefix, value_pattern

_COUNT = re.compile(r"\b\d+ characters\b")  # a driver's "typed N characters"
_PLACEHOLDER = re.compile(r"<secret>\s*([A-Za-z_][A-Za-z0-9_]*)\s*</secret>")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TEXT_FIELDS = ("text", "content")
ENV_PREFIX = "GLMV_SECRET_"


def placeholder(name: str) -> str:
    return f"<secret>{name}</secret>"


def _with_placeholders(action: Any) -> dict[str, str]:
    """The typed-text fields of ``action`` (TEXT_FIELDS) that hold a ``<secret>NAME</secret>`` placeholder."""
    fields = {field: getattr(action, field, None) for field in TEXT_FIELDS}
    return {field: value for field, value in fields.items() if isinstance(value, str) and _PLACEHOLDER.search(value)}


class SecretStore:
    """Named secret values with substitution (for typing) and redaction (for everything else)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for name, value in (values or {}).items():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        if not _NAME.match(name):
            raise ConfigError(f"secret name {name!r} must be letters, digits and underscores")
        if not value:
            raise ConfigError(f"secret {name} is empty")
        self.values[name] = value
        self._pattern = None

    @classmethod
    def from_sources(
        cls, pairs: list[str] | None = None, file: Path | None = None, environ: dict[str, str] | None = None
    ) -> SecretStore:
        store = cls()
        environ = dict(os.environ) if environ is None else environ
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX) and value:
                store.add(key[len(ENV_PREFIX) :], value)
        if file is not None:
            if not file.is_file():
                raise ConfigError(f"secrets file not found: {file}")
            lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
            pairs = [*(line for line in lines if not line.lstrip().startswith("#")), *(pairs or [])]
        for pair in pairs or []:
            name, sep, value = pair.partition("=")
            if not sep:
                raise ConfigError(f"--secret expects NAME=VALUE, got {name.strip()!r}")
            store.add(name.strip(), value)
        return store

    def __bool__(self) -> bool:
        return bool(self.values)

    def prompt_note(self) -> str | None:
        if not self.values:
            return None
        names = ", ".join(placeholder(name) for name in sorted(self.values))
        return f"Secrets you can type without seeing them: write the placeholder in the text to type: {names}"

    def reveal_text(self, text: str) -> str:
        def swap(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.values:
                raise ConfigError(f"the model used an unknown secret {name!r}; known: {', '.join(self.values)}")
            return self.values[name]

        return _PLACEHOLDER.sub(swap, text)

    def reveal(self, action: Any) -> Any:
        """A copy of ``action`` with placeholders in its typed text replaced by the values."""
        update = {field: self.reveal_text(value) for field, value in _with_placeholders(action).items()}
        return action.model_copy(update=update) if update else action

    def _names_and_pattern(self) -> tuple[list[str], re.Pattern[str]]:
        """Names by value length (longest first) and one regex: group ``keep`` is a placeholder (left alone),
        group ``sN`` any spelling of the N-th name's value."""
        names = sorted(self.values, key=lambda name: -len(self.values[name]))
        if self._pattern is None:
            groups = [f"(?P<keep>{_PLACEHOLDER.pattern})"]
            groups += [f"(?P<s{i}>{value_pattern(self.values[name])})" for i, name in enumerate(names)]
            self._pattern = re.compile("|".join(groups))
        return names, self._pattern

    def redact(self, text: str | None) -> str | None:
        """``text`` with every whole occurrence of a value, in any spelling (raw, URL-encoded, JSON-escaped,
        base64), and every copy of one clipped with "…", replaced by the value's placeholder."""
        if not text or not self.values:
            return text
        names, pattern = self._names_and_pattern()

        def swap(match: re.Match[str]) -> str:
            if match.group("keep") is not None:
                return match.group(0)
            return placeholder(names[int(str(match.lastgroup)[1:])])

        text = pattern.sub(swap, text)
        return self._redact_clipped(text, names) if "…" in text else text

    def redact_detail(self, detail: str | None, action: Any) -> str:
        """An outcome's detail for the record: values redacted and, when ``action`` typed a secret, the character
        counts the drivers report ("typed 17 characters") hidden too: they would give the value's length away."""
        text = self.redact(detail) or ""
        return _COUNT.sub("some characters", text) if _with_placeholders(action) else text

    def redact_tree(self, value: Any) -> Any:
        """:meth:`redact` applied to every string in ``value`` (dicts, lists and tuples walked, keys kept)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self.redact_tree(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_tree(item) for item in value)
        return value

    def _redact_clipped(self, text: str, names: list[str]) -> str:
        out, start = [], 0
        for end in (i for i, char in enumerate(text) if char == "…"):
            for name in names:
                size = clipped_prefix(text, end, self.values[name])
                if size and end - size >= start:
                    out.append(text[start : end - size] + placeholder(name))
                    start = end
                    break
        return "".join(out) + text[start:]

    def redact_observation(self, observation: Observation) -> Observation:
        """A copy of ``observation`` whose texts (URL, app, element texts, notes) carry no secret value."""
        if not self.values:
            return observation
        elements = [e.model_copy(update={"text": self.redact(e.text) or ""}) for e in observation.elements]
        return observation.model_copy(update={
            "url": self.redact(observation.url), "app": self.redact(observation.app), "elements": elements,
            "notes": [self.redact(note) or "" for note in observation.notes],
        })

    def log_filter(self) -> logging.Filter:
        store = self

        class _Redact(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                message = record.getMessage()
                redacted = store.redact(message)
                if redacted != message:
                    record.msg, record.args = redacted, None
                return True

        return _Redact()
