"""Text surgery shared by every profile's parser: think/answer split, box markers, labelled sections.

Real GLM outputs break in known ways (glm-output-format.md): missing ``</answer>``, no tags at all, separated
reasoning, box markers stripped / space-padded / misspelled (``<|start_of_box|>``), two box spans where the first is
prose, boxes inside ``<think>``, trailing tags glued to the action, truncation, repetition. These helpers normalise
the text so that grammar-specific parsers only see the answer part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from .actions import Action
from .errors import ParseError

BOX_OPEN = re.compile(r"<\s*\|?\s*(?:begin|start|beign)_of_box\s*\|?\s*>", re.IGNORECASE)
BOX_CLOSE = re.compile(r"<\s*\|?\s*end_of_box\s*\|?\s*>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<\s*think\s*>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"<\s*/\s*think\s*>", re.IGNORECASE)
_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_SPECIAL = re.compile(r"<\|(?:user|assistant|observation|endoftext|system)\|>")
_ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


@dataclass(frozen=True)
class Sections:
    thinking: str
    answer: str  # visible answer, box markers still in place


def split_reasoning(text: str) -> Sections:
    """Separate thinking from the answer, tolerating missing or stray tags."""
    text = _SPECIAL.sub("", text)
    thinking = ""
    open_m = _THINK_OPEN.search(text)
    close_m = _THINK_CLOSE.search(text)
    if close_m:
        start = open_m.end() if open_m and open_m.start() < close_m.start() else 0
        thinking, rest = text[start : close_m.start()], text[close_m.end() :]
    elif open_m:
        body = text[open_m.end() :]
        answer_m = _ANSWER_OPEN.search(body)
        if answer_m:  # </think> lost but <answer> present
            thinking, rest = body[: answer_m.start()], body[answer_m.start() :]
        else:  # truncated thinking: everything is reasoning, but keep it as the answer for salvage
            thinking, rest = body, body
    else:
        rest = text
    answer_m = _ANSWER_OPEN.search(rest)
    if answer_m:
        rest = rest[answer_m.end() :]
        close_a = _ANSWER_CLOSE.search(rest)
        if close_a:
            rest = rest[: close_a.start()]
    rest = _ANSWER_CLOSE.sub("", _ANSWER_OPEN.sub("", rest))
    return Sections(thinking=thinking.strip(), answer=rest.strip())


def box_spans(text: str) -> list[str]:
    """Contents of the box spans in ``text`` in order; an unterminated last span runs to the end."""
    spans: list[str] = []
    pos = 0
    while True:
        open_m = BOX_OPEN.search(text, pos)
        if not open_m:
            return spans
        close_m = BOX_CLOSE.search(text, open_m.end())
        end = close_m.start() if close_m else len(text)
        spans.append(text[open_m.end() : end].strip())
        pos = close_m.end() if close_m else len(text)


def strip_boxes(text: str) -> str:
    """Remove box markers (and the spaces padding them)."""
    return BOX_CLOSE.sub("", BOX_OPEN.sub("", text)).strip()


def labelled(text: str, label: str, following: tuple[str, ...]) -> str | None:
    """The text after the last ``label:`` up to the next of ``following`` labels (markdown bold tolerated)."""
    pattern = re.compile(rf"(?:\*\*)?\b{label}\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?", re.IGNORECASE)
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    start = matches[-1].end()
    end = len(text)
    for other in following:
        nxt = re.compile(rf"(?:\*\*)?\b{other}\s*(?:\*\*)?\s*[:：]", re.IGNORECASE).search(text, start)
        if nxt:
            end = min(end, nxt.start())
    return text[start:end].strip()


def build_action(data: dict[str, object]) -> Action:
    """Validate a dict into the Action union; turn pydantic errors into one readable ParseError."""
    try:
        return _ACTION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][2:]) or "action"
        raise ParseError(f"invalid {data.get('type')!s} action: {where}: {first['msg']}") from None


def ints_in(value: object, count: int, what: str) -> list[int]:
    """Read ``count`` integers from a list, nested list or string like '[12, 34]'."""
    if isinstance(value, str):
        numbers: list[object] = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", value)]
    else:
        numbers = list(flatten(value))
    if len(numbers) != count or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise ParseError(f"{what} must hold {count} numbers, got {value!r}")
    return [round(float(n)) for n in numbers]  # type: ignore[arg-type]


def flatten(value: object) -> list[object]:
    """The leaves of nested lists/tuples, in order."""
    if isinstance(value, (list, tuple)):
        return [item for sub in value for item in flatten(sub)]
    return [value]


def as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ParseError(f"expected true or false, got {value!r}")


def clip(text: str, limit: int = 160) -> str:
    """Shorten text for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
