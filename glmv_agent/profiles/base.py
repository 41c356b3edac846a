"""Profile registry and shared profile plumbing (templates, notes, images)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from PIL import Image

from ..errors import ConfigError
from ..types import GenerationParams, HistoryItem, ImagePart, Platform, TextPart
from .templates import load_template

_REGISTRY: dict[str, type] = {}

MODELS = ("glm-4.1v", "glm-4.5v", "autoglm-phone")
# Placeholders a template must use whenever its profile fills them in (a template may leave out the others).
REQUIRED = frozenset({"task"})


def register(key: str) -> Callable[[type], type]:
    """Class decorator: register a profile class under ``model/platform``."""

    def wrap(cls: type) -> type:
        _REGISTRY[key] = cls
        cls.key = key
        return cls

    return wrap


def profile_keys() -> list[str]:
    return sorted(_REGISTRY)


def get_profile(key: str, prompt_dir: Path | str | None = None, **options: str | None):  # noqa: ANN201 - PromptProfile
    """The prompt profile for ``model/platform`` (e.g. ``glm-4.5v/web``); ``prompt_dir`` overrides templates.

    ``options`` are profile settings such as ``lang`` (AutoGLM-Phone's prompt language); None means the profile's
    default. Raises ConfigError for an unknown key, an option the profile does not take, a ``prompt_dir`` that is
    not a folder, a file in it that names no template of this profile, or a template with an unknown placeholder.
    """
    if key not in _REGISTRY:
        raise ConfigError(f"no prompt profile '{key}'; available: {', '.join(profile_keys())}")
    cls = _REGISTRY[key]
    given = {name: value for name, value in options.items() if value is not None}
    for name in given:
        if name not in cls.options:
            raise ConfigError(f"the {key} profile takes no '{name}' option")
    folder = Path(prompt_dir) if prompt_dir else None
    if folder is not None and not folder.is_dir():
        raise ConfigError(f"--prompt-dir {folder} is not a folder")
    return cls(prompt_dir=folder, **given)


def known_templates() -> list[str]:
    """Every template file name some profile reads (what a --prompt-dir may override)."""
    names: set[str] = set()
    for cls in _REGISTRY.values():
        names.update(cls.templates)
    return sorted(names)


class ProfileBase:
    """Template loading and small helpers shared by every profile."""

    key: str = ""
    platform: Platform
    # Template file -> the placeholder names render() fills in it. Every template is loaded and checked against
    # this when the profile is built, so a misspelled placeholder fails before any model call; of these, the
    # REQUIRED ones (the task) must appear in the template, or the model would never see the task.
    templates: ClassVar[Mapping[str, frozenset[str]]] = {}
    options: ClassVar[frozenset[str]] = frozenset()  # settings get_profile passes on (e.g. "lang")
    history_images: ClassVar[int] = 0  # earlier steps whose screenshot render() sends again (their thumbnails)

    def __init__(self, prompt_dir: Path | None = None) -> None:
        self.prompt_dir = prompt_dir
        self._loaded = {name: load_template(name, prompt_dir, names, names & REQUIRED)
                        for name, names in self.templates.items()}
        if prompt_dir is not None:
            self._check_prompt_dir(prompt_dir)

    def _check_prompt_dir(self, prompt_dir: Path) -> None:
        """A template-like file in ``prompt_dir`` that no profile reads is most likely a misspelled name."""
        known = set(known_templates())
        strays = sorted(p.name for p in prompt_dir.glob("*.txt") if p.name not in known)
        if strays:
            raise ConfigError(f"--prompt-dir {prompt_dir}: {', '.join(strays)} names no prompt template; "
                              f"the templates are: {', '.join(sorted(known))}")

    def fill(self, name: str, **values: str) -> str:
        """Template ``name`` rendered with ``values`` in one pass; substituted text is never expanded again.

        ``values`` must be exactly the names declared in ``templates`` for ``name`` (a mismatch is a bug here).
        """
        declared = self.templates[name]
        if set(values) != declared:
            raise TypeError(f"{type(self).__name__} fills {sorted(values)} into {name} but declares {sorted(declared)}")
        return self._loaded[name].render(values)

    def generation_defaults(self) -> GenerationParams:
        """8192 tokens, the official GLM-V agent scripts' max_tokens; the thinking closed as the model family
        writes it (GLM-4.1V: ``</think><answer>``, GLM-4.5V: ``</think>``)."""
        close = {"glm-4.1v": "</think><answer>"}.get(self.key.split("/")[0], "</think>")
        return GenerationParams(max_tokens=8192, think_close=close)

    @staticmethod
    def notes_text(notes: list[str]) -> str:
        if not notes:
            return ""
        lines = "\n".join(f"- {note}" for note in notes)
        return f"Notes from the system:\n{lines}\n"

    @staticmethod
    def text(value: str) -> TextPart:
        return TextPart(text=value)

    @staticmethod
    def image(img) -> ImagePart:  # noqa: ANN001 - PIL image
        return ImagePart(image=img)

    def history_image(self, screenshot: Image.Image) -> Image.Image | None:
        """The copy of a step's screenshot that render() sends again in later prompts (HistoryItem.thumbnail);
        None: this profile never re-sends an earlier screenshot, so none is kept in memory."""
        return None

    @staticmethod
    def executed(history: list[HistoryItem]) -> list[HistoryItem]:
        """History items that carry a parsed decision (steps the model actually took)."""
        return [item for item in history if item.decision is not None]
