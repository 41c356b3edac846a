"""What a web environment remembers of its recent observations: what resolving an action needs (the tab, the label
token, the scale, where each label's element lives), keyed by the observation's screenshot without keeping it alive.

An entry holds a weak reference to its screenshot, so the images (several MB each) are freed as soon as the caller
lets go of the observation; a lookup matches only while that very image object exists, so an id that Python reuses
for a later image never resolves against an old entry.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Generic, TypeVar

from PIL import Image

REMEMBERED = 8  # observations whose labels stay resolvable
T = TypeVar("T")


class RecentObservations(Generic[T]):
    """The action data of the last ``size`` observations, found again by their screenshot object."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[weakref.ref[Image.Image], T]] = OrderedDict()

    def remember(self, screenshot: Image.Image, data: T) -> None:
        """Keep ``data`` for the observation whose screenshot is ``screenshot``; the oldest beyond ``size`` goes."""
        self._entries[id(screenshot)] = (weakref.ref(screenshot), data)
        self._entries.move_to_end(id(screenshot))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def lookup(self, screenshot: Image.Image) -> T | None:
        """The data kept for this screenshot object, or None (not ours, too old, or a different image)."""
        entry = self._entries.get(id(screenshot))
        if entry is None or entry[0]() is not screenshot:
            return None
        return entry[1]


__all__ = ["REMEMBERED", "RecentObservations"]
