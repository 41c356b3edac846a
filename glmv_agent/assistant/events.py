"""What the panel is told, as it happens: one pydantic model per kind of event, and the bus that numbers them and
fans them out to every open panel (and the terminal chat).

Events are JSON objects with a ``type``; ``id`` counts from 1 in publishing order, so a panel that reconnects asks
for the events after the last id it saw (server-sent events' ``Last-Event-ID``) and a new panel replays them all.
``turn`` is the conversation turn (1, 2, ...) an event belongs to; 0 for session-wide events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

Kind = Literal["task", "question"]


class PanelEvent(BaseModel):
    type: str
    id: int = 0
    turn: int = 0


class Said(PanelEvent):
    """The person's message, as received."""

    type: Literal["said"] = "said"
    text: str


class Routed(PanelEvent):
    """The model decided what the message is: a task to carry out, or a question answered by looking."""

    type: Literal["routed"] = "routed"
    kind: Kind


class Phase(PanelEvent):
    """The agent started a phase of a step: ``observe`` | ``generate`` | ``execute``."""

    type: Literal["phase"] = "phase"
    step: int
    phase: str


class Planned(PanelEvent):
    """The model chose a device action, not yet run; ``image`` is the screenshot with the action marked."""

    type: Literal["planned"] = "planned"
    step: int
    action: str
    image: str


class Stepped(PanelEvent):
    """One model call finished (the action ran, was blocked or failed, or the model's reply was unusable)."""

    type: Literal["step"] = "step"
    step: int
    attempt: int = 0
    thought: str = ""
    action: str = ""
    result: str = ""
    error: str | None = None
    image: str | None = None


class Held(PanelEvent):
    """The agent waits for the person: ``confirm`` an action (Approve / Deny) or ``takeover`` (Continue / Stop)."""

    type: Literal["held"] = "held"
    hold: int
    kind: Literal["confirm", "takeover"]
    text: str


class Released(PanelEvent):
    """A hold was answered: ``yes`` (approved / continue), ``no`` (denied) or ``stop``."""

    type: Literal["released"] = "released"
    hold: int
    answer: str


class Answered(PanelEvent):
    """A question's answer, read from ``image`` (the screenshot the model was shown); nothing was executed."""

    type: Literal["answered"] = "answered"
    text: str
    image: str | None = None


class Ended(PanelEvent):
    """A turn ended. ``status`` is a run status (complete, aborted, ...) for tasks, ``answered`` or ``error``."""

    type: Literal["ended"] = "ended"
    kind: Kind | None = None
    status: str
    answer: str | None = None
    error: str | None = None
    report: str | None = None  # panel URL of the task's report.html
    folder: str | None = None  # panel URL of the task's run folder


class State(PanelEvent):
    """Whether a message is being handled, and whether Stop was pressed for it."""

    type: Literal["state"] = "state"
    busy: bool
    stopping: bool = False


Subscriber = Callable[["PanelEvent | None"], None]  # None: the bus closed


class EventBus:
    """Thread-safe, ordered publish/subscribe with the whole history kept for late subscribers.

    Subscribers are called under the bus lock, in publishing order, so they must not block (put on a queue).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[PanelEvent] = []
        self._subscribers: list[Subscriber] = []
        self._closed = False

    def publish(self, event: PanelEvent) -> PanelEvent:
        with self._lock:
            event.id = len(self._events) + 1
            self._events.append(event)
            for subscriber in list(self._subscribers):
                subscriber(event)
        return event

    def subscribe(self, subscriber: Subscriber, after: int = 0) -> tuple[list[PanelEvent], Callable[[], None]]:
        """The events after id ``after`` (to replay) and an unsubscribe function; later events go to ``subscriber``.

        On a closed bus the subscriber is called with None at once."""
        with self._lock:
            backlog = self._events[max(0, after):]
            if self._closed:
                subscriber(None)
            else:
                self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return backlog, unsubscribe

    def close(self) -> None:
        """Tell every subscriber the stream ended (None), e.g. when the server shuts down."""
        with self._lock:
            self._closed = True
            for subscriber in self._subscribers:
                subscriber(None)
            self._subscribers.clear()

    def history(self) -> list[PanelEvent]:
        with self._lock:
            return list(self._events)
