"""Waiting after an action until the screen has settled, so the model never sees a screen that is still changing.

After the action the monitor is captured every ``POLL_S``. The screen has settled once it changed from the capture
taken just before the action and then two consecutive captures ``still_s`` apart agree (nothing changed in
between). The wait ends at ``cap_s`` in any case: an action with no visible effect costs the whole cap (1 s by
default, the pause the official AutoGLM client makes after every action), and so does a screen that never stops
changing (a video). Captures are compared byte for byte, so a blinking caret counts as a change.

Limit: a pause longer than ``still_s`` between two changes (a button that highlights at once and opens a window
0.5 s later) ends the wait at the pause.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

POLL_S = 0.05


class Settled(BaseModel):
    """How the wait ended: after ``seconds``; ``changed``: the screen changed at all; ``still``: it then held still."""

    seconds: float
    changed: bool
    still: bool

    def describe(self, cap_s: float) -> str:
        """A note for the step's record when the model will see a screen that had not settled, else ''."""
        if self.changed and not self.still:
            return f"the screen was still changing after {cap_s:g} s"
        return ""


def wait_until_still(grab: Callable[[], bytes], before: bytes, cap_s: float, still_s: float) -> Settled:
    """Capture with ``grab`` until the screen changed from ``before`` and held still ``still_s``, at most ``cap_s``."""
    started = time.monotonic()
    deadline = started + cap_s
    last, changed_at = before, None
    while True:
        now = time.monotonic()
        if changed_at is not None and now - changed_at >= still_s:
            return Settled(seconds=now - started, changed=True, still=True)
        if now >= deadline:
            return Settled(seconds=now - started, changed=changed_at is not None, still=changed_at is None)
        time.sleep(min(POLL_S, deadline - now))
        current = grab()
        if current != last:
            last, changed_at = current, time.monotonic()


__all__ = ["POLL_S", "Settled", "wait_until_still"]
