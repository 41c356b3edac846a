"""Profile registry and shared profile plumbing (templates, notes, images)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..types import GenerationParams, HistoryItem, ImagePart, Platform, TextPart

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

    def __init__(self, prompt_dir: Path | None = None) -> None:
        self.prompt_dir = prompt_dir
        self._cache: dict[str, str] = {}

    def template(self, name: str) -> str:
        """Template text: ``prompt_dir/name`` when the user supplied it, else the packaged one."""
        if name not in self._cache:
            custom = self.prompt_dir / name if self.prompt_dir else None
            if custom is not None and custom.is_file():
                self._cache[name] = custom.read_text(encoding="utf-8")
            else:
                packaged = resources.files("glmv_agent.prompts").joinpath(name)
                self._cache[name] = packaged.read_text(encoding="utf-8")
        return self._cache[name]

    def fill(self, name: str, **values: str) -> str:
        text = self.template(name)
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        return text

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
