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


THINK_CLOSE = "</think>"


class GenerationParams(BaseModel):
    """Sampling and length settings of one model call, in OpenAI chat-completions terms.

    ``top_p`` and ``frequency_penalty`` are sent only when set (None: the server's default). ``max_tokens`` caps a
    reply in tokens; an answer asked for after a cut thinking gets its own allowance. ``thinking_budget``: tokens
    the model may spend thinking (from ``<think>``) before the thinking is closed with ``think_close`` and the answer
    is asked for (docs/endpoints.md, "Thinking budget"); None or 0 turns that off. ``think_close`` is what the
    profile's model family writes after thinking: ``</think>`` (GLM-4.5V) or ``</think><answer>`` (GLM-4.1V,
    AutoGLM-Phone).
    """

    temperature: float = Field(0.0, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    max_tokens: int = Field(4096, gt=0)
    thinking: bool | None = None  # None: the server's default
    thinking_budget: int | None = Field(8192, ge=0)
    think_close: str = Field(THINK_CLOSE, pattern=r"^</think>")
    stop: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 1  # requests to the model behind this completion (more when a cut thinking was answered apart)


class Completion(BaseModel):
    text: str
    reasoning: str | None = None  # separated reasoning, when the server split it out
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    finish_reason: str | None = None
    # the thinking was cut (budget or length) and closed; how the answer then came: in a continued assistant
    # message (server prefill), from a re-ask, or by generating on after the close (local backend)
    thinking_cut: Literal["continued", "reasked", "in_place"] | None = None

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
    # Only the end of the reply ended the action's last argument (web's unbracketed text, label or direction):
    # a reply the server stopped at max_tokens may have cut it (parsing.parse_completion refuses it then).
    open_end: bool = False


class HistoryItem(BaseModel):
    """One earlier step as prompt material.

    ``screenshot``: the step's full screenshot, kept only while it is the latest step (the episode drops it after,
    see :mod:`glmv_agent.history`). ``thumbnail``: the copy the profile sends again in later prompts (GLM desktop:
    half size, for the last four steps), None for profiles that never re-send a screenshot.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    decision: Decision | None = None
    raw: str = ""
    error: str | None = None
    note: str | None = None
    app: str | None = None
    screenshot: Image.Image | None = None
    thumbnail: Image.Image | None = None


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
