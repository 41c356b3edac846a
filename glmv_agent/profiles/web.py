"""GLM web grammar (WebVoyager set-of-marks).

Answer layout: ``Thought: ... Action: Click [3] Memory_Updated: {...}``; GLM-4.1V wraps it in ``<answer>``. The
screenshot carries numbered labels; the element list text and the last 15 history lines are in the prompt.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import ParseError
from ..parsing import box_spans, build_action, clip, labelled, split_reasoning, strip_boxes
from ..types import ChatMessage, Decision, HistoryItem, Observation, Platform, WebElement
from .base import ProfileBase, register

MAX_HISTORY = 15
_TEXTBOX_TAGS = ("input", "textarea", "button", "select")
_LABEL = r"\[?\s*(\d+)\s*\]?"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("Click", re.compile(rf"^click\s*{_LABEL}", re.IGNORECASE)),
    ("Type", re.compile(rf"^type\s*{_LABEL}\s*[;；,]\s*(.*)$", re.IGNORECASE | re.DOTALL)),
    ("Scroll", re.compile(r"^scroll\s*\[?\s*(\d+|window)\s*\]?\s*[;；,]\s*\[?\s*(up|down)\s*\]?", re.IGNORECASE)),
    ("ANSWER", re.compile(r"^answer\s*[;；:,]?\s*(.*)$", re.IGNORECASE | re.DOTALL)),
    ("Key", re.compile(r"^key\s*[;；:,]\s*(.*)$", re.IGNORECASE | re.DOTALL)),
    ("GoBack", re.compile(r"^go\s*back\b", re.IGNORECASE)),
    ("Wait", re.compile(r"^wait\b", re.IGNORECASE)),
    ("Bing", re.compile(r"^(?:bing|google)\b", re.IGNORECASE)),
]


def _unbracket(value: str) -> str:
    """``[5$]`` -> ``5$``; tolerates the trailing period of the documented examples (``[5$].``)."""
    value = value.strip()
    if value.endswith("]."):
        value = value[:-1]
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return value


def _answer_content(raw: str) -> str:
    match = re.search(r"<content>(.*?)(?:</content>|$)", raw, re.DOTALL)
    if match:
        return match.group(1).strip()
    return _unbracket(raw)


def parse_action_line(line: str):  # noqa: ANN201 - returns an Action
    """Parse one set-of-marks action string such as ``Type [2]; [5$]``."""
    text = line.strip().strip("`").strip()
    for name, pattern in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        data: dict[str, Any] = {"space": "web", "type": name}
        if name == "Click":
            data["label"] = int(match.group(1))
        elif name == "Type":
            data.update(label=int(match.group(1)), content=_unbracket(match.group(2)))
        elif name == "Scroll":
            target = match.group(1)
            data["target"] = "WINDOW" if target.lower() == "window" else int(target)
            data["direction"] = match.group(2).lower()
        elif name == "ANSWER":
            data["content"] = _answer_content(match.group(1))
        elif name == "Key":
            data["key"] = _unbracket(match.group(1))
        return build_action(data)
    raise ParseError(f"not a set-of-marks action (Click [n], Type [n]; [text], Scroll, ANSWER...): {clip(text)}")


def parse_web(text: str) -> Decision:
    sections = split_reasoning(text)
    answer = sections.answer
    action_text = None
    for span in box_spans(answer):
        try:
            action = parse_action_line(span)
            action_text = span
            break
        except ParseError:
            continue
    else:
        body = strip_boxes(answer)
        action_text = labelled(body, "Action", ("Memory_Updated", "Memory", "Thought"))
        if action_text is None:
            raise ParseError(f"no 'Action:' line found: {clip(body)}")
        if not action_text.lower().startswith(("answer", "type")):  # multi-line content only for these two
            action_text = action_text.split("\n")[0]
        action = parse_action_line(action_text)
    body = strip_boxes(answer)
    thought = labelled(body, "Thought", ("Action", "Memory_Updated")) or ""
    memory = labelled(body, "Memory_Updated", ())
    return Decision(
        action=action, thought=thought, memory=memory, action_text=action_text.strip(), answer_text=body, raw=text
    )


def elements_text(elements: list[WebElement]) -> str:
    """The protocol's element listing: ``[i]: <tag> "text";`` for form controls, ``[i]: "text";`` otherwise."""
    parts = []
    for element in elements:
        text = element.text.strip()
        if element.tag in _TEXTBOX_TAGS:
            parts.append(f'[{element.label}]: <{element.tag}> "{text}";')
        elif text:
            parts.append(f'[{element.label}]: "{text}";')
    return "\t".join(parts)


def history_lines(history: list[HistoryItem]) -> str:
    steps = [item for item in history if item.decision is not None][-MAX_HISTORY:]
    lines = []
    for index, item in enumerate(steps):
        decision = item.decision
        assert decision is not None
        observation = item.error or item.note or "Success"
        lines.append(f"{index}.Thought:{decision.thought}\tAction:{decision.action_text}\tObservation:{observation}")
    return "\n".join(lines) + ("\n" if lines else "")


def _memory(history: list[HistoryItem]) -> str:
    for item in reversed(history):
        if item.decision is not None and item.decision.memory:
            return item.decision.memory
    return "{}"


class _WebProfile(ProfileBase):
    platform = Platform.WEB
    placeholders = frozenset({"task", "site", "time", "history", "memory", "elements", "notes"})
    template_name = ""

    def parse(self, text: str) -> Decision:
        return parse_web(text)

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]:
        prompt = self.fill(
            self.template_name, task=task, site=observation.url or "the current website",
            time=beijing_time(), history=history_lines(history),
            memory=_memory(history), elements=elements_text(observation.elements),
            notes=self.notes_text([*observation.notes, *notes]),
        ).strip()
        return [ChatMessage(role="user", content=[self.image(observation.model_image), self.text(prompt)])]


def beijing_time(now: datetime | None = None) -> str:
    """The web prompts' "current time in Beijing": the hour in Asia/Shanghai whatever the machine's zone."""
    moment = (now or datetime.now(tz=ZoneInfo("UTC"))).astimezone(ZoneInfo("Asia/Shanghai"))
    return moment.strftime("%Y-%m-%d, %I:00 %p")


@register("glm-4.1v/web")
class Glm41vWebProfile(_WebProfile):
    template_name = "glm41v_web.txt"
    templates = {template_name: _WebProfile.placeholders}


@register("glm-4.5v/web")
class Glm45vWebProfile(_WebProfile):
    template_name = "glm45v_web.txt"
    templates = {template_name: _WebProfile.placeholders}


__all__ = ["Glm41vWebProfile", "Glm45vWebProfile", "elements_text", "parse_action_line", "parse_web"]
