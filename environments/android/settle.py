"""Waiting after an action until the phone's screen has stopped changing, so the model never sees a screen that
was still moving (an app opening, a page sliding in, a list still scrolling).

The screen is still when two consecutive captures are byte-identical PNGs (``screencap -p`` encodes the same frame
to the same bytes, so nothing is decoded to compare). The wait ends there or at ``cap_s``: the official AutoGLM
client pauses a fixed 1 s after every action. The capture the wait ended on is kept with its time, and the next
observation uses it when it is fresh, so on a screen that is already still the wait costs one capture.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

FRESH_S = 0.5  # a kept capture older than this is not the next observation (the agent paused in between)


class Settled(BaseModel):
    """How one wait went: ``still`` when two captures agreed, else the cap ran out or a capture failed."""

    still: bool
    seconds: float
    captures: int
    frame: bytes | None = None  # the last capture (PNG), when it worked
    taken: float = 0.0  # clock() when ``frame`` was complete

    def describe(self) -> str:
        state = "still" if self.still else "still changing"
        return f"screen {state} after {self.seconds:.2f} s ({self.captures} captures)"


class ScreenSettler:
    """Waits until ``capture`` (one PNG of the screen, or None when it failed) returns the same bytes twice."""

    def __init__(self, capture: Callable[[], bytes | None], *, cap_s: float, poll_s: float,
                 sleep: Callable[[float], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.capture = capture
        self.cap_s, self.poll_s = cap_s, poll_s
        self.sleep, self.clock = sleep, clock
        self.kept: Settled | None = None

    def wait(self) -> Settled:
        start = self.clock()
        previous = self.capture()
        captures = 1
        while previous is not None and self.clock() - start < self.cap_s:
            if self.poll_s:
                self.sleep(self.poll_s)
            current = self.capture()
            captures += 1
            if current is not None and current == previous:
                return self._keep(Settled(still=True, seconds=self.clock() - start, captures=captures,
                                          frame=current, taken=self.clock()))
            previous = current
        return self._keep(Settled(still=False, seconds=self.clock() - start, captures=captures, frame=previous,
                                  taken=self.clock()))

    def _keep(self, settled: Settled) -> Settled:
        self.kept = settled if settled.frame is not None else None
        return settled

    def take_fresh(self) -> bytes | None:
        """The capture the last wait ended on, once, if it is at most FRESH_S old; else None."""
        kept, self.kept = self.kept, None
        if kept is None or self.clock() - kept.taken > FRESH_S:
            return None
        return kept.frame
