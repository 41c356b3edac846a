"""``glmv-agent assistant --no-browser``: the same conversation in the terminal.

Type a message and press Enter; the steps print as they happen; held actions are asked as yes / no / stop; Ctrl-C
stops the running task (it ends ``aborted``, its run folder saved); Ctrl-D or ``/quit`` ends the session.
"""

from __future__ import annotations

import queue

from rich.console import Console
from rich.markup import escape

from ..errors import GlmvError
from ..progress import make_console, shown
from .events import Answered, Ended, Held, PanelEvent, Routed, Stepped
from .session import AssistantSession

_CHOICES = escape("[y]es/[n]o/[s]top")
_ROUTES = {"task": "task: the agent acts", "question": "question: answered by looking, nothing is done"}


class TerminalChat:
    def __init__(self, session: AssistantSession, console: Console | None = None) -> None:
        self.session = session
        self.console = console or make_console()

    def run(self) -> int:
        """Read messages until end of input; returns the exit code (0)."""
        events: queue.Queue[PanelEvent | None] = queue.Queue()
        _, unsubscribe = self.session.bus.subscribe(events.put, after=len(self.session.bus.history()))
        self.console.print("[dim]A task for the agent, or a question about the screen. Ctrl-C stops a task, "
                           "Ctrl-D ends.[/]")
        try:
            while True:
                try:
                    text = self.console.input("[bold]you>[/] ").strip()
                except EOFError:
                    return 0
                if text in ("/quit", "/exit"):
                    return 0
                if not text:
                    continue
                try:
                    turn = self.session.submit(text)
                except GlmvError as exc:
                    self.console.print(f"[red]{shown(str(exc))}[/]")
                    continue
                self._follow(events, turn.number)
        finally:
            unsubscribe()

    def _follow(self, events: queue.Queue[PanelEvent | None], number: int) -> None:
        """Print the turn's events until it ends; Ctrl-C presses Stop."""
        while True:
            try:
                event = events.get()
                if event is None:
                    return
                self._show(event)
                if isinstance(event, Ended) and event.turn == number:
                    return
            except KeyboardInterrupt:
                self.console.print("[yellow]stopping the task...[/]")
                self.session.stop()

    def _show(self, event: PanelEvent) -> None:
        if isinstance(event, Routed):
            self.console.print(f"[dim]({_ROUTES[event.kind]})[/]")
        elif isinstance(event, Stepped):
            line = f"[bold]step {event.step:>2}[/] [cyan]{shown(event.action or 'no action')}[/]"
            if event.result:
                line += f"  [dim]{shown(event.result)}[/]"
            if event.error:
                line += f"\n        [red]{shown(event.error)}[/]"
            self.console.print(line)
        elif isinstance(event, Held):
            self._hold(event)
        elif isinstance(event, Answered):
            self.console.print(f"[green]answer:[/] {shown(event.text)}")
        elif isinstance(event, Ended):
            self._ended(event)

    def _hold(self, event: Held) -> None:
        if event.kind == "takeover":
            prompt = f"[bold yellow]Your turn:[/] {shown(event.text)} [dim](Enter when done, s to stop)[/] "
            reply = self._input(prompt)
            answer = "stop" if reply in ("s", "stop", None) else "yes"
        else:
            answer = None
            while answer is None:
                reply = self._input(f"[yellow]Allow[/] {shown(event.text)}? {_CHOICES} ")
                answer = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "s": "stop", "stop": "stop"}.get(
                    reply if reply is not None else "stop")
        if answer == "stop":
            self.session.stop()
        else:
            self.session.resolve(event.hold, answer)  # type: ignore[arg-type]

    def _input(self, prompt: str) -> str | None:
        try:
            return self.console.input(prompt).strip().lower()
        except EOFError:
            return None

    def _ended(self, event: Ended) -> None:
        colour = "green" if event.status in ("complete", "answered") else "red"
        if event.kind != "question":
            self.console.print(f"status: [{colour}]{shown(event.status)}[/]")
            if event.answer:
                self.console.print(f"answer: {shown(event.answer)}")
        if event.error:
            self.console.print(f"reason: {shown(event.error)}")
        if event.folder:
            self.console.print(f"[dim]run folder: {shown(event.folder)}[/]")
