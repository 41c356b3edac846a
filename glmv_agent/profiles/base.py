"""Profile registry and shared profile plumbing (templates, notes, images)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from ..errors import ConfigError
from ..types import GenerationParams, HistoryItem, ImagePart, Platform, TextPart
from .templates import load_template

_REGISTRY: dict[str, Callable[[Path | None], object]] = {}

MODELS = ("glm-4.1v", "glm-4.5v", "autoglm-phone")


def register(key: str) -> Callable[[type], type]:
    """Class decorator: register a profile class under ``model/platform``."""

    def wrap(cls: type) -> type:
        _REGISTRY[key] = lambda prompt_dir: cls(prompt_dir=prompt_dir)
        cls.key = key
        return cls

    return wrap


def profile_keys() -> list[str]:
    return sorted(_REGISTRY)


def get_profile(key: str, prompt_dir: Path | str | None = None):  # noqa: ANN201 - returns a PromptProfile
    """The prompt profile for ``model/platform`` (e.g. ``glm-4.5v/web``); ``prompt_dir`` overrides templates."""
    if key not in _REGISTRY:
        raise ConfigError(f"no prompt profile '{key}'; available: {', '.join(profile_keys())}")
    return _REGISTRY[key](Path(prompt_dir) if prompt_dir else None)


class ProfileBase:
    """Template loading and small helpers shared by every profile."""

    key: str = ""
    platform: Platform
    # Template file -> the placeholder names render() fills in it. Every template is loaded and checked against
    # this when the profile is built, so a misspelled placeholder fails before any model call.
    templates: ClassVar[Mapping[str, frozenset[str]]] = {}

    def __init__(self, prompt_dir: Path | None = None) -> None:
        self.prompt_dir = prompt_dir
        self._loaded = {name: load_template(name, prompt_dir, names) for name, names in self.templates.items()}

    def fill(self, name: str, **values: str) -> str:
        """Template ``name`` rendered with ``values`` in one pass; substituted text is never expanded again.

        ``values`` must be exactly the names declared in ``templates`` for ``name`` (a mismatch is a bug here).
        """
        declared = self.templates[name]
        if set(values) != declared:
            raise TypeError(f"{type(self).__name__} fills {sorted(values)} into {name} but declares {sorted(declared)}")
        return self._loaded[name].render(values)

    def generation_defaults(self) -> GenerationParams:
        return GenerationParams()

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

    @staticmethod
    def executed(history: list[HistoryItem]) -> list[HistoryItem]:
        """History items that carry a parsed decision (steps the model actually took)."""
        return [item for item in history if item.decision is not None]
