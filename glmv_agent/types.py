"""Data crossing the boundaries (observations, messages, completions, decisions) and the three protocols:
Environment, Backend and PromptProfile."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, Protocol, runtime_checkable

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from .actions import Action


class Platform(str, Enum):
    MOBILE = "mobile"
    DESKTOP = "desktop"
    WEB = "web"


class WebElement(BaseModel):
    """One set-of-marks element: its label, tag, text and box in CSS pixels of the viewport."""

    model_config = ConfigDict(frozen=True)
    label: int
    tag: str
    text: str = ""
    box: tuple[float, float, float, float]
    input_type: str | None = None


class Observation(BaseModel):
    """What the agent sees at one step."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    screenshot: Image.Image
    platform: Platform
    marked_screenshot: Image.Image | None = None  # set-of-marks overlay shown to the model, when used
    url: str | None = None
    app: str | None = None
    elements: list[WebElement] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # facts the model should be told (secure screen, dialog...)

    @property
    def size(self) -> tuple[int, int]:
        return self.screenshot.size

    @property
    def model_image(self) -> Image.Image:
        """The image the model sees (the marked one in set-of-marks mode)."""
        return self.marked_screenshot if self.marked_screenshot is not None else self.screenshot


class Outcome(BaseModel):
    """What the environment did for one action."""

    pixels: list[tuple[int, int]] = Field(default_factory=list)  # executed points, in screenshot pixels
    detail: str = ""
    note: str | None = None  # told to the model on the next step (e.g. "typed via ASCII path")


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    type: Literal["image"] = "image"
    image: Image.Image


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: list[TextPart | ImagePart]

    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def images(self) -> list[Image.Image]:
        return [p.image for p in self.content if isinstance(p, ImagePart)]


class GenerationParams(BaseModel):
    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int = 4096
    thinking: bool | None = None  # None: the server's default
    stop: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Completion(BaseModel):
    text: str
    reasoning: str | None = None  # separated reasoning, when the server split it out
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    finish_reason: str | None = None

    def answer_in_reasoning(self) -> bool:
        """True when content is empty and the whole reply came as ``reasoning`` although the model stopped on its own
        (some vLLM/SGLang reasoning parsers put an untagged answer there): the action is then read from its tail."""
        return not self.text.strip() and bool((self.reasoning or "").strip()) and self.finish_reason != "length"

    def full_text(self) -> str:
        """Content with separated reasoning put back in ``<think>`` so one parser handles both shapes. When the server
        stopped on length with nothing past the reasoning, the ``<think>`` stays open: the model stopped while
        thinking, and the parsers refuse that (ThinkingCut)."""
        if self.reasoning and "<think>" not in self.text:
            if not self.text.strip() and self.finish_reason == "length":
                return f"<think>{self.reasoning}"
            return f"<think>{self.reasoning}</think>{self.text}"
        return self.text


class Decision(BaseModel):
    """A parsed model answer."""

    action: Action
    thought: str = ""
    memory: str | None = None
    action_text: str = ""  # the action as the model wrote it (box markers removed)
    answer_text: str = ""  # the visible answer without think part and box markers (history material)
    raw: str = ""


class HistoryItem(BaseModel):
    """One earlier step as prompt material."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    decision: Decision | None = None
    raw: str = ""
    error: str | None = None
    note: str | None = None
    app: str | None = None
    screenshot: Image.Image | None = None


@runtime_checkable
class Environment(Protocol):
    platform: Platform

    def observe(self) -> Observation: ...

    def execute(self, action: Any, observation: Observation) -> Outcome: ...

    def close(self) -> None: ...

    def __enter__(self) -> Environment: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class Backend(Protocol):
    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion: ...


@runtime_checkable
class PromptProfile(Protocol):
    key: str
    platform: Platform

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]: ...

    def parse(self, text: str, *, tail: bool = False) -> Decision:
        """The decision in the model's ``text``; ``tail``: the text is reasoning that must end with the action.
        Raises ParseError (ThinkingCut when the text stops inside its thinking)."""
        ...

    def generation_defaults(self) -> GenerationParams: ...
