"""What each GLM mobile and AutoGLM-Phone action does on the phone.

Coordinates are thousandths of the screenshot the model saw (observation.size); boxes act at their centre.
GLM ``swipe`` directions name the finger's movement ("up": bottom to top, revealing content further down); the
stroke runs from 80 % to 20 % of the region (the box, or the whole screen: starting inside the edges keeps
gesture navigation from taking it). ``input_text`` taps the field, clears it when ``override``, types, then
presses Enter, as the protocol describes. AutoGLM's ``Type`` replaces the focused field's text, without Enter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Protocol

from glmv_agent.errors import StepError
from glmv_agent.geometry import box_center, box_to_pixels, point_to_pixels
from glmv_agent.types import Observation, Outcome

from .config import MobileConfig
from .launcher import Launcher
from .text_input import KEY_BACK, KEY_ENTER, KEY_HOME, Input


class Phone(Protocol):
    """What an action handler uses of the phone environment (MobileEnvironment provides it)."""

    config: MobileConfig
    input: Input
    launcher: Launcher

    def sleep(self, seconds: float) -> None: ...

    def takeover(self, message: str) -> Any: ...

    def to_device(self, point: tuple[int, int], observation: Observation) -> tuple[int, int]:
        """Screenshot pixels to the device pixels input commands take."""
        ...


Handler = Callable[[Phone, Any, Observation], Outcome]
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(space: str, *names: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for name in names:
            HANDLERS[(space, name)] = function
        return function

    return register


def _tap_point(env: Phone, pixel: tuple[int, int], observation: Observation) -> tuple[int, int]:
    return env.to_device(pixel, observation)


def swipe_stroke(region: tuple[int, int, int, int], direction: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Start and end of a finger moving ``direction`` across ``region`` (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = region
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    near_x, far_x = x1 + round((x2 - x1) * 0.2), x1 + round((x2 - x1) * 0.8)
    near_y, far_y = y1 + round((y2 - y1) * 0.2), y1 + round((y2 - y1) * 0.8)
    strokes = {
        "up": ((cx, far_y), (cx, near_y)),
        "down": ((cx, near_y), (cx, far_y)),
        "left": ((far_x, cy), (near_x, cy)),
        "right": ((near_x, cy), (far_x, cy)),
    }
    return strokes[direction]


# --- GLM mobile ----------------------------------------------------------------------------------------------


@handles("mobile", "click")
def click(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(box_center(action.box_2d), observation.size)
    env.input.tap(*_tap_point(env, pixel, observation))
    return Outcome(pixels=[pixel], detail=f"tap at {pixel}")


@handles("mobile", "long_press")
def long_press(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(box_center(action.box_2d), observation.size)
    env.input.long_press(*_tap_point(env, pixel, observation), env.config.long_press_ms)
    return Outcome(pixels=[pixel], detail=f"long press at {pixel} ({env.config.long_press_ms} ms)")


@handles("mobile", "input_text")
def input_text(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(box_center(action.box_2d), observation.size)
    env.input.tap(*_tap_point(env, pixel, observation))
    env.sleep(env.config.focus_delay_s)  # let the field take focus and the keyboard come up
    how = env.input.type_text(action.text, clear=action.override)
    env.input.key(KEY_ENTER)
    cleared = "cleared, " if action.override else ""
    return Outcome(pixels=[pixel], detail=f"tap at {pixel}, {cleared}typed {len(action.text)} characters "
                                          f"({how}), Enter")


@handles("mobile", "keyboard_enter")
def keyboard_enter(env: Phone, action: Any, observation: Observation) -> Outcome:
    env.input.key(KEY_ENTER)
    return Outcome(detail="Enter")


@handles("mobile", "navigate_home")
@handles("autoglm", "Home")
def home(env: Phone, action: Any, observation: Observation) -> Outcome:
    env.input.key(KEY_HOME)
    return Outcome(detail="Home")


@handles("mobile", "navigate_back")
@handles("autoglm", "Back")
def back(env: Phone, action: Any, observation: Observation) -> Outcome:
    env.input.key(KEY_BACK)
    return Outcome(detail="Back")


@handles("mobile", "swipe")
def swipe(env: Phone, action: Any, observation: Observation) -> Outcome:
    width, height = observation.size
    region = box_to_pixels(action.box_2d, observation.size) if action.box_2d else (0, 0, width - 1, height - 1)
    start, end = swipe_stroke(region, action.direction)
    env.input.swipe(_tap_point(env, start, observation), _tap_point(env, end, observation), env.config.swipe_ms)
    where = "the box" if action.box_2d else "the screen"
    return Outcome(pixels=[start, end], detail=f"swipe {action.direction} over {where}: {start} -> {end}")


@handles("mobile", "open_app")
@handles("autoglm", "Launch")
def open_app(env: Phone, action: Any, observation: Observation) -> Outcome:
    name = action.app_name if action.space == "mobile" else action.app
    return Outcome(detail=env.launcher.launch(name))


@handles("mobile", "wait")
def wait(env: Phone, action: Any, observation: Observation) -> Outcome:
    env.sleep(env.config.wait_seconds)
    return Outcome(detail=f"waited {env.config.wait_seconds:g} s")


@handles("mobile", "answer")
def answer(env: Phone, action: Any, observation: Observation) -> Outcome:
    return Outcome(detail=f"answer: {action.text}")


@handles("mobile", "status")
@handles("autoglm", "finish")
def finish(env: Phone, action: Any, observation: Observation) -> Outcome:
    return Outcome(detail="episode end (nothing sent to the phone)")


# --- AutoGLM-Phone -------------------------------------------------------------------------------------------


@handles("autoglm", "Tap")
def tap(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(action.element, observation.size)
    env.input.tap(*_tap_point(env, pixel, observation))
    return Outcome(pixels=[pixel], detail=f"tap at {pixel}" + (f" ({action.message})" if action.message else ""))


@handles("autoglm", "Double Tap")
def double_tap(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(action.element, observation.size)
    env.input.double_tap(*_tap_point(env, pixel, observation), env.config.double_tap_interval_s)
    return Outcome(pixels=[pixel], detail=f"double tap at {pixel} ({env.config.double_tap_interval_s:g} s apart)")


@handles("autoglm", "Long Press")
def long_press_at(env: Phone, action: Any, observation: Observation) -> Outcome:
    pixel = point_to_pixels(action.element, observation.size)
    held = env.config.autoglm_long_press_ms
    env.input.long_press(*_tap_point(env, pixel, observation), held)
    return Outcome(pixels=[pixel], detail=f"long press at {pixel} ({held} ms)")


@handles("autoglm", "Swipe")
def swipe_stroke_action(env: Phone, action: Any, observation: Observation) -> Outcome:
    start = point_to_pixels(action.start, observation.size)
    end = point_to_pixels(action.end, observation.size)
    distance_sq = (start[0] - end[0]) ** 2 + (start[1] - end[1]) ** 2
    duration = max(1000, min(2000, distance_sq // 1000))  # Open-AutoGLM's timing, which the model was tuned on
    env.input.swipe(_tap_point(env, start, observation), _tap_point(env, end, observation), duration)
    return Outcome(pixels=[start, end], detail=f"swipe {start} -> {end} ({duration} ms)")


@handles("autoglm", "Type", "Type_Name")
def type_text(env: Phone, action: Any, observation: Observation) -> Outcome:
    how = env.input.type_text(action.text, clear=True)
    return Outcome(detail=f"replaced the focused field's text with {len(action.text)} characters ({how})")


@handles("autoglm", "Wait")
def phone_wait(env: Phone, action: Any, observation: Observation) -> Outcome:
    seconds = parse_duration(action.duration, default=env.config.wait_seconds)
    seconds = min(seconds, env.config.max_wait_seconds)
    env.sleep(seconds)
    return Outcome(detail=f"waited {seconds:g} s")


@handles("autoglm", "Take_over", "Interact")
def take_over(env: Phone, action: Any, observation: Observation) -> Outcome:
    message = action.message or "the agent needs your help on the phone"
    env.takeover(message)
    return Outcome(detail=f"handed over to the person: {message}",
                   note="The person finished the manual step you asked for; continue from the current screen.")


@handles("autoglm", "Note", "Call_API")
def note(env: Phone, action: Any, observation: Observation) -> Outcome:
    return Outcome(detail=f"{action.type}: the agent handles it (nothing sent to the phone)")


QUIET: frozenset[tuple[str, str]] = frozenset({
    ("mobile", "answer"), ("mobile", "status"), ("autoglm", "finish"), ("autoglm", "Note"), ("autoglm", "Call_API"),
})  # actions that send nothing to the phone: no need to wait for its screen afterwards


def parse_duration(text: str | None, default: float) -> float:
    """'2 seconds', '1.5s', '500 ms', '3' -> seconds; StepError for anything else."""
    if text is None or not text.strip():
        return default
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)?\s*", text.lower())
    if not match or not math.isfinite(float(match.group(1))):
        raise StepError(f"cannot read the wait duration {text!r}; write it like \"2 seconds\"")
    value = float(match.group(1))
    return value / 1000 if (match.group(2) or "").startswith("m") else value
