"""The typed action union: every action of every supported GLM agent protocol.

Each action keeps the protocol's own name in ``type`` (``click``, ``left_click``, ``Click``, ``Tap``...) and the
protocol's own argument names. Coordinates stay in model space: integers in thousandths of the screenshot the model
saw (the protocols say 0-999; one GLM-4.1V prompt says 0-1000, so 1000 is accepted as the far edge). Environments
turn them into pixels with :func:`glmv_agent.geometry.to_pixel`.

``space`` tells which grammar an action belongs to, because two grammars share names (web ``Type`` and AutoGLM
``Type`` take different arguments).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

MODEL_MAX = 1000
Coord = Annotated[int, Field(ge=0, le=MODEL_MAX)]
Point = tuple[Coord, Coord]


def _ordered_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    if x1 > x2 or y1 > y2:
        raise ValueError(f"box {list(box)} has its corners swapped (need xmin<=xmax, ymin<=ymax)")
    return box


Box = Annotated[tuple[Coord, Coord, Coord, Coord], AfterValidator(_ordered_box)]


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The action as the protocol writes it: ``{"type": name, **arguments}``, without ``space``."""
        data = self.model_dump(mode="json", exclude={"space"}, exclude_none=True)
        return data


# --- GLM mobile grammar (GLM-4.1V / GLM-4.5V, AndroidWorld conventions) -----------------------------------


class _Mobile(_Action):
    space: Literal["mobile"] = "mobile"


class Status(_Mobile):
    type: Literal["status"] = "status"
    goal_status: Literal["complete", "infeasible"]


class Answer(_Mobile):
    type: Literal["answer"] = "answer"
    text: str


class Click(_Mobile):
    type: Literal["click"] = "click"
    box_2d: Box


class LongPress(_Mobile):
    type: Literal["long_press"] = "long_press"
    box_2d: Box


class InputText(_Mobile):
    type: Literal["input_text"] = "input_text"
    text: str
    box_2d: Box
    override: bool = False


class KeyboardEnter(_Mobile):
    type: Literal["keyboard_enter"] = "keyboard_enter"


class NavigateHome(_Mobile):
    type: Literal["navigate_home"] = "navigate_home"


class NavigateBack(_Mobile):
    type: Literal["navigate_back"] = "navigate_back"


class Swipe(_Mobile):
    """``direction`` is where the finger moves: ``up`` reveals content further down."""

    type: Literal["swipe"] = "swipe"
    direction: Literal["up", "down", "left", "right"]
    box_2d: Box | None = None


class OpenApp(_Mobile):
    type: Literal["open_app"] = "open_app"
    app_name: str


class MobileWait(_Mobile):
    type: Literal["wait"] = "wait"


MobileAction = Annotated[
    Union[
        Status, Answer, Click, LongPress, InputText, KeyboardEnter, NavigateHome, NavigateBack, Swipe, OpenApp,
        MobileWait,
    ],
    Field(discriminator="type"),
]

# --- GLM desktop grammar (OSWorld conventions; also the web "pixel" mode) ---------------------------------


class _Desktop(_Action):
    space: Literal["desktop"] = "desktop"


class PointerAction(_Desktop):
    type: Literal["left_click", "right_click", "middle_click", "hover", "left_double_click"]
    start_box: Point
    element_info: str | None = None


class LeftDrag(_Desktop):
    type: Literal["left_drag"] = "left_drag"
    start_box: Point
    end_box: Point
    element_info: str | None = None


class Key(_Desktop):
    type: Literal["key"] = "key"
    keys: str = Field(min_length=1)


class TypeContent(_Desktop):
    type: Literal["type"] = "type"
    content: str


class Scroll(_Desktop):
    type: Literal["scroll"] = "scroll"
    start_box: Point
    direction: Literal["up", "down"]
    step: int = Field(default=5, ge=1, le=100)
    element_info: str | None = None


class DesktopWait(_Desktop):
    type: Literal["WAIT"] = "WAIT"


class Done(_Desktop):
    type: Literal["DONE"] = "DONE"


class Fail(_Desktop):
    type: Literal["FAIL"] = "FAIL"


DesktopAction = Annotated[
    Union[PointerAction, LeftDrag, Key, TypeContent, Scroll, DesktopWait, Done, Fail],
    Field(discriminator="type"),
]

# --- GLM web grammar (WebVoyager set-of-marks) -------------------------------------------------------------


class _Web(_Action):
    space: Literal["web"] = "web"


class WebClick(_Web):
    type: Literal["Click"] = "Click"
    label: int = Field(ge=0)


class WebType(_Web):
    """Clear the element, type ``content``, press Enter (the protocol's Type)."""

    type: Literal["Type"] = "Type"
    label: int = Field(ge=0)
    content: str


class WebScroll(_Web):
    type: Literal["Scroll"] = "Scroll"
    target: int | Literal["WINDOW"] = "WINDOW"
    direction: Literal["up", "down"]


class WebWait(_Web):
    type: Literal["Wait"] = "Wait"


class GoBack(_Web):
    type: Literal["GoBack"] = "GoBack"


class SearchEngine(_Web):
    """The protocol's ``Bing`` action: jump to the search engine's start page (URL configurable)."""

    type: Literal["Bing"] = "Bing"


class WebAnswer(_Web):
    type: Literal["ANSWER"] = "ANSWER"
    content: str


class WebKey(_Web):
    type: Literal["Key"] = "Key"
    key: str = Field(min_length=1)


WebAction = Annotated[
    Union[WebClick, WebType, WebScroll, WebWait, GoBack, SearchEngine, WebAnswer, WebKey],
    Field(discriminator="type"),
]

# --- AutoGLM-Phone grammar (do(action=...) / finish(message=...)) ------------------------------------------


class _Autoglm(_Action):
    space: Literal["autoglm"] = "autoglm"


class Tap(_Autoglm):
    type: Literal["Tap"] = "Tap"
    element: Point
    message: str | None = None


class DoubleTap(_Autoglm):
    type: Literal["Double Tap"] = "Double Tap"
    element: Point


class LongPressAt(_Autoglm):
    type: Literal["Long Press"] = "Long Press"
    element: Point


class SwipeStroke(_Autoglm):
    type: Literal["Swipe"] = "Swipe"
    start: Point
    end: Point


class TypeText(_Autoglm):
    """AutoGLM's Type (and Type_Name): replaces the focused field's text."""

    type: Literal["Type", "Type_Name"] = "Type"
    text: str


class Launch(_Autoglm):
    type: Literal["Launch"] = "Launch"
    app: str


class Back(_Autoglm):
    type: Literal["Back"] = "Back"


class Home(_Autoglm):
    type: Literal["Home"] = "Home"


class PhoneWait(_Autoglm):
    type: Literal["Wait"] = "Wait"
    duration: str | None = None


class TakeOver(_Autoglm):
    """Hand the phone to the person (login, captcha) and resume when they say so."""

    type: Literal["Take_over", "Interact"] = "Take_over"
    message: str | None = None


class Note(_Autoglm):
    """``Note``: keep the current page for later; ``Call_API``: answer ``instruction`` from the kept pages with a
    model call. The agent does both (see AGENT_TYPES); the device is not involved."""

    type: Literal["Note", "Call_API"] = "Note"
    message: str | None = None
    instruction: str | None = None


class Finish(_Autoglm):
    type: Literal["finish"] = "finish"
    message: str = ""


AutoglmAction = Annotated[
    Union[Tap, DoubleTap, LongPressAt, SwipeStroke, TypeText, Launch, Back, Home, PhoneWait, TakeOver, Note, Finish],
    Field(discriminator="type"),
]


def _space_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("space")
    return getattr(value, "space", None)


Action = Annotated[
    Union[
        Annotated[MobileAction, Tag("mobile")],
        Annotated[DesktopAction, Tag("desktop")],
        Annotated[WebAction, Tag("web")],
        Annotated[AutoglmAction, Tag("autoglm")],
    ],
    Discriminator(_space_of),
]

TERMINAL_TYPES = frozenset({Status, Done, Fail, WebAnswer, Finish})
AGENT_TYPES = frozenset({"Note", "Call_API"})  # AutoGLM actions the agent performs itself: no device involved


def is_terminal(action: _Action) -> bool:
    """True for the actions that end an episode (status, DONE/FAIL, ANSWER, finish)."""
    return type(action) in TERMINAL_TYPES


def outcome_of(action: _Action) -> tuple[str, str | None]:
    """(status, answer) for a terminal action: status is ``complete`` or ``infeasible``."""
    if isinstance(action, Status):
        return action.goal_status, None
    if isinstance(action, Fail):
        return "infeasible", None
    if isinstance(action, WebAnswer):
        return "complete", action.content
    if isinstance(action, Finish):
        return "complete", action.message or None
    return "complete", None
