"""Text surgery shared by every profile's parser: think/answer split, box markers, labelled sections, the reply tail.

Real GLM outputs break in known ways (glm-output-format.md): missing ``</answer>``, no tags at all, separated
reasoning, box markers stripped / space-padded / misspelled (``<|start_of_box|>``), two box spans where the first is
prose, boxes inside ``<think>``, trailing tags glued to the action, repeated or stray think tags, truncation,
repetition. These helpers normalise the text so that grammar-specific parsers only see the answer part. Nothing
written inside unfinished thinking is ever an answer (:class:`ThinkingCut`).

Every pattern here is written so that no two adjacent repeats can match the same character, so a search costs time
linear in the text (64 KB of spaces, ``<`` or ``|`` included); replies over MAX_REPLY characters are refused outright.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .actions import Action
from .errors import ParseError, ThinkingCut
from .literal import MAX_ATTEMPTS, SURROGATE, Attempt, find_literals, last_matches
from .printable import no_controls
from .types import Completion, Decision, PromptProfile

MAX_REPLY = 1_000_000  # characters; max_tokens never allows this much, so more is degenerate output
BOX_OPEN = re.compile(r"<\s*(?:\|\s*)?(?:begin|start|beign)_of_box\s*(?:\|\s*)?>", re.IGNORECASE)
BOX_CLOSE = re.compile(r"<\s*(?:\|\s*)?end_of_box\s*(?:\|\s*)?>", re.IGNORECASE)
_TAG = re.compile(r"<\s*(?:(/)\s*)?(think|answer)\s*>", re.IGNORECASE)
_SPECIAL = re.compile(r"<\|(?:user|assistant|observation|endoftext|system)\|>")
# The models' stop tokens (eos_token_id of GLM-4.1V/4.5V, glm-output-format.md): the reply ends at the first one.
_STOP = re.compile(r"<\|(?:user|observation|endoftext)\|>")
# The label of the memory section written after the action (web Memory_Updated:, desktop Memory:).
MEMORY_LABEL = re.compile(r"(?:\*\*)?\b(?:Memory_Updated|Memory)\s*(?:\*\*\s*)?[:：]", re.IGNORECASE)
_SPACES = re.compile(r"\s*")
_LABELS: dict[str, re.Pattern[str]] = {}
_ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


@dataclass(frozen=True)
class Sections:
    thinking: str
    answer: str  # visible answer, box markers still in place


class _Envelope:
    """Routes the text between think/answer tags to the thinking, the first answer block, or the text outside."""

    def __init__(self, pre_filled: bool, last_close: int) -> None:
        self.thinking_now = pre_filled  # text before a first </think> with no <think> is thinking
        self.last_close = last_close
        self.thinking: list[str] = []
        self.outside: list[str] = []
        self.answer: list[str] | None = None  # the first <answer> block, once opened
        self.answer_open = False

    def add(self, piece: str) -> None:
        (self.thinking if self.thinking_now else self.answer if self.answer_open else self.outside).append(piece)

    def tag(self, closing: bool, name: str, at: int) -> None:
        if name == "think":
            if closing == self.thinking_now:  # <think> opens, </think> closes; a repeated or stray one does nothing
                self.thinking_now = not closing
        elif self.thinking_now:
            if not closing and at > self.last_close and self.answer is None:  # </think> lost, <answer> follows
                self.thinking_now, self.answer, self.answer_open = False, [], True
        elif not closing and self.answer is None:
            self.answer, self.answer_open = [], True
        elif closing:
            self.answer_open = False

    def visible(self) -> str:
        return "".join(self.answer if self.answer is not None else self.outside).strip()


def split_reasoning(text: str) -> Sections:
    """Separate thinking from the answer.

    Tolerated: a missing ``<think>`` (text before the first ``</think>`` is thinking), a lost ``</think>`` when
    ``<answer>`` follows, repeated ``<think>`` blocks, a stray ``</think>``/``</answer>`` anywhere; no tag survives in
    either part. With ``<answer>`` present the answer is the first answer block. Raises ThinkingCut when the thinking
    is never closed and nothing was answered outside it, and ParseError for a reply over MAX_REPLY characters.
    The reply ends at the first stop token (``<|user|>``, ``<|observation|>``, ``<|endoftext|>``): what a server
    that did not stop there sent after it (a next turn the model made up) is not part of it.
    """
    if len(text) > MAX_REPLY:
        raise ParseError(f"the reply is {len(text):,} characters long (limit {MAX_REPLY:,}): degenerate output")
    stop = _STOP.search(text)
    text = _SPECIAL.sub("", text[: stop.start()] if stop else text)
    tags = [(m.start(), m.end(), bool(m.group(1)), m.group(2).lower()) for m in _TAG.finditer(text)]
    closes = [start for start, _, closing, name in tags if closing and name == "think"]
    opens = [start for start, _, closing, name in tags if not closing and name == "think"]
    envelope = _Envelope(bool(closes) and (not opens or closes[0] < opens[0]), closes[-1] if closes else -1)
    pos = 0
    for start, end, closing, name in tags:
        envelope.add(text[pos:start])
        envelope.tag(closing, name, start)
        pos = end
    envelope.add(text[pos:])
    visible = envelope.visible()
    if envelope.thinking_now and not visible:
        raise ThinkingCut("the model stopped while thinking (the <think> part never closed), so it gave no action")
    thinking = "\n".join(piece.strip() for piece in envelope.thinking if piece.strip())
    return Sections(thinking=thinking, answer=visible)


def box_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each box span's content in ``text``, in order; an unterminated last span runs to the end."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    while True:
        open_m = BOX_OPEN.search(text, pos)
        if not open_m:
            return ranges
        close_m = BOX_CLOSE.search(text, open_m.end())
        end = close_m.start() if close_m else len(text)
        ranges.append((open_m.end(), end))
        pos = close_m.end() if close_m else len(text)


def box_spans(text: str) -> list[str]:
    """Contents of the box spans in ``text`` in order; an unterminated last span runs to the end."""
    return [text[start:end].strip() for start, end in box_ranges(text)]


def strip_boxes(text: str) -> str:
    """Remove box markers (and the spaces padding them)."""
    return BOX_CLOSE.sub("", BOX_OPEN.sub("", text)).strip()


def label_pattern(label: str) -> re.Pattern[str]:
    """``label:`` with markdown bold and a full-width colon tolerated."""
    if label not in _LABELS:
        _LABELS[label] = re.compile(rf"(?:\*\*)?\b{label}\s*(?:\*\*\s*)?[:：]\s*(?:\*\*)?", re.IGNORECASE)
    return _LABELS[label]


def labelled(text: str, label: str, following: tuple[str, ...]) -> str | None:
    """The text after the last ``label:`` up to the next of ``following`` labels (markdown bold tolerated)."""
    last = None
    for last in label_pattern(label).finditer(text):  # noqa: B007 - the last match is wanted
        pass
    if last is None:
        return None
    start, end = last.end(), len(text)
    for other in following:
        nxt = label_pattern(other).search(text, start)
        if nxt:
            end = min(end, nxt.start())
    return text[start:end].strip()


def before_memory(
    text: str, tries: list[Attempt], label: re.Pattern[str]
) -> tuple[list[Attempt], re.Match[str] | None]:
    """Split the action candidates ``tries`` (in order, at least one) at the memory section that follows the action
    (web ``Memory_Updated:``, desktop ``Memory:``): the candidates written before it, and its ``label`` match (None
    when there is none). Nothing written in the memory section is ever the action.

    The section starts at the last ``label`` written after the first candidate, outside every candidate's read and
    outside the JSON read right after an earlier label (a label the thought or the memory itself quotes); candidates
    inside its JSON are memory. Raises ParseError when a candidate is written after its label but not inside that
    JSON: the memory section is then not the reply's last part, so an action quoted before it cannot be told from
    one quoted after it.
    """
    labels: dict[int, re.Match[str]] = {}
    for match in last_matches(label, text, MAX_ATTEMPTS):
        if match.start() > tries[0].start and not any(t.start <= match.start() < t.end for t in tries):
            labels[_SPACES.match(text, match.end()).end()] = match  # type: ignore[union-attr]
    sections = find_literals(text, labels)
    if not sections:
        return tries, None
    memory, held = labels[sections[-1].start], sections[-1].end
    after = [t for t in tries if t.start >= held]
    if after:
        raise ParseError(f"an action is written after the memory section ({clip(text[after[0].start :], 60)}), so "
                         "the one meant cannot be told; nothing was executed")
    return [t for t in tries if t.start < memory.start()], memory


def read_or_refuse(attempt: Attempt, what: str, text: str) -> Any:
    """The value ``attempt`` (a candidate at the action position of ``text``) read; when it did not read (cut off,
    malformed), ParseError "``what`` could not be read (why); nothing was executed: <text from it>": no other
    candidate, one the reasoning quotes, is executed in its place."""
    if attempt.error is not None:
        raise ParseError(f"{what} could not be read ({attempt.error}); nothing was executed: "
                         f"{clip(text[attempt.start :])}")
    return attempt.value


def require_tail(rest: str) -> None:
    """Tail mode: the action must end the reply; only closing marks or a memory section may follow it."""
    after = strip_boxes(rest).lstrip(" \t\r\n.。`*")
    if after and not MEMORY_LABEL.match(after):
        raise ParseError(f"the answer came only as reasoning and does not end with an action (after it: "
                         f"{clip(after, 60)})")


def parse_completion(profile: PromptProfile, completion: Completion) -> Decision:
    """The profile's decision for one completion; the one way the loop reads a reply.

    Content empty with the whole answer in ``reasoning`` (and no length stop): the action is read from the
    reasoning's tail. Otherwise the reasoning goes back inside ``<think>`` (:meth:`Completion.full_text`), so a
    reply stopped inside its thinking raises ThinkingCut. A ParseError on a reply the server stopped at max_tokens
    says so.

    A reply stopped at max_tokens (``finish_reason == "length"``) still gives its action when the action ends with
    its own closing mark (``)``, ``}``, ``]``, ``</content>``, a closed box): it was written whole before the cut,
    which fell in what follows it. An action whose last argument only the end of the text ended
    (:attr:`Decision.open_end`: web ``Type [5]; hel``) may be cut itself, and is a ParseError.
    """
    cut = completion.finish_reason == "length"
    try:
        if completion.answer_in_reasoning():
            return profile.parse(completion.reasoning or "", tail=True)
        decision = profile.parse(completion.full_text())
    except ThinkingCut:
        raise
    except ParseError as exc:
        if cut:
            raise ParseError(f"{exc} (the reply was cut off at the max_tokens limit)") from None
        raise
    if cut and decision.open_end:
        raise ParseError(f"the action {clip(decision.action_text, 80)} runs to the end of a reply that was cut off at "
                         "the max_tokens limit, so its last argument may be cut; nothing was executed")
    return decision


def build_action(data: dict[str, object]) -> Action:
    """Validate a dict into the Action union; turn pydantic errors into one readable ParseError."""
    for value in data.values():
        if isinstance(value, str) and SURROGATE.search(value):
            raise ParseError("an action argument holds a lone surrogate (not valid Unicode)")
    try:
        return _ACTION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][2:]) or "action"
        raise ParseError(f"invalid {data.get('type')!s} action: {where}: {first['msg']}") from None


def ints_in(value: object, count: int, what: str) -> list[int]:
    """Read ``count`` integers from a list, nested list or string like '[12, 34]'."""
    if isinstance(value, str):
        numbers: list[object] = [_finite(n, what) for n in re.findall(r"-?\d+(?:\.\d+)?", value[:1000])]
    else:
        numbers = list(flatten(value))
    if len(numbers) != count or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise ParseError(f"{what} must hold {count} numbers, got {clip(repr(value), 80)}")
    return [round(_finite(n, what)) for n in numbers]  # type: ignore[arg-type]


def _finite(number: object, what: str) -> float:
    value = float(number) if len(str(number)) <= 40 else math.inf  # type: ignore[arg-type]
    if not math.isfinite(value):
        raise ParseError(f"{what} holds a number out of range")
    return value


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
    raise ParseError(f"expected true or false, got {clip(repr(value), 40)}")


def clip(text: str, limit: int = 160) -> str:
    """Shorten text for error messages (whitespace folded, lone surrogates replaced, control characters written as
    escapes: see :func:`glmv_agent.printable.no_controls`)."""
    flat = no_controls(SURROGATE.sub("\ufffd", " ".join(text[: limit * 4].split())))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
