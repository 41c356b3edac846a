"""GLM web grammar (WebVoyager set-of-marks).

Answer layout: ``Thought: ... Action: Click [3] Memory_Updated: {...}``; GLM-4.1V wraps it in ``<answer>``. The
screenshot carries numbered labels; the element list text and the last 15 history lines are in the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ..errors import ParseError, UnfinishedAction
from ..literal import attempts, last_matches
from ..parsing import (
    BOX_CLOSE,
    BOX_OPEN,
    MEMORY_LABEL,
    before_memory,
    box_ranges,
    build_action,
    clip,
    label_pattern,
    labelled,
    require_tail,
    split_reasoning,
    strip_boxes,
)
from ..types import ChatMessage, Decision, HistoryItem, Observation, Platform, WebElement
from .base import ProfileBase, register

MAX_HISTORY = 15
MAX_CONTENT = 20_000  # characters one typed text or answer may span
_TEXTBOX_TAGS = ("input", "textarea", "button", "select")
_LEAD = re.compile(r"[\s`*]*(?:" + BOX_OPEN.pattern + r"[\s`*]*)?", re.IGNORECASE)
_VERB = re.compile(r"(click|type|scroll|answer|key|go[ \t]*back|wait|bing|google)\b", re.IGNORECASE)
_VERBS = {"click": "Click", "type": "Type", "scroll": "Scroll", "answer": "ANSWER", "key": "Key", "goback": "GoBack",
          "wait": "Wait", "bing": "Bing", "google": "Bing"}
_LABEL = re.compile(r"[ \t]*(?:\[[ \t]*(\d+)[ \t]*\]|(\d+))")  # an opened '[' must close: 'Click [1' may be cut
_SEP = re.compile(r"[ \t]*(?:[;；,:：][ \t]*)?")
_SCROLL = re.compile(  # each argument bracketed ('[3]', '[down]') or bare ('3', 'down'); an opened '[' must close
    r"[ \t]*(?:\[[ \t]*(\d+|window)[ \t]*\]|(\d+|window))[ \t]*[;；,][ \t]*(?:\[[ \t]*(up|down)[ \t]*\]|(up|down)\b)",
    re.IGNORECASE,
)
# How far from the end of the text an action whose '[' never closed is taken as cut there (a label, a direction).
_CUT_REACH = 64
_BRACKET = re.compile(r"[\[\]]")
# Another bracketed argument right after an action's own (a separator, or a box close, between them at most).
_SURPLUS = re.compile(r"[ \t]*(?:" + BOX_CLOSE.pattern + r"[ \t]*)?(?:[;；,:：][ \t]*)?\[", re.IGNORECASE)
SIGNATURES = {"Click": "Click [n]", "Type": "Type [n]; [text]", "Scroll": "Scroll [n or WINDOW]; [up or down]",
              "Wait": "Wait", "GoBack": "GoBack", "Bing": "Bing", "ANSWER": "ANSWER; <content>text</content>",
              "Key": "Key; [key name]"}  # the protocol's signatures (glm-41v/45v-agent-protocol.md, web)
_CONTENT_OPEN = re.compile(r"<\s*content\s*>", re.IGNORECASE)
_CONTENT_CLOSE = re.compile(r"<\s*/\s*content\s*>", re.IGNORECASE)
_SECTION = re.compile(r"(?:\*\*)?\b(?:Memory_Updated|Memory|Thought|Observation)\s*(?:\*\*\s*)?[:：]", re.IGNORECASE)
# An action's arguments, the position after them, and whether only the end of the text ended the last one.
_ArgReader = Callable[[str, int], tuple[dict[str, Any], int, bool]]
_BOX_END = re.compile(r"(?:" + BOX_CLOSE.pattern + r")\s*$", re.IGNORECASE)


class _Read(NamedTuple):
    """A set-of-marks action and whether its last argument is open: unbracketed, and ended only by the end of the
    text (``Type [5]; hel``, ``Click 1``, ``Scroll [3]; down``), so a reply cut there may have cut the argument."""

    action: Any
    open_end: bool


def _unboxed(text: str) -> str:
    return BOX_CLOSE.sub("", BOX_OPEN.sub("", text))


def _label(text: str, pos: int) -> tuple[int, int]:
    match = _LABEL.match(text, pos)
    if not match:
        raise ParseError(f"expected an element label like [3]: {clip(text[pos : pos + 80])}")
    digits = match.group(1) or match.group(2)
    if len(digits) > 9:
        raise ParseError(f"{clip(digits, 20)} is not an element label")
    return int(digits), match.end()


def _bracketed(text: str, pos: int) -> tuple[str, int]:
    """Exactly the content of the ``[...]`` opening at ``pos`` and the position after its matching ``]`` (nesting
    counted: ``[a [b] c]`` holds ``a [b] c``). Raises UnfinishedAction when it never closes (``[a [b] c``): typing
    part of the text would not be what the model wrote, and everything after it may be its text."""
    depth, limit = 0, min(len(text), pos + MAX_CONTENT)
    for match in _BRACKET.finditer(text, pos, limit):
        depth += 1 if match.group() == "[" else -1
        if depth == 0:
            return _unboxed(text[pos + 1 : match.start()]), match.end()
    if limit < len(text):
        raise UnfinishedAction(f"the text in [...] runs past {MAX_CONTENT:,} characters without its ']'")
    raise UnfinishedAction(f"the text in [...] is not closed with ']' (nesting counted) before the end of the text: "
                           f"the reply may be cut: {clip(text[pos : pos + 80])}")


def _argument(text: str, pos: int, to_section_end: bool = False) -> tuple[str, int, bool]:
    """A bracketed argument; unbracketed, the rest of the line (or of the section, for answers). The flag: only the
    end of the text ended it (unbracketed, with no box closed after it)."""
    if text.startswith("[", pos):
        return *_bracketed(text, pos), False
    limit = min(len(text), pos + MAX_CONTENT)
    if to_section_end:
        stop = _SECTION.search(text, pos, limit)
        end = stop.start() if stop else -1
    else:
        end = text.find("\n", pos, limit)
    if end < 0:
        if limit < len(text):
            raise UnfinishedAction(f"the action's text runs past {MAX_CONTENT:,} characters")
        piece = text[pos:limit]
        return strip_boxes(piece), limit, not _BOX_END.search(piece[-64:])
    return strip_boxes(text[pos:end]), end, False


def _answer(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    pos = _SEP.match(text, pos).end()  # type: ignore[union-attr]
    opened = _CONTENT_OPEN.match(text, pos)
    if opened:
        closed = _CONTENT_CLOSE.search(text, opened.end(), min(len(text), opened.end() + MAX_CONTENT))
        if closed:
            return {"content": strip_boxes(text[opened.end() : closed.start()])}, closed.end(), False
        section = _SECTION.search(text, opened.end(), min(len(text), opened.end() + MAX_CONTENT))
        if not section:  # the text ends inside <content>: the answer may be cut
            raise UnfinishedAction("the answer's <content> is not closed with </content> before the end of the text: "
                                   "the reply may be cut")
        return {"content": strip_boxes(text[opened.end() : section.start()])}, section.start(), False
    content, end, open_end = _argument(text, pos, to_section_end=True)
    return {"content": content}, end, open_end


def _type(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    label, pos = _label(text, pos)
    content, end, open_end = _argument(text, _SEP.match(text, pos).end())  # type: ignore[union-attr]
    return {"label": label, "content": content}, end, open_end


def _key(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    key, end, open_end = _argument(text, _SEP.match(text, pos).end())  # type: ignore[union-attr]
    return {"key": key.strip().rstrip(".")}, end, open_end


def _scroll(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    match = _SCROLL.match(text, pos)
    if not match:
        raise ParseError(f"expected Scroll [n or WINDOW]; [up or down]: {clip(text[pos : pos + 80])}")
    target, direction = match.group(1) or match.group(2), match.group(3) or match.group(4)
    if len(target) > 9:
        raise ParseError(f"{clip(target, 20)} is not an element label")
    where = "WINDOW" if target.lower() == "window" else int(target)
    open_end = match.end() == len(text) and not match.group(3)  # a bare direction the text's end ended
    return {"target": where, "direction": direction.lower()}, match.end(), open_end


def _click(text: str, pos: int) -> tuple[dict[str, Any], int, bool]:
    label, end = _label(text, pos)
    return {"label": label}, end, end == len(text) and not text.endswith("]")


_ARGS: dict[str, _ArgReader] = {"Click": _click, "Type": _type, "Scroll": _scroll, "ANSWER": _answer, "Key": _key}


def read_action(text: str, pos: int = 0) -> tuple[Any, int]:
    """The set-of-marks action starting at ``pos`` (leading spaces, backticks and a box marker skipped) and the
    position after it. Raises ParseError, also when another bracketed argument follows (see :func:`check_arity`)."""
    read, end = _read(text, pos)
    check_arity(read.action, text, end)
    return read.action, end


def check_arity(action: Any, text: str, end: int) -> None:
    """ParseError when a bracketed argument follows the action read up to ``end`` (``Type [n]; [a]; [b]``,
    ``Click [1] [2]``, ``Wait; [5]``): executing the action without it would not be what the model wrote."""
    surplus = _SURPLUS.match(text, end)
    if surplus:
        line_end = text.find("\n", end)
        extra = strip_boxes(text[end : line_end if line_end >= 0 else len(text)]).strip()
        raise ParseError(f'surplus argument "{clip(extra, 80)}" after {action.type}, which is written '
                         f"{SIGNATURES[action.type]}; nothing was executed")


def _read(text: str, pos: int) -> tuple[_Read, int]:
    pos = _LEAD.match(text, pos).end()  # type: ignore[union-attr]
    verb = _VERB.match(text, pos)
    if not verb:
        raise ParseError(
            f"not a set-of-marks action (Click [n], Type [n]; [text], Scroll, ANSWER...): {clip(text[pos : pos + 200])}"
        )
    name = _VERBS[re.sub(r"[ \t]", "", verb.group(1).lower())]
    try:
        args, end, open_end = _ARGS[name](text, verb.end()) if name in _ARGS else ({}, verb.end(), False)
    except UnfinishedAction:
        raise
    except ParseError:
        if _cut_inside_bracket(text, verb.end()):
            raise UnfinishedAction(f"{name} {clip(text[verb.end() :].strip(), 40)}: the '[' is not closed before "
                                   "the end of the text: the reply may be cut") from None
        raise
    return _Read(build_action({"space": "web", "type": name, **args}), open_end), end


def _cut_inside_bracket(text: str, pos: int) -> bool:
    """True when the text from ``pos`` (an action's arguments that did not read) ends on its line, soon, inside a
    ``[`` that never closed (``Click [3``, ``Scroll [3]; [do``) and no box was closed after it."""
    if len(text) - pos > _CUT_REACH or "\n" in text[pos:].rstrip():
        return False
    rest = text[pos:]
    return rest.rfind("[") > rest.rfind("]") and not BOX_CLOSE.search(rest)


def parse_action_line(line: str):  # noqa: ANN201 - returns an Action
    """Parse one set-of-marks action string such as ``Type [2]; [5$]``."""
    return read_action(line.strip(), 0)[0]


def _find_action(answer: str) -> tuple[_Read, int, int, int, re.Match[str] | None]:
    """(the action read, end of the text before it, start, end, the memory label): the action at the last
    ``Action:`` label or box span that starts with a verb before the ``Memory_Updated:`` section, leaving out any
    inside an earlier action (``Action:`` typed as part of a Type's text) and any the memory quotes (see
    :func:`before_memory`). When the action there cannot be read (cut off, malformed) the reply is a ParseError: an
    earlier action, one the Thought quotes, is never executed in its place."""
    heads = {m.end(): m.start() for m in last_matches(label_pattern("Action"), answer, 64)}
    for start, _ in box_ranges(answer)[-64:]:  # a box that holds no action verb is prose, not an action
        if _VERB.match(answer, _LEAD.match(answer, start).end()):  # type: ignore[union-attr]
            heads.setdefault(start, start)
    tries = attempts(answer, heads, lambda at: _read(answer, at))
    if not tries:
        raise ParseError(f"no 'Action:' line found: {clip(strip_boxes(answer))}")
    tries, memory = before_memory(answer, tries, MEMORY_LABEL)
    last = tries[-1]
    if last.error is not None:
        raise ParseError(f"the last action written could not be read ({last.error}); nothing was executed")
    check_arity(last.value.action, answer, last.end)
    return last.value, heads[last.start], last.start, last.end, memory


def parse_web(text: str, tail: bool = False) -> Decision:
    """Parse a WebVoyager-style reply: ``Thought: … Action: … Memory_Updated: …``."""
    sections = split_reasoning(text)
    answer = sections.answer
    read, head_end, start, end, label = _find_action(answer)
    if tail:
        require_tail(answer[end:])
    thought = labelled(strip_boxes(answer[:head_end]), "Thought", ("Action", "Memory_Updated")) or ""
    memory = strip_boxes(answer[label.end() :]) if label else None
    return Decision(
        action=read.action, thought=thought, memory=memory, action_text=strip_boxes(answer[start:end]),
        answer_text=strip_boxes(answer), raw=text, open_end=read.open_end,
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

    def parse(self, text: str, *, tail: bool = False) -> Decision:
        return parse_web(text, tail)

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


__all__ = ["Glm41vWebProfile", "Glm45vWebProfile", "elements_text", "parse_action_line", "parse_web", "read_action"]
