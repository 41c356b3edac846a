"""Our prompts for ``query``, ``check`` and ``locate`` and the readers of the models' answers to them.

The GLM-V models put a final answer between ``<|begin_of_box|>`` and ``<|end_of_box|>`` and answer grounding
questions with ``[[xmin,ymin,xmax,ymax]]`` in coordinates normalised to 0-1000; the prompts ask for exactly that,
and the readers take the last box span (or, when the markers were stripped, the whole visible answer). Every reader
raises ParseError with one line saying what was wrong, which is fed back to the model on a re-ask.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..actions import MODEL_MAX
from ..errors import ParseError
from ..literal import read_literal
from ..parsing import BOX_CLOSE, BOX_OPEN, as_bool, box_spans, clip, split_reasoning, strip_boxes

BOXED = "inside <|begin_of_box|> and <|end_of_box|>"
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
_BOX_SPAN = re.compile(BOX_OPEN.pattern + r".*?(?:" + BOX_CLOSE.pattern + r"|$)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Reading:
    """What one answer said: the parsed value, the visible text around it, and the record of the call."""

    value: Any
    text: str  # the answer text as read (the box content)
    reason: str = ""  # the answer outside the box, else the end of the thinking


def final_answer(text: str) -> Reading:
    """The last box span of the visible answer (the whole visible answer when there is none), and the rest."""
    sections = split_reasoning(text)
    spans = box_spans(sections.answer)
    value = spans[-1] if spans else strip_boxes(sections.answer)
    rest = _BOX_SPAN.sub(" ", sections.answer) if spans else ""
    reason = " ".join(rest.split()) or " ".join(sections.thinking.split())[-400:]
    return Reading(value=value.strip(), text=value.strip(), reason=reason)


# --- query ----------------------------------------------------------------------------------------------------


def query_prompt(question: str, schema: Any = str) -> str:
    """The question plus the answer format for ``schema`` (str, int, float, bool or anything pydantic validates)."""
    return (f"{question.strip()}\n\nAnswer from what this screenshot shows. Think it over, then give the final "
            f"answer {BOXED}. {_format_line(schema)}")


def _format_line(schema: Any) -> str:
    if schema is str:
        return "The final answer is the answer text only."
    if schema is bool:
        return "The final answer is true or false."
    if schema is int:
        return "The final answer is a whole number only: digits, no units, currency or thousands separators."
    if schema is float:
        return "The final answer is a number only: digits and an optional decimal point, no units or currency."
    shape = json.dumps(TypeAdapter(schema).json_schema(), ensure_ascii=False)
    return f"The final answer is JSON that matches this JSON schema: {shape}"


def read_query(text: str, schema: Any = str) -> Reading:
    """The final answer validated as ``schema``; ParseError when it is missing or does not fit."""
    reading = final_answer(text)
    raw = reading.text
    if not raw:
        raise ParseError(f"the answer is empty; give the final answer {BOXED}")
    if schema is str:
        return reading
    if schema is bool:
        return Reading(as_bool(raw), raw, reading.reason)
    if schema in (int, float):
        return Reading(_number(raw, schema), raw, reading.reason)
    return Reading(_structured(raw, schema), raw, reading.reason)


def _number(raw: str, kind: type) -> Any:
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    try:
        return adapter.validate_python(raw.strip())
    except ValidationError:
        pass
    numbers = _NUMBER.findall(raw)
    if len(numbers) != 1:
        found = "no number" if not numbers else f"{len(numbers)} numbers"
        raise ParseError(f"expected one {kind.__name__} as the final answer, found {found} in {clip(raw, 80)!r}")
    try:
        return adapter.validate_python(numbers[0].replace(",", ""))
    except ValidationError as exc:
        raise ParseError(f"{numbers[0]!r} is not a valid {kind.__name__}: {exc.errors()[0]['msg']}") from None


def _structured(raw: str, schema: Any) -> Any:
    """JSON (or a Python-style literal, read without eval) validated by pydantic against ``schema``."""
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
        if start < 0:
            value = raw
        else:
            try:
                value, _ = read_literal(raw, start)
            except ParseError as exc:
                raise ParseError(f"the final answer is not valid JSON ({exc}): {clip(raw, 80)!r}") from None
    try:
        return TypeAdapter(schema).validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise ParseError(f"the final answer does not match the schema: {where}: {first['msg']}") from None


# --- check ----------------------------------------------------------------------------------------------------


def check_prompt(statement: str) -> str:
    return (f"Statement: {statement.strip()}\n\nLook at the screenshot and decide whether the statement is true. "
            f"Give a one-sentence reason, then the verdict, true or false, {BOXED}.")


def read_check(text: str) -> Reading:
    """(True or False, the model's reason); ParseError when the verdict is not a yes/no word."""
    reading = final_answer(text)
    try:
        verdict = as_bool(reading.text.strip().strip(".").strip())
    except ParseError:
        raise ParseError(f"the verdict must be true or false {BOXED}, got {clip(reading.text, 60)!r}") from None
    return Reading(verdict, reading.text, reading.reason)


# --- locate ---------------------------------------------------------------------------------------------------


def locate_prompt(description: str) -> str:
    return (f"Find {description.strip()} in this screenshot. Give its bounding box as [[xmin,ymin,xmax,ymax]] in "
            f"coordinates normalised to 0-1000, {BOXED}. If it is not on the screen, put none in the box instead.")


def read_box(text: str) -> Reading:
    """The first box of the answer as (xmin, ymin, xmax, ymax) in 0..1000, or None when the model said none."""
    reading = final_answer(text)
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", reading.text)]
    if not numbers and re.search(r"\b(none|not found|no such|not (?:on|visible))", reading.text, re.IGNORECASE):
        return Reading(None, reading.text, reading.reason)
    if len(numbers) < 4 or len(numbers) % 4:
        raise ParseError(f"expected a box [[xmin,ymin,xmax,ymax]] {BOXED}, got {clip(reading.text, 80)!r}")
    x1, y1, x2, y2 = (round(n) for n in numbers[:4])
    if not all(0 <= v <= MODEL_MAX for v in (x1, y1, x2, y2)):
        raise ParseError(f"box {[x1, y1, x2, y2]} is outside 0..{MODEL_MAX}")
    box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    return Reading(box, reading.text, reading.reason)


def box_in_pixels(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[float, float, float, float]:
    """A 0..1000 box as (left, top, right, bottom) in pixels of an image of ``size`` (width, height)."""
    width, height = size
    x1, y1, x2, y2 = box
    return x1 * width / MODEL_MAX, y1 * height / MODEL_MAX, x2 * width / MODEL_MAX, y2 * height / MODEL_MAX


__all__ = [
    "BOXED", "Reading", "box_in_pixels", "check_prompt", "final_answer", "locate_prompt", "query_prompt",
    "read_box", "read_check", "read_query",
]
