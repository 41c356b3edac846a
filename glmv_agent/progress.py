"""Live terminal progress (rich): a spinner naming the current phase and one line per finished step."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from .errors import UserAbort
from .oversight.guard import Answer
from .printable import no_controls
from .recording import StepRecord

_CHOICES = escape("[y]es/[n]o/[s]top")
_PHASES = {"observe": "looking at the screen", "generate": "waiting for the model", "execute": "acting"}


def shown(text: str) -> str:
    """``text`` (the model's or a page's) for a console line: control characters written as escapes (see
    :func:`glmv_agent.printable.no_controls`) and rich markup escaped."""
    return escape(no_controls(text))


def make_console(stderr: bool = False) -> Console:
    """The CLI's console: wraps lines to a terminal's width, but writes each line whole when the output goes to a
    file or a pipe (rich would wrap it at 80 columns, and step lines could no longer be grepped)."""
    console = Console(stderr=stderr, highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


class LiveProgress:
    """Use as a context manager around Agent.run; pass .phase, .step and .ask to the agent."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or make_console()
        self._status: Any = None
        self.tokens = 0

    def __enter__(self) -> LiveProgress:
        self._status = self.console.status("starting")
        self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()

    def phase(self, index: int, phase: str) -> None:
        if self._status is not None:
            self._status.update(f"step {index}: {_PHASES.get(phase, phase)}")

    def step(self, record: StepRecord) -> None:
        action = dict(record.action or {})
        name = action.pop("type", "-")
        action.pop("space", None)
        self.tokens += record.usage.prompt_tokens + record.usage.completion_tokens
        latency = record.timings.get("generate", 0.0)
        where = f" at {record.pixels}" if record.pixels else ""
        line = (
            f"[bold]step {record.index:>2}[/] [cyan]{shown(name):<16}[/] "
            f"{shown(json.dumps(action, ensure_ascii=False))}{shown(where)}  "
            f"[dim]model {latency:.1f}s, {self.tokens} tokens[/]"
        )
        if record.error:
            line += f"\n        [red]{shown(record.error_kind or 'error')}: {shown(record.error)}[/]"
        self.console.print(line)

    def takeover(self, message: str) -> None:
        """Hand the device to the person (AutoGLM's Take_over) and wait for Enter."""
        if self._status is not None:
            self._status.stop()
        try:
            self.console.input(f"[bold yellow]Your turn:[/] {shown(message)} [dim](press Enter when done)[/] ")
        except EOFError:
            raise UserAbort("stopped at the takeover prompt") from None
        finally:
            if self._status is not None:
                self._status.start()

    def ask(self, text: str) -> Answer:
        """Ask yes / no / stop on the terminal (the spinner pauses while asking)."""
        if self._status is not None:
            self._status.stop()
        try:
            while True:
                reply = self.console.input(f"[yellow]Allow[/] {shown(text)}? {_CHOICES} ").strip().lower()
                if reply in ("y", "yes"):
                    return "yes"
                if reply in ("n", "no"):
                    return "no"
                if reply in ("s", "stop"):
                    return "stop"
        except EOFError:
            return "stop"
        finally:
            if self._status is not None:
                self._status.start()
