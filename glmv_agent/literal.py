"""A small, tolerant reader for the literals models write: JSON, Python reprs and call syntax.

It never evaluates anything: it reads dicts, lists, tuples, strings (single or double quoted, with escapes), numbers,
``True/False/None`` and ``true/false/null``, plus ``name(key=value, ...)`` calls. Depth and size are bounded.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ParseError

MAX_DEPTH = 16
MAX_INPUT = 20_000
MAX_ATTEMPTS = 64
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_WORDS = {"true": True, "false": False, "none": None, "null": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "/": "/"}
_CLOSERS = {"{": "}", "[": "]", "(": ")"}


class _Reader:
    def __init__(self, text: str, start: int = 0) -> None:
        # Only a bounded window is read: a literal longer than MAX_INPUT is not an action.
        self.text = text[: start + MAX_INPUT]
        self.pos = start

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.text[self.pos : self.pos + 10] or "end of text"
            raise ParseError(f"expected '{char}' at position {self.pos}, found '{found}'")
        self.pos += 1

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ParseError("action literal is nested too deeply")
        char = self.peek()
        if not char:
            raise ParseError("the action literal ends too early (output cut off?)")
        if char in _CLOSERS:
            return self.container(char, depth)
        if char in "\"'":
            return self.string()
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            raw = match.group()
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        return self.word()

    def word(self) -> Any:
        match = re.compile(r"[A-Za-z_]+").match(self.text, self.pos)
        if not match or match.group().lower() not in _WORDS:
            found = self.text[self.pos : self.pos + 12] or "end of text"
            raise ParseError(f"unexpected '{found}' in action literal")
        self.pos = match.end()
        return _WORDS[match.group().lower()]

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self._escape())
                continue
            self.pos += 1
            if char == quote:
                return "".join(out)
            out.append(char)
        raise ParseError("a quoted string in the action is not closed (output cut off?)")

    def _escape(self) -> str:
        nxt = self.text[self.pos + 1]
        self.pos += 2
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", self.text[self.pos : self.pos + 4]):
            code = int(self.text[self.pos : self.pos + 4], 16)
            self.pos += 4
            return chr(code)
        return _ESCAPES.get(nxt, nxt)

    def container(self, opener: str, depth: int) -> Any:
        self.pos += 1
        closer = _CLOSERS[opener]
        if opener == "{":
            return self._dict_items(closer, depth)
        items: list[Any] = []
        while self.peek() != closer:
            if not self.peek():
                raise ParseError(f"'{opener}' is not closed (output cut off?)")
            items.append(self.value(depth + 1))
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != closer:
                raise ParseError(f"expected ',' or '{closer}' at position {self.pos}")
        self.pos += 1
        return items

    def _dict_items(self, closer: str, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while self.peek() != closer:
            if not self.peek():
                raise ParseError("'{' is not closed (output cut off?)")
            key = self.key()
            self.expect(":")
            out[key] = self.value(depth + 1)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != closer:
                raise ParseError(f"expected ',' or '{closer}' at position {self.pos}")
        self.pos += 1
        return out

    def key(self) -> Any:
        char = self.peek()
        if char in "\"'":
            return self.string()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return match.group()
        return self.value()


def read_literal(text: str, start: int = 0) -> tuple[Any, int]:
    """Read one literal at ``start``; return it and the position after it."""
    reader = _Reader(text, start)
    value = reader.value()
    return value, reader.pos


def read_call(text: str, start: int = 0) -> tuple[str, list[Any], dict[str, Any], int]:
    """Read ``name(arg, key=value, ...)`` at ``start``. A missing final ')' is tolerated at end of text."""
    reader = _Reader(text, start)
    reader.skip_space()
    match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, reader.pos)
    if not match:
        raise ParseError("expected an action call like name(arg=value)")
    reader.pos = match.end()
    reader.expect("(")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    while reader.peek() not in (")", ""):
        kw = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)").match(text, reader.pos)
        if kw:
            reader.pos = kw.end()
            kwargs[kw.group(1)] = reader.value(1)
        else:
            args.append(reader.value(1))
        if reader.peek() == ",":
            reader.pos += 1
        elif reader.peek() not in (")", ""):
            raise ParseError(f"expected ',' or ')' in {match.group()}(...) at position {reader.pos}")
    if reader.peek() == ")":
        reader.pos += 1
    return match.group(), args, kwargs, reader.pos


def find_dict(text: str, must_contain: str) -> dict[str, Any] | None:
    """The last ``{...}`` literal in ``text`` that parses and has the key ``must_contain``.

    Candidates are tried from the end, at most MAX_ATTEMPTS of them, so degenerate output stays cheap.
    """
    starts = [m.start() for m in re.finditer(r"\{", text)][-MAX_ATTEMPTS:]
    for start in reversed(starts):
        try:
            value, _ = read_literal(text, start)
        except ParseError:
            continue
        if isinstance(value, dict) and must_contain in value:
            return value
    return None
