"""A small, tolerant reader for the literals models write: JSON, Python reprs and call syntax.

It never evaluates anything: it reads dicts, lists, tuples, strings (single or double quoted, with escapes), numbers,
``True/False/None`` and ``true/false/null``, plus ``name(key=value, ...)`` calls.

Every read is tried twice. The strict read ends a string at its first unescaped quote. When it fails, a lenient read
lets a string whose own quote is not followed by what the grammar allows next (``text="查一下"明天"的天气"``,
``content='I don't think so'``) run to the LAST quote on its line that is: ``, name=`` or ``)`` in a call,
``, "key":`` or ``}`` in a dict, ``,`` or ``]`` in a list.

Hostile input is bounded: a literal spans at most MAX_INPUT characters and MAX_DEPTH levels (dict keys are scalars),
a number has at most MAX_DIGITS characters and is finite, a string is valid Unicode (``\\uD83D\\uDE00`` pairs decode as
``json.loads`` does; a lone surrogate half is an error), and one search reads at most MAX_STEPS values over all its
candidates. So any input costs time linear in its length and ends in a value or a ParseError.

A search (:func:`attempts`) reads at each place an action may start and keeps the failures too, so a grammar can
tell that the action it would execute is not the last one written: the caller refuses the reply rather than fall
back to an earlier action. A read the text ends inside (UnfinishedAction) holds everything after its start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

from .errors import ParseError, UnfinishedAction

MAX_DEPTH = 16
MAX_INPUT = 20_000
MAX_ATTEMPTS = 64
MAX_STEPS = 10_000
MAX_DIGITS = 40

_BRACE = re.compile(r"\{")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KWARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_SPACE = re.compile(r"\s*")
_WORDS = {"true": True, "false": False, "none": None, "null": None}
# Escapes as Python and JSON read them; any other backslash stays in the text (``C:\Users`` keeps its backslash).
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "v": "\v", "a": "\a",
            "\\": "\\", "'": "'", '"': '"', "/": "/", "\n": ""}
_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))",
    re.DOTALL
)
SURROGATE = re.compile("[\ud800-\udfff]")
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_OPENERS = {closer: opener for opener, closer in _CLOSERS.items()}
_PLAIN = {quote: re.compile(rf"[^{quote}\\]*") for quote in "\"'"}
# What may follow a string value, per context: a call argument, a dict value, a list item.
_AFTER = {
    "arg": r"\s*(?:\)|,\s*[A-Za-z_]\w*\s*=(?!=))",
    "value": r"\s*(?:\}|,\s*(?:\"[^\"\n]{1,64}\"|'[^'\n]{1,64}'|[A-Za-z_]\w*)\s*:)",
    "item": r"\s*[\],]",
}
_FOLLOWS = {context: re.compile(pattern) for context, pattern in _AFTER.items()}
_LAST_QUOTE = {  # the last such quote on the line: greedy, then backtracking from the line's end
    (quote, context): re.compile(rf"[^\n]*{quote}(?={pattern})") for quote in "\"'"
    for context, pattern in _AFTER.items()
}
T = TypeVar("T")


class Call(NamedTuple):
    """One ``name(args, key=value)`` call read from text, with its span."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    start: int
    end: int


class _Exhausted(ParseError):
    """The search budget is spent: stop trying candidates."""


class _Budget:
    def __init__(self, steps: int = MAX_STEPS) -> None:
        self.left = steps

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise _Exhausted("the output is too convoluted to read an action from")


def _number(raw: str) -> int | float:
    if len(raw) > MAX_DIGITS:
        raise ParseError(f"a number with {len(raw)} characters is not a coordinate or count")
    if not any(c in raw for c in ".eE"):
        return int(raw)
    value = float(raw)
    if not math.isfinite(value):
        raise ParseError(f"the number {raw} is out of range")
    return value


def _unescape(match: re.Match[str]) -> str:
    high, low, unit, byte, char = match.groups()
    if byte:
        return chr(int(byte, 16))
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if unit:
        code = int(unit, 16)
        if 0xD800 <= code <= 0xDFFF:
            raise ParseError(f"a string holds a lone surrogate \\u{unit} (not valid Unicode)")
        return chr(code)
    return _ESCAPES.get(char, "\\" + char)


def _decode(raw: str) -> str:
    text = _ESCAPE.sub(_unescape, raw) if "\\" in raw else raw
    if SURROGATE.search(text):
        raise ParseError("a string holds a lone surrogate (not valid Unicode)")
    return text


class _Reader:
    def __init__(self, text: str, start: int, budget: _Budget, lenient: bool) -> None:
        self.text = text
        self.end = min(len(text), start + MAX_INPUT)  # a literal longer than MAX_INPUT is not an action
        self.pos = start
        self.budget = budget
        self.lenient = lenient

    def peek(self) -> str:
        self.pos = _SPACE.match(self.text, self.pos, self.end).end()  # type: ignore[union-attr]
        return self.text[self.pos] if self.pos < self.end else ""

    def found(self) -> str:
        return repr(self.text[self.pos : self.pos + 10]) if self.pos < self.end else "the end of the text"

    def unclosed(self, what: str) -> UnfinishedAction:
        if self.end < len(self.text):
            return UnfinishedAction(f"{what} runs past {MAX_INPUT} characters")
        return UnfinishedAction(f"{what} is not closed before the end of the text: the reply may be cut")

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ParseError(f"expected '{char}' at position {self.pos}, found {self.found()}")
        self.pos += 1

    def separator(self, closer: str) -> None:
        char = self.peek()
        if char == ",":
            self.pos += 1
        elif not char:
            raise self.unclosed(f"'{_OPENERS[closer]}'")
        elif char != closer:
            raise ParseError(f"expected ',' or '{closer}' at position {self.pos}, found {self.found()}")

    def value(self, depth: int = 0, context: str = "item") -> Any:
        self.budget.spend()
        if depth > MAX_DEPTH:
            raise ParseError("action literal is nested too deeply")
        char = self.peek()
        if not char:
            raise self.unclosed("the action literal")
        if char in _CLOSERS:
            return self.container(char, depth)
        if char in "\"'":
            return self.string(context)
        match = _NUMBER.match(self.text, self.pos, self.end)
        if match:
            self.pos = match.end()
            return _number(match.group())
        return self.word()

    def word(self) -> Any:
        match = _IDENT.match(self.text, self.pos, self.end)
        if not match or match.group().lower() not in _WORDS:
            raise ParseError(f"unexpected {self.found()} in action literal")
        self.pos = match.end()
        return _WORDS[match.group().lower()]

    def string(self, context: str | None) -> str:
        quote, start = self.text[self.pos], self.pos + 1
        stop = self.strict_stop(start, quote)
        if self.lenient and context and not _FOLLOWS[context].match(self.text, stop + 1, self.end):
            stop = self.lenient_stop(start, quote, context) or stop
        self.pos = stop + 1
        return _decode(self.text[start:stop])

    def strict_stop(self, start: int, quote: str) -> int:
        """Index of the first unescaped ``quote`` from ``start``."""
        pos = start
        while True:
            if pos < self.end:
                pos = _PLAIN[quote].match(self.text, pos, self.end).end()  # type: ignore[union-attr]
            if pos >= self.end:
                raise self.unclosed("a quoted string")
            if self.text[pos] == quote:
                return pos
            self.budget.spend()
            pos += 2  # a backslash and the character it escapes

    def lenient_stop(self, start: int, quote: str, context: str) -> int | None:
        """Index of the last unescaped ``quote`` on the line that is followed by what ``context`` allows next."""
        pattern, endpos = _LAST_QUOTE[(quote, context)], self.end
        for _ in range(8):
            match = pattern.match(self.text, start, endpos)
            if not match:
                return None
            self.budget.spend(1 + (match.end() - start) // 1024)
            stop = match.end() - 1
            run = stop - len(self.text[start:stop].rstrip("\\")) - start
            if run % 2 == 0:
                return stop
            endpos = stop  # an escaped quote is content: look for an earlier one
        return None

    def container(self, opener: str, depth: int) -> Any:
        self.pos += 1
        closer = _CLOSERS[opener]
        if opener == "{":
            return self.dict_items(depth)
        items: list[Any] = []
        while self.peek() != closer:
            items.append(self.value(depth + 1, "item"))
            self.separator(closer)
        self.pos += 1
        return items

    def dict_items(self, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while self.peek() != "}":
            key = self.key()
            self.expect(":")
            out[key] = self.value(depth + 1, "value")
            self.separator("}")
        self.pos += 1
        return out

    def key(self) -> Any:
        """A dict key: a string (read strictly), a bare name or a number; never a container."""
        self.budget.spend()
        char = self.peek()
        if not char:
            raise self.unclosed("'{'")
        if char in "\"'":
            return self.string(None)
        for pattern, convert in ((_IDENT, str), (_NUMBER, _number)):
            match = pattern.match(self.text, self.pos, self.end)
            if match:
                self.pos = match.end()
                return convert(match.group())
        raise ParseError(f"a dict key must be a string or a number, found {self.found()}")

    def call(self) -> Call:
        start = self.pos = _SPACE.match(self.text, self.pos, self.end).end()  # type: ignore[union-attr]
        match = _IDENT.match(self.text, self.pos, self.end)
        if not match:
            raise ParseError("expected an action call like name(arg=value)")
        self.pos = match.end()
        self.expect("(")
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        while self.peek() not in (")", ""):
            keyword = _KWARG.match(self.text, self.pos, self.end)
            if keyword:
                self.pos = keyword.end()
                kwargs[keyword.group(1)] = self.value(1, "arg")
            else:
                args.append(self.value(1, "arg"))
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() not in (")", ""):
                raise ParseError(f"expected ',' or ')' in {match.group()}(...) at position {self.pos}, "
                                 f"found {self.found()}")
        if self.peek() != ")":  # the text ends first: the cut may have taken an argument (message="...")
            raise self.unclosed(f"'{match.group()}('")
        self.pos += 1
        return Call(match.group(), args, kwargs, start, self.pos)


def _twice(read: Callable[[_Reader], T], text: str, start: int, budget: _Budget) -> T:
    """``read`` strictly, then leniently; a failure reports the strict read's error."""
    try:
        return read(_Reader(text, start, budget, lenient=False))
    except _Exhausted:
        raise
    except ParseError as strict:
        try:
            return read(_Reader(text, start, budget, lenient=True))
        except _Exhausted:
            raise
        except ParseError:
            raise strict from None


def _value_and_end(reader: _Reader) -> tuple[Any, int]:
    return reader.value(), reader.pos


def read_literal(text: str, start: int = 0) -> tuple[Any, int]:
    """Read one literal at ``start``; return it and the position after it. Raises ParseError."""
    return _twice(_value_and_end, text, start, _Budget())


def read_call(text: str, start: int = 0) -> Call:
    """Read ``name(arg, key=value, ...)`` at ``start``. Raises ParseError; UnfinishedAction when the text ends
    before the call's ``)``."""
    return _twice(_Reader.call, text, start, _Budget())


def last_matches(pattern: re.Pattern[str], text: str, count: int) -> list[re.Match[str]]:
    """The last ``count`` matches of ``pattern`` in ``text``, in order; searched from the end, so huge texts stay
    cheap."""
    size = 4096
    while True:
        low = max(0, len(text) - size)
        found = list(pattern.finditer(text, low))
        if len(found) > count or low == 0:
            return found[-count:]
        size *= 4


class Attempt(NamedTuple):
    """One read at a place where an action may start: ``value`` and the position after it, or ``error``. A failed
    read spans nothing (``end == start``), except one the text ended inside, which spans to the text's end."""

    start: int
    end: int
    value: Any
    error: ParseError | None


def attempts(text: str, starts: Iterable[int], read: Callable[[int], tuple[Any, int]]) -> list[Attempt]:
    """Read at each of ``starts`` in order, leaving out a start inside an earlier successful read (an action quoted
    in another's argument); nothing is read after a read that raised UnfinishedAction, since the rest of the text
    is inside it. ``read(start)`` returns (value, end) or raises ParseError. Raises ParseError when a literal search
    spent its budget."""
    done: list[Attempt] = []
    for start in sorted(set(starts)):
        if done and start < done[-1].end:
            continue
        try:
            value, end = read(start)
        except _Exhausted:
            raise
        except UnfinishedAction as exc:
            done.append(Attempt(start, len(text), None, exc))
            break
        except ParseError as exc:
            done.append(Attempt(start, start, None, exc))
        else:
            done.append(Attempt(start, end, value, None))
    return done


def find_calls(text: str, pattern: re.Pattern[str], lost: tuple[re.Pattern[str], str] | None = None) -> list[Attempt]:
    """Attempts (values: Call) at the last MAX_ATTEMPTS matches of ``pattern``, where a call's name and ``(`` start.

    ``lost``: (pattern, prefix) for a call whose ``name(`` the model dropped (``action="Back")``): read at each
    match as if ``prefix`` stood before it; its Call spans the text as written, without the prefix.
    """
    budget = _Budget()
    prefix = lost[1] if lost else ""
    lost_at = {m.start() for m in last_matches(lost[0], text, MAX_ATTEMPTS)} if lost else set()
    starts = sorted(lost_at | {m.start() for m in last_matches(pattern, text, MAX_ATTEMPTS)})[-MAX_ATTEMPTS:]

    def read(start: int) -> tuple[Call, int]:
        if start not in lost_at:
            call = _twice(_Reader.call, text, start, budget)
            return call, call.end
        source = prefix + text[start : start + MAX_INPUT + 1]
        call = _twice(_Reader.call, source, 0, budget)
        shift = start - len(prefix)
        return call._replace(start=start, end=call.end + shift), call.end + shift

    return attempts(text, starts, read)


def find_dicts(text: str) -> list[Attempt]:
    """Attempts (values: any literal) at the last MAX_ATTEMPTS ``{`` in ``text``, in order: the dicts written at the
    top level, not those inside another's strings or values."""
    return find_literals(text, [m.start() for m in last_matches(_BRACE, text, MAX_ATTEMPTS)])


def find_literals(text: str, starts: Iterable[int]) -> list[Attempt]:
    """Attempts (values: any literal) at each of ``starts`` in order, leaving out a start inside an earlier read."""
    budget = _Budget()
    return attempts(text, starts, lambda start: _twice(_value_and_end, text, start, budget))
