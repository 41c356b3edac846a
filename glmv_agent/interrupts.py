"""Termination signals taken like Ctrl-C, so a run stopped by SIGTERM or SIGHUP (a closed terminal, a process
manager, a CI timeout) still ends ``aborted`` with its summary, finish time and report written."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """A termination signal arrived; the message names it (``terminated by SIGTERM``)."""


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """While inside, the first SIGTERM/SIGHUP raises :class:`Terminated` in the main thread (where the loop catches
    it as it catches Ctrl-C); later ones are ignored so the record can be finished. Outside the main thread, or
    where the platform has neither signal, it does nothing."""
    if threading.current_thread() is not threading.main_thread() or not SIGNALS:
        yield
        return
    fired = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if not fired.is_set():
            fired.set()
            raise Terminated(f"terminated by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, interrupt) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
