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
from typing import Any

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


class StillFrame:
    """The capture a settle wait is confirming, made into an image early so it can be encoded during the wait.

    Wraps a ``grab`` returning (raw bytes, capture) for :func:`wait_until_still`. A frame seen on two polls in a row
    (it has held still for one poll) is converted once with ``convert`` and handed to ``hook`` (the backend's
    prefetch: it starts encoding the model image on a worker thread while the wait goes on). ``take(raw)`` gives
    that image back, once, when ``raw`` (a capture taken later) still shows the same frame, so the observation
    is the image the backend already encoded.
    """

    def __init__(self, grab: Callable[[], tuple[bytes, Any]], convert: Callable[[Any], Any],
                 hook: Callable[[Any], None] | None) -> None:
        self._grab, self._convert, self._hook = grab, convert, hook
        self._last: bytes | None = None
        self._raw: bytes | None = None
        self._image: Any = None

    def grab(self) -> bytes:
        raw, capture = self._grab()
        if raw == self._last and raw != self._raw:
            self._raw, self._image = raw, self._convert(capture)
            if self._hook is not None:
                self._hook(self._image)
        self._last = raw
        return raw

    def take(self, raw: bytes) -> Any | None:
        """The confirmed frame's image when ``raw`` equals it, else None; forgets it either way."""
        image, same = self._image, self._raw is not None and self._raw == raw
        self._raw = self._image = None
        return image if same else None


__all__ = ["POLL_S", "Settled", "StillFrame", "wait_until_still"]
