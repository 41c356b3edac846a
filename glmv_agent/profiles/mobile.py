"""GLM mobile grammar (GLM-4.1V and GLM-4.5V on Android, AndroidWorld conventions).

Answer layout: ``Memory: ...  Reason: ...  Action: {"action_type": ...}``; boxes are ``[[xmin,ymin,xmax,ymax]]`` in
thousandths. History is single-turn text inside the prompt; the current screenshot comes before the text.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from ..literal import MAX_ATTEMPTS, Attempt, find_dicts, last_matches
from ..parsing import (
    as_bool,
    build_action,
    clip,
    flatten,
    ints_in,
    label_pattern,
    labelled,
    read_or_refuse,
    require_tail,
    split_reasoning,
    strip_boxes,
)
from ..types import ChatMessage, Decision, HistoryItem, Observation, Platform
from .base import ProfileBase, register

GLM41V_APPS = (
    "Google Chrome,Google Chat,Settings,YouTube,Google Play,Gmail,Google Maps,Google Photos,Google Calendar,Camera,"
    "Audio Recorder,Google Drive,Google Keep,Grubhub,Tripadvisor,Starbucks,Google Docs,Google Sheets,Google Slides,"
    "Clock,Google Search,Contacts,Facebook,WhatsApp,Instagram,Twitter,Snapchat,Telegram,LinkedIn,Spotify,Netflix,"
    "Amazon Shopping,TikTok,Discord,Reddit,Pinterest,Android World,Files,Markor,Clipper,Messages,"
    "Simple SMS Messenger,Dialer,Simple Calendar Pro,Simple Gallery Pro,Miniwob,Simple Draw Pro,Pro Expense,"
    "Broccoli,CAA,OsmAnd,Tasks,Open Tracks Sports Tracker,Joplin,VLC,Retro Music"
)
GLM45V_APPS = (
    "Google Chrome,Settings,YouTube,Camera,Audio Recorder,Clock,Contacts,Files,Markor,Simple SMS Messenger,"
    "Simple Calendar Pro,Simple Gallery Pro,Simple Draw Pro,Pro Expense,Broccoli,OsmAnd,Tasks,"
    "Open Tracks Sports Tracker,Joplin,VLC,Retro Music"
)
_NAMES = (
    "status", "answer", "click", "long_press", "input_text", "keyboard_enter", "navigate_home", "navigate_back",
    "swipe", "open_app", "wait",
)
_BOX_TYPES = ("click", "long_press", "input_text", "swipe")


def _action_dict(body: str) -> tuple[dict[str, Any], int, int]:
    """The action dict in ``body`` (box markers removed) and its span: the first ``{...}`` with an ``action_type``
    after the last ``Action:`` label outside every dict (the protocol's action position: nothing the reply writes
    after the action, a note or a memory quoting another one, is the action), else the last such dict written at
    the top level. A ``{`` that does not read counts when ``action_type`` is written after it (before the next
    ``{``). When the dict there does not read, or no dict follows that label, the reply is a ParseError: an earlier
    dict, one the reason quotes, is never executed in its place. So is a reply whose last label stands within a
    line after the last one that starts a line, each followed by a different action: the later one may be the
    action or a remark on it ("If that fails, Action: {...}"), and nothing runs on a guess."""
    tries = find_dicts(body)
    ends = [later.start for later in tries[1:]] + [len(body)]  # one more than tries when there are none
    actions = [t for t, end in zip(tries, ends, strict=False) if _is_action(t, body, end)]
    labels = [m for m in last_matches(label_pattern("Action"), body, MAX_ATTEMPTS)
              if not any(t.start <= m.start() < t.end for t in tries)]  # words inside an action are not labels
    if labels:
        chosen = _after(labels[-1], actions, body)
        _refuse_two(body, [m for m in labels if _starts_line(body, m.start())], labels[-1], actions, chosen)
        actions = [chosen]
    if not actions:
        raise ParseError(f"no {{\"action_type\": ...}} JSON action found in: {clip(body)}")
    last = actions[-1]
    return read_or_refuse(last, "the JSON action", body), last.start, last.end


def _after(label: re.Match[str], actions: list[Attempt], body: str) -> Attempt:
    """The first action dict after ``label``; ParseError when there is none."""
    following = [t for t in actions if t.start >= label.end()]
    if not following:
        raise ParseError(f"no JSON action follows the last 'Action:' label; nothing was executed: "
                         f"{clip(body[label.start() :])}")
    return following[0]


def _refuse_two(body: str, starting: list[re.Match[str]], last: re.Match[str], actions: list[Attempt],
               chosen: Attempt) -> None:
    """ParseError when the last label that starts a line comes before ``last`` (a label within a line, the one
    ``chosen`` follows) and a different action follows it."""
    if not starting or starting[-1] is last:
        return
    other = next((t for t in actions if t.start >= starting[-1].end()), chosen)
    if other is not chosen and (other.error or chosen.error or other.value != chosen.value):
        raise ParseError(f"two different actions stand where the action goes, after the last 'Action:' label that "
                         f"starts a line and after a later one within a line; nothing was executed: "
                         f"{clip(body[starting[-1].start() :])}")


# What may stand before a section label on its line: spaces of any width, markdown's bullet, quote, heading and
# emphasis marks, and a section number ("3. Action:", as the protocol's output format numbers the sections).
_LINE_PREFIX = re.compile(r"(?:[\s\u200b-\u200d\u2060\ufeff*_>#+-]|\d{1,3}[.)、．])*")


def _starts_line(body: str, index: int) -> bool:
    """Whether only what :data:`_LINE_PREFIX` allows stands between the line's start and ``index``."""
    return _LINE_PREFIX.fullmatch(body, body.rfind("\n", 0, index) + 1, index) is not None


def _is_action(attempt: Attempt, body: str, end: int) -> bool:
    if attempt.error is not None:
        return body.find("action_type", attempt.start, end) >= 0
    return isinstance(attempt.value, dict) and "action_type" in attempt.value


def _to_action(raw: dict[str, Any]):  # noqa: ANN202 - returns an Action
    name = str(raw.get("action_type", "")).strip().lower()
    if name not in _NAMES:
        raise ParseError(f"unknown action_type {name!r}; expected one of {', '.join(_NAMES)}")
    data: dict[str, Any] = {"space": "mobile", "type": name}
    for key, value in raw.items():
        if key == "action_type":
            continue
        if key == "box_2d":
            if name in _BOX_TYPES and value not in (None, "", [], [[]]):
                data["box_2d"] = _box(value)
        elif key == "override":
            data["override"] = as_bool(value)
        elif key in ("direction", "goal_status"):
            data[key] = str(value).strip().lower()
        elif key in ("text", "app_name"):
            data[key] = str(value)
    return build_action(data)


def _box(value: Any) -> list[int]:
    numbers = ints_in(value, 4, "box_2d") if len(flatten(value)) == 4 else ints_in(value, 2, "box_2d")
    return numbers if len(numbers) == 4 else numbers + numbers  # a point is a zero-size box


def parse_mobile(text: str, tail: bool = False) -> Decision:
    """Parse a GLM mobile answer (``Memory: … Reason: … Action: {…}``) into a Decision."""
    sections = split_reasoning(text)
    body = strip_boxes(sections.answer)
    raw, start, end = _action_dict(body)
    if tail:
        require_tail(body[end:])
    action = _to_action(raw)
    head = body[:start]  # the sections before the action: words inside the action's strings are not labels
    memory = labelled(head, "Memory", ("Reason", "Action"))
    return Decision(
        action=action,
        thought=labelled(head, "Reason", ("Action",)) or "",
        memory=memory,
        action_text=body[start:end],
        answer_text=body,
        raw=text,
    )


def protocol_dict(action: Any) -> dict[str, Any]:
    """The action as the model writes it (``action_type`` first, boxes doubly nested)."""
    wire = action.wire()
    out: dict[str, Any] = {"action_type": wire.pop("type")}
    for key, value in wire.items():
        out[key] = [value] if key == "box_2d" else value
    return out


class _MobileProfile(ProfileBase):
    platform = Platform.MOBILE
    placeholders = frozenset({"task", "apps", "history", "notes"})
    template_name = ""
    apps = GLM41V_APPS
    first_step_text = ""

    def __init__(self, prompt_dir=None, apps: str | None = None) -> None:  # noqa: ANN001
        super().__init__(prompt_dir)
        if apps is not None:
            self.apps = apps

    def parse(self, text: str, *, tail: bool = False) -> Decision:
        return parse_mobile(text, tail)

    def history_text(self, history: list[HistoryItem]) -> str:
        """Earlier steps as the official harnesses lay them out (GLM-4.1V and GLM-4.5V alike): ``Step i:`` from 0,
        then ``Memory:`` (``None`` when empty), ``Reason:`` and ``Action:`` with the action as a Python-dict literal.
        Before the first action, one sentence says that nothing has been done yet."""
        steps = self.executed(history)
        if not steps:
            return self.first_step_text
        lines = []
        for number, item in enumerate(steps):
            decision = item.decision
            assert decision is not None
            lines.append(
                f"Step {number}:\nMemory: {decision.memory or 'None'}\nReason: {decision.thought}\n"
                f"Action: {protocol_dict(decision.action)!r}"
            )
        return "\n".join(lines)

    def render(
        self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
    ) -> list[ChatMessage]:
        notes = [*observation.notes, *notes]
        prompt = self.fill(
            self.template_name, task=task, apps=self.apps, history=self.history_text(history),
            notes=self.notes_text(notes),
        )
        content = [self.image(observation.model_image), self.text(prompt)]
        return [ChatMessage(role="user", content=content)]


@register("glm-4.1v/mobile")
class Glm41vMobileProfile(_MobileProfile):
    template_name = "glm41v_mobile.txt"
    templates = {template_name: _MobileProfile.placeholders}
    apps = GLM41V_APPS

    first_step_text = "Nothing has been done yet; this is the first step."


@register("glm-4.5v/mobile")
class Glm45vMobileProfile(_MobileProfile):
    template_name = "glm45v_mobile.txt"
    templates = {template_name: _MobileProfile.placeholders}
    apps = GLM45V_APPS

    first_step_text = "No action has been taken yet; this is the first step."


__all__ = ["Glm41vMobileProfile", "Glm45vMobileProfile", "parse_mobile", "protocol_dict"]
