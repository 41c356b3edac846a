"""GLM desktop grammar (OSWorld conventions), also used for the browser's pixel mode.

Answer layout: free explanation, the action call ``left_click(start_box='[x,y]', element_info='')`` (normally inside
box markers), then ``Memory:`` and a JSON list. History is single-turn: GLM-4.1V puts the current screenshot first and
up to 4 half-size earlier ones after it (oldest first); GLM-4.5V interleaves the earlier ones with the history text
and puts the current screenshot last.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from ..imaging import half_size
from ..literal import Call, find_calls
from ..parsing import (
    before_memory,
    box_ranges,
    build_action,
    clip,
    ints_in,
    label_pattern,
    read_or_refuse,
    require_tail,
    split_reasoning,
    strip_boxes,
)
from ..types import ChatMessage, Decision, HistoryItem, ImagePart, Observation, Platform, TextPart
from .base import ProfileBase, register

POINTER = ("left_click", "right_click", "middle_click", "hover", "left_double_click")
NAMES = (*POINTER, "left_drag", "key", "type", "scroll", "WAIT", "DONE", "FAIL")
_CALL = re.compile(r"\b(" + "|".join(NAMES) + r")\s*\(", re.IGNORECASE)
_CANON = {name.lower(): name for name in NAMES}
_MEMORY = re.compile(r"(?:\*\*)?\bMemory\s*(?:\*\*\s*)?[:：]")
_THOUGHT_LABEL = re.compile(r"^(?:\*\*)?Thought\s*(?:\*\*\s*)?[:：]\s*", re.IGNORECASE)
_ACTION_LABEL = re.compile(r"(?:\*\*)?\bAction\s*(?:\*\*\s*)?[:：]\s*$", re.IGNORECASE)
# The call a box holds (perhaps quoted, in a code fence or after its own "Action:"), and the one right after the
# label: "Action: press_enter()" or "**Action:** `press_enter()`", not "Action: Click (OK)".
_MARKS = r"\s|\*\*|`(?:``\w*)?"  # spaces, bold, backticks and code fences around a call
_BOXED_CALL = re.compile(rf"(?:{_MARKS}|[\"']|Action\s*[:：])*([A-Za-z_][\w.]*)\s*\(", re.IGNORECASE)
_LABELLED_CALL = re.compile(rf"(?:{_MARKS})*([A-Za-z_][\w.]*)\(")
MAX_HISTORY_IMAGES = 4


def _choose_call(answer: str) -> tuple[Call, re.Match[str] | None]:
    """The action call and the ``Memory:`` label after it (None when there is no memory section).

    Calls quoted inside another call's argument do not count, nor calls the memory section holds (see
    :func:`before_memory`: its label is the last ``Memory:`` after the first call, outside every call and outside
    the JSON list after an earlier one). Of the calls before it, the last one inside box markers is the action, else
    the last one. When the call there cannot be read (cut off, malformed), or the last box before the memory holds
    no call, the reply is a ParseError: an earlier call, one the explanation mentions, is never executed in its
    place.
    """
    tries = find_calls(answer, _CALL)
    if not tries:
        _refuse_unknown(answer, len(answer), tries)
        raise ParseError(f"no desktop action call like left_click(start_box='[x,y]') found: {clip(answer)}")
    before, label = before_memory(answer, tries, _MEMORY)
    _refuse_unknown(answer, label.start() if label else len(answer), tries)
    boxes = [(start, end) for start, end in box_ranges(answer) if label is None or start < label.start()]
    boxed = [t for t in before if any(start <= t.start < end for start, end in boxes)]
    chosen = (boxed or before)[-1]
    value = read_or_refuse(chosen, "the desktop action call", answer)
    if boxes and boxes[-1][0] > chosen.start:  # the last box, where the action goes, holds no call (cut short)
        raise ParseError(f"the boxed action is not a call like left_click(start_box='[x,y]'); nothing was "
                         f"executed: {clip(answer[boxes[-1][0] :])}")
    return value, label


def _refuse_unknown(answer: str, end: int, calls: list[Any]) -> None:
    """Raise ParseError naming the call where the action goes (the last box before ``end``, else right after the last
    ``Action:`` label before it) when that call is none of the desktop actions: ``rm_rf`` in
    ``<|begin_of_box|>rm_rf('/')<|end_of_box|>``. A known call elsewhere (a remark, "if that fails, left_click(...)")
    never runs in its place. Labels inside a call's arguments do not count."""
    boxes = [start for start, _ in box_ranges(answer[:end])]
    labels = [m.end() for m in label_pattern("Action").finditer(answer, 0, end)
              if not any(c.start <= m.start() < c.end for c in calls)]
    if boxes:
        found = _BOXED_CALL.match(answer, boxes[-1])
    elif labels:
        found = _LABELLED_CALL.match(answer, labels[-1])
    else:
        return
    if found and found.group(1).lower() not in _CANON:
        raise ParseError(f"unknown desktop action {found.group(1)!r}; expected one of {', '.join(NAMES)}; nothing was "
                         f"executed: {clip(answer[found.start(1) :])}")


def _point(value: Any, what: str) -> list[int]:
    numbers = ints_in(value, 4, what) if len(re.findall(r"-?\d+", str(value))) == 4 else ints_in(value, 2, what)
    if len(numbers) == 4:  # a box: act at its centre
        return [(numbers[0] + numbers[2]) // 2, (numbers[1] + numbers[3]) // 2]
    return numbers


def _to_action(name: str, args: list[Any], kwargs: dict[str, Any]):  # noqa: ANN202 - returns an Action
    data: dict[str, Any] = {"space": "desktop", "type": name}
    if args and name in ("key", "type"):
        kwargs = {("keys" if name == "key" else "content"): args[0], **kwargs}
    elif args and name not in ("WAIT", "DONE", "FAIL"):
        kwargs = {"start_box": args[0], **kwargs}
    for key, value in kwargs.items():
        if key in ("start_box", "end_box"):
            data[key] = _point(value, key)
        elif key in ("keys", "key"):
            data["keys"] = str(value)
        elif key in ("content", "text"):
            data["content"] = str(value)
        elif key == "direction":
            data["direction"] = str(value).strip().lower()
        elif key == "step":
            data["step"] = ints_in([value], 1, "step")[0]
        elif key == "element_info" and value not in (None, ""):
            data["element_info"] = str(value)
    return build_action(data)


def parse_desktop(text: str, tail: bool = False) -> Decision:
    """Parse a GLM desktop reply: explanation, the action call (usually boxed), then ``Memory:`` and a JSON list."""
    sections = split_reasoning(text)
    answer = sections.answer
    call, label = _choose_call(answer)
    if tail:
        require_tail(answer[call.end :])
    action = _to_action(_CANON[call.name.lower()], call.args, call.kwargs)
    body_end = label.start() if label else len(answer)
    memory = strip_boxes(answer[label.end() :]) if label else None
    thought = _THOUGHT_LABEL.sub("", strip_boxes(answer[: call.start]))
    thought = _ACTION_LABEL.sub("", thought).strip()
    after = strip_boxes(answer[call.end : body_end])
    thought = f"{thought}\n{after}".strip() if after else thought
    return Decision(
        action=action, thought=thought, memory=memory, action_text=strip_boxes(answer[call.start : call.end]),
        answer_text=strip_boxes(answer[:body_end]), raw=text,
    )


def _latest_memory(history: list[HistoryItem]) -> str:
    for item in reversed(history):
        if item.decision is not None and item.decision.memory is not None:
            return item.decision.memory
    return "[]"


def _thumbnail(item: HistoryItem) -> Any:
    """The half-size screenshot of an earlier step: kept by the episode, or made from a full screenshot a caller
    put on the item; None when neither is there."""
    if item.thumbnail is not None:
        return item.thumbnail
    return half_size(item.screenshot) if item.screenshot is not None else None


class _DesktopProfile(ProfileBase):
    platform = Platform.DESKTOP
    history_images = MAX_HISTORY_IMAGES

    def parse(self, text: str, *, tail: bool = False) -> Decision:
        return parse_desktop(text, tail)

    def history_image(self, screenshot: Any) -> Any:
        """Half size: what the GLM desktop protocol sends for each of the last four steps."""
        return half_size(screenshot)

    @staticmethod
    def recent_images(steps: list[HistoryItem]) -> list[Any]:
        """Half-size screenshots of the last (up to 4) steps, oldest first."""
        thumbnails = [_thumbnail(item) for item in steps[-MAX_HISTORY_IMAGES:]]
        return [image for image in thumbnails if image is not None]


@register("glm-4.1v/desktop")
class Glm41vDesktopProfile(_DesktopProfile):
    templates = {"glm41v_desktop.txt": frozenset({"task", "history", "notes"})}

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]:
        steps = self.executed(history)
        history_text = ""
        if steps:
            lines = [f"step {n}: {item.decision.thought}\n{item.decision.action_text}"  # type: ignore[union-attr]
                     for n, item in enumerate(steps, start=1)]
            history_text = "History actions:\n" + "\n".join(lines) + f"\nMemory:\n{_latest_memory(steps)}"
        prompt = self.fill(
            "glm41v_desktop.txt", task=task, history=history_text,
            notes=self.notes_text([*observation.notes, *notes]),
        ).rstrip("\n")
        images = [self.image(observation.model_image)] + [self.image(i) for i in self.recent_images(steps)]
        return [ChatMessage(role="user", content=[*images, self.text(prompt)])]


@register("glm-4.5v/desktop")
class Glm45vDesktopProfile(_DesktopProfile):
    templates = {
        "glm45v_desktop_head.txt": frozenset({"task", "action_space"}),
        "glm45v_desktop_actions.txt": frozenset(),
        "glm45v_desktop_tail.txt": frozenset({"memory", "notes"}),
    }

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]:
        steps = self.executed(history)
        head = self.fill("glm45v_desktop_head.txt", task=task, action_space=self.fill("glm45v_desktop_actions.txt"))
        content: list[TextPart | ImagePart] = []
        current = head.rstrip("\n")
        with_images = min(MAX_HISTORY_IMAGES, len(steps))
        for index, item in enumerate(steps):
            decision = item.decision
            assert decision is not None
            step_line = f" Thought: {decision.thought}\nAction: {decision.action_text}"
            thumbnail = _thumbnail(item) if index >= len(steps) - with_images else None
            if thumbnail is None:
                current += f"\nstep {index + 1}: Screenshot:(Omitted in context.){step_line}"
                continue
            current += f"\nstep {index + 1}: Screenshot:"
            content += [self.text(current), self.image(thumbnail)]
            current = step_line
        tail = self.fill(
            "glm45v_desktop_tail.txt", memory=_latest_memory(steps),
            notes=self.notes_text([*observation.notes, *notes]),
        )
        content += [self.text(current + tail), self.image(observation.model_image)]
        return [ChatMessage(role="user", content=content)]


__all__ = ["Glm41vDesktopProfile", "Glm45vDesktopProfile", "parse_desktop"]
