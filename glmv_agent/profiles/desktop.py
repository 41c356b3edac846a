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
from ..literal import read_call
from ..parsing import box_spans, build_action, clip, ints_in, split_reasoning, strip_boxes
from ..types import ChatMessage, Decision, HistoryItem, ImagePart, Observation, Platform, TextPart
from .base import ProfileBase, register

POINTER = ("left_click", "right_click", "middle_click", "hover", "left_double_click")
NAMES = (*POINTER, "left_drag", "key", "type", "scroll", "WAIT", "DONE", "FAIL")
_CALL = re.compile(r"\b(" + "|".join(NAMES) + r")\s*\(", re.IGNORECASE)
_CANON = {name.lower(): name for name in NAMES}
MAX_HISTORY_IMAGES = 4


def _find_call(text: str) -> tuple[str, list[Any], dict[str, Any], str]:
    """The last well-formed action call in ``text``: (name, args, kwargs, call text)."""
    last: tuple[str, list[Any], dict[str, Any], str] | None = None
    error: ParseError | None = None
    for match in list(_CALL.finditer(text))[-64:]:  # bounded: degenerate repetition stays cheap
        try:
            name, args, kwargs, end = read_call(text, match.start())
        except ParseError as exc:
            error = exc
            continue
        last = (_CANON[name.lower()], args, kwargs, text[match.start() : end])
    if last is None:
        detail = f" ({error})" if error else ""
        raise ParseError(f"no desktop action call like left_click(start_box='[x,y]') found{detail}: {clip(text)}")
    return last


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


def parse_desktop(text: str) -> Decision:
    sections = split_reasoning(text)
    answer = sections.answer
    body, memory = _split_memory(answer)
    candidates = [span for span in box_spans(body) if _CALL.search(span)]
    source = candidates[0] if candidates else strip_boxes(body)
    name, args, kwargs, call_text = _find_call(source)
    action = _to_action(name, args, kwargs)
    visible = strip_boxes(body)
    thought = visible.replace(call_text, "").strip() if call_text in visible else visible
    return Decision(
        action=action, thought=thought, memory=memory, action_text=call_text,
        answer_text=visible, raw=text,
    )


def _split_memory(answer: str) -> tuple[str, str | None]:
    matches = list(re.finditer(r"(?:\*\*)?\bMemory\s*(?:\*\*)?\s*[:：]", answer))
    if not matches:
        return answer, None
    cut = matches[-1]
    return answer[: cut.start()], strip_boxes(answer[cut.end() :]).strip()


def _latest_memory(history: list[HistoryItem]) -> str:
    for item in reversed(history):
        if item.decision is not None and item.decision.memory is not None:
            return item.decision.memory
    return "[]"


class _DesktopProfile(ProfileBase):
    platform = Platform.DESKTOP

    def parse(self, text: str) -> Decision:
        return parse_desktop(text)

    @staticmethod
    def recent_images(steps: list[HistoryItem]) -> list[Any]:
        """Half-size screenshots of the last (up to 4) steps, oldest first."""
        recent = steps[-MAX_HISTORY_IMAGES:]
        return [half_size(item.screenshot) for item in recent if item.screenshot is not None]


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
            if index < len(steps) - with_images or item.screenshot is None:
                current += f"\nstep {index + 1}: Screenshot:(Omitted in context.){step_line}"
                continue
            current += f"\nstep {index + 1}: Screenshot:"
            content += [self.text(current), self.image(half_size(item.screenshot))]
            current = step_line
        tail = self.fill(
            "glm45v_desktop_tail.txt", memory=_latest_memory(steps),
            notes=self.notes_text([*observation.notes, *notes]),
        )
        content += [self.text(current + tail), self.image(observation.model_image)]
        return [ChatMessage(role="user", content=content)]


__all__ = ["Glm41vDesktopProfile", "Glm45vDesktopProfile", "parse_desktop"]
