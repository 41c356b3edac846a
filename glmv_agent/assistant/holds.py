"""Holds: the agent's thread waits for the person (approve an action, or continue after a takeover) until the panel
or the terminal answers, Stop is pressed or the session closes."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..oversight.guard import Answer
from .events import EventBus, Held, Released


@dataclass
class _Pending:
    turn: int
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answer = "stop"


class Holds:
    """``ask`` blocks the calling (agent) thread; ``resolve`` and ``release_all`` come from any other thread.

    ``stopping`` tells whether Stop was pressed: a hold opened after that answers ``stop`` at once (whoever presses
    Stop sets that flag first, then calls ``release_all``, so no hold can be missed between the two)."""

    def __init__(self, bus: EventBus, stopping: Callable[[], bool]) -> None:
        self._bus = bus
        self._stopping = stopping
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._numbers = itertools.count(1)

    def ask(self, turn: int, kind: Literal["confirm", "takeover"], text: str) -> Answer:
        """Publish a Held event and wait for its answer (``yes`` | ``no`` | ``stop``); publish Released."""
        with self._lock:
            number = next(self._numbers)
            pending = self._pending[number] = _Pending(turn)
        self._bus.publish(Held(turn=turn, hold=number, kind=kind, text=text))
        if self._stopping():
            self.resolve(number, "stop")
        pending.done.wait()
        with self._lock:
            self._pending.pop(number, None)
        self._bus.publish(Released(turn=turn, hold=number, answer=pending.answer))
        return pending.answer

    def resolve(self, number: int, answer: Answer) -> bool:
        """Answer hold ``number``; False when there is no such open hold."""
        with self._lock:
            pending = self._pending.get(number)
            if pending is None or pending.done.is_set():
                return False
            pending.answer = answer
            pending.done.set()
            return True

    def release_all(self, answer: Answer = "stop") -> None:
        with self._lock:
            for pending in self._pending.values():
                if not pending.done.is_set():
                    pending.answer = answer
                    pending.done.set()

    def open_holds(self) -> list[int]:
        with self._lock:
            return [n for n, p in self._pending.items() if not p.done.is_set()]
