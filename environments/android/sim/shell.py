"""A small POSIX `sh -c` for the simulated phone: adbd hands every shell/exec command to `sh -c`, so the
simulator parses commands the way the device does. Quoting (single, double, backslash), `;` `&&` `||` `&` `|`,
`$?` and `$VAR`, `#` comments and `~` follow sh; command substitution and redirections are refused with an error
(so text that reaches the shell unquoted breaks here as it would on a phone). Builtins: echo, true, false, exit,
`:`, sleep; text filters: grep, head, tail, cat.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from .transport import ServiceResult

SHELL = "/system/bin/sh"
OPERATORS = ("&&", "||", ";", "&", "|", "\n")
Runner = Callable[[list[str], bytes], ServiceResult]


class ShellSyntaxError(Exception):
    """The script cannot be run by the simulated shell."""


@dataclass(frozen=True)
class Segment:
    text: str
    variable: bool = False  # ``text`` is a variable name to expand
    quoted: bool = False


Word = tuple[Segment, ...]


@dataclass(frozen=True)
class Op:
    value: str


class _Lexer:
    def __init__(self, script: str) -> None:
        self.s = script
        self.i = 0
        self.tokens: list[Word | Op] = []
        self.word: list[Segment] = []
        self.started = False  # a word is in progress (even an empty quoted one)

    def lex(self) -> list[Word | Op]:
        while self.i < len(self.s):
            self._step()
        self._end_word()
        return self.tokens

    def _step(self) -> None:
        c = self.s[self.i]
        if c in " \t":
            self._end_word()
            self.i += 1
        elif c == "#" and not self.started:
            while self.i < len(self.s) and self.s[self.i] != "\n":
                self.i += 1
        elif c == "\\":
            self._backslash()
        elif c == "'":
            end = self.s.find("'", self.i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quoted string")
            self._add(self.s[self.i + 1 : end], quoted=True)
            self.i = end + 1
        elif c == '"':
            self._double_quoted()
        elif c == "$":
            self._dollar(quoted=False)
        elif c in "`()<>":
            self._refuse(c)
        elif c == "~" and not self.started and self._tilde_ends(self.i + 1):
            self._add("/", quoted=False)  # HOME of the shell user on Android
            self.i += 1
        elif any(self.s.startswith(op, self.i) for op in OPERATORS):
            op = next(op for op in OPERATORS if self.s.startswith(op, self.i))
            self._end_word()
            self.tokens.append(Op(op))
            self.i += len(op)
        else:
            self._add(c, quoted=False)
            self.i += 1

    @staticmethod
    def _refuse(c: str) -> None:
        if c == "`":
            raise ShellSyntaxError("command substitution is not supported by the simulated phone")
        raise ShellSyntaxError(f"syntax error: '{c}' unexpected (no subshells or redirections on the simulated phone)")

    def _tilde_ends(self, j: int) -> bool:
        return j >= len(self.s) or self.s[j] in "/ \t\n;&|"

    def _backslash(self) -> None:
        if self.i + 1 >= len(self.s):
            self._add("\\", quoted=False)
            self.i += 1
        elif self.s[self.i + 1] == "\n":
            self.i += 2  # line continuation
        else:
            self._add(self.s[self.i + 1], quoted=True)
            self.i += 2

    def _double_quoted(self) -> None:
        self.i += 1
        self.started = True
        while True:
            if self.i >= len(self.s):
                raise ShellSyntaxError("unterminated quoted string")
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self.i + 1 < len(self.s) and self.s[self.i + 1] in '$`"\\\n':
                if self.s[self.i + 1] != "\n":
                    self._add(self.s[self.i + 1], quoted=True)
                self.i += 2
            elif c == "$":
                self._dollar(quoted=True)
            elif c == "`":
                raise ShellSyntaxError("command substitution is not supported by the simulated phone")
            else:
                self._add(c, quoted=True)
                self.i += 1

    def _dollar(self, quoted: bool) -> None:
        rest = self.s[self.i + 1 :]
        if rest.startswith("("):
            raise ShellSyntaxError("command substitution is not supported by the simulated phone")
        match = re.match(r"\{(\w+|\?)\}|(\?|[A-Za-z_]\w*|\d)", rest)
        if not match:
            self._add("$", quoted=quoted)
            self.i += 1
            return
        name = match.group(1) or match.group(2)
        self.word.append(Segment(name, variable=True, quoted=quoted))
        self.started = True
        self.i += 1 + match.end()

    def _add(self, text: str, quoted: bool) -> None:
        self.word.append(Segment(text, quoted=quoted))
        self.started = True

    def _end_word(self) -> None:
        if self.started:
            self.tokens.append(tuple(self.word))
        self.word, self.started = [], False


def tokenize(script: str) -> list[Word | Op]:
    return _Lexer(script).lex()


def parse(script: str) -> list[tuple[str, list[list[Word]]]]:
    """The script as (connector, pipeline) pairs; connector is '' for the first, then ';', '&&' or '||'."""
    items: list[tuple[str, list[list[Word]]]] = []
    connector, pipeline, command = "", [], []  # type: ignore[var-annotated]
    for token in tokenize(script):
        if isinstance(token, Op):
            if token.value == "|":
                if not command:
                    raise ShellSyntaxError("syntax error: '|' unexpected")
                pipeline.append(command)
                command = []
                continue
            if not command:
                if token.value in ("&&", "||") or pipeline:
                    raise ShellSyntaxError(f"syntax error: '{token.value}' unexpected")
                continue
            items.append((connector, [*pipeline, command]))
            connector = {"&": ";", "\n": ";"}.get(token.value, token.value)
            pipeline, command = [], []
        else:
            command.append(token)
    if pipeline and not command:
        raise ShellSyntaxError("syntax error: unexpected end of file")
    if command:
        items.append((connector, [*pipeline, command]))
    return items


def expand(words: list[Word], variables: dict[str, str]) -> list[str]:
    argv = []
    for word in words:
        text = "".join(variables.get(s.text, "") if s.variable else s.text for s in word)
        if text or any(s.quoted or not s.variable for s in word):
            argv.append(text)
    return argv


class Shell:
    """Runs scripts; ``runner`` executes non-builtin commands (the phone's programs)."""

    def __init__(self, runner: Runner, environment: dict[str, str] | None = None) -> None:
        self.runner = runner
        self.variables = {"HOME": "/", "PATH": "/system/bin", **(environment or {})}

    def run(self, script: str) -> ServiceResult:
        try:
            items = parse(script)
        except ShellSyntaxError as exc:
            return ServiceResult(stderr=f"{SHELL}: {exc}\n".encode(), exit_code=2)
        out, err, status = bytearray(), bytearray(), 0
        for connector, pipeline in items:
            if (connector == "&&" and status != 0) or (connector == "||" and status == 0):
                continue
            result, finished = self._pipeline(pipeline)
            out += result.stdout
            err += result.stderr
            status = result.exit_code
            if finished:
                break
        return ServiceResult(bytes(out), bytes(err), status)

    def _pipeline(self, pipeline: list[list[Word]]) -> tuple[ServiceResult, bool]:
        stdin, err = b"", bytearray()
        result = ServiceResult()
        for words in pipeline:
            argv = expand(words, self.variables)
            if argv and argv[0] == "exit":
                code = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else int(self.variables["?"])
                return ServiceResult(stdin, bytes(err), code & 0xFF), True
            result = self._command(argv, stdin) if argv else ServiceResult()
            stdin = result.stdout
            err += result.stderr
        self.variables["?"] = str(result.exit_code)
        return ServiceResult(stdin, bytes(err), result.exit_code), False

    def _command(self, argv: list[str], stdin: bytes) -> ServiceResult:
        name, args = argv[0], argv[1:]
        if name == "echo":
            newline = not (args and args[0] == "-n")
            text = " ".join(args[1:] if not newline else args)
            return ServiceResult((text + ("\n" if newline else "")).encode())
        if name in ("true", ":"):
            return ServiceResult()
        if name == "false":
            return ServiceResult(exit_code=1)
        if name == "sleep":
            time.sleep(min(5.0, float(args[0]) if args and _is_number(args[0]) else 0.0))
            return ServiceResult()
        if name in FILTERS:
            return FILTERS[name](args, stdin)
        return self.runner(argv, stdin)


def _is_number(text: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+)?", text) is not None


def _grep(args: list[str], stdin: bytes) -> ServiceResult:
    flags = {a for a in args if a.startswith("-")}
    patterns = [a for a in args if not a.startswith("-")]
    if not patterns:
        return ServiceResult(stderr=b"grep: no pattern\n", exit_code=2)
    options = re.IGNORECASE if any("i" in f for f in flags) else 0
    pattern = re.escape(patterns[0]) if any("F" in f for f in flags) else patterns[0]
    regex = re.compile(pattern, options)
    invert = any("v" in f for f in flags)
    lines = [line for line in stdin.decode("utf-8", "replace").splitlines() if bool(regex.search(line)) != invert]
    return ServiceResult("".join(line + "\n" for line in lines).encode(), exit_code=0 if lines else 1)


def _head_tail(args: list[str], stdin: bytes, tail: bool) -> ServiceResult:
    count = 10
    for i, arg in enumerate(args):
        if arg == "-n" and i + 1 < len(args) and args[i + 1].isdigit():
            count = int(args[i + 1])
        elif re.fullmatch(r"-\d+", arg):
            count = int(arg[1:])
    lines = stdin.splitlines(keepends=True)
    chosen = lines[-count:] if tail and count else lines[:count]
    return ServiceResult(b"".join(chosen))


FILTERS: dict[str, Callable[[list[str], bytes], ServiceResult]] = {
    "grep": _grep,
    "head": lambda args, stdin: _head_tail(args, stdin, tail=False),
    "tail": lambda args, stdin: _head_tail(args, stdin, tail=True),
    "cat": lambda args, stdin: ServiceResult(stdin),
}
