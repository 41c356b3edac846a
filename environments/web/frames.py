"""Set-of-marks across frames: the elements of every visible iframe, same-origin or not, get labels too.

The labelling script runs in each frame on its own (Playwright reaches cross-origin frames, which Chromium runs in
other processes, through their own execution contexts). A frame's elements take the place of the ``<iframe>``
element in document order; their boxes move by the frame's content origin into the page's viewport and are clipped
to the part of the frame its parent shows. An ``<iframe>`` whose document cannot be read, or shows nothing to
label, keeps its own label. Each element is found again by its frame and its ``data-glmv-mark`` value: the main
document's tokens are ``<observation>``, a frame's ``<observation>.<i>`` (``.<j>`` per level deeper).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame

from .js import MARK_ATTR, MARK_JS

log = logging.getLogger(__name__)
MAX_DEPTH = 3  # frames inside frames inside frames; deeper ones keep their <iframe> label
FRAME_LOOKUP_MS = 1000


@dataclass(frozen=True)
class Target:
    """Where a labelled element lives: its frame and the value of its ``data-glmv-mark`` attribute there."""

    frame: Frame
    mark: str


def label_frames(frame: Frame, token: str, max_elements: int, limit: int) -> list[tuple[dict[str, Any], Target]]:
    """The labelling script's records for ``frame`` and the frames inside it, in document order, with boxes in
    the viewport of ``frame`` (CSS pixels), each with the Target that finds it again; at most ``max_elements``."""
    found: list[tuple[dict[str, Any], Target]] = []
    _collect(frame, token, (0.0, 0.0), None, found, (max_elements, limit), 0)
    return found[:max_elements]


def _collect(frame: Frame, token: str, offset: tuple[float, float], clip: list[float] | None,
             found: list[tuple[dict[str, Any], Target]], limits: tuple[int, int], depth: int) -> None:
    max_elements, limit = limits
    args = {"attr": MARK_ATTR, "token": token, "max": max_elements - len(found), "limit": limit, "clip": clip}
    for index, item in enumerate(frame.evaluate(MARK_JS, args)):
        if len(found) >= max_elements:
            return
        mark = f"{token}-{index}"
        if item.get("origin") and depth < MAX_DEPTH:
            if _descend(frame, mark, item, f"{token}.{index}", offset, found, limits, depth):
                continue
        x1, y1, x2, y2 = item["box"]
        box = [x1 + offset[0], y1 + offset[1], x2 + offset[0], y2 + offset[1]]
        found.append(({**item, "box": box}, Target(frame, mark)))


def _descend(frame: Frame, mark: str, item: dict[str, Any], token: str, offset: tuple[float, float],
             found: list[tuple[dict[str, Any], Target]], limits: tuple[int, int], depth: int) -> bool:
    """Label the frame shown by the <iframe> ``item``; False (nothing added) when it cannot be read or is empty."""
    child = _child_frame(frame, mark)
    if child is None:
        return False
    ox, oy = item["origin"]
    x1, y1, x2, y2 = item["box"]
    before = len(found)
    try:
        _collect(child, token, (offset[0] + ox, offset[1] + oy), [x1 - ox, y1 - oy, x2 - ox, y2 - oy], found,
                 limits, depth + 1)
    except PlaywrightError as exc:  # detached or navigating meanwhile: keep the <iframe> itself
        log.debug("could not label a frame: %s", exc)
        del found[before:]
    return len(found) > before


def _child_frame(frame: Frame, mark: str) -> Frame | None:
    try:
        handle = frame.locator(f'[{MARK_ATTR}="{mark}"]').element_handle(timeout=FRAME_LOOKUP_MS)
        child = handle.content_frame()
        handle.dispose()
    except PlaywrightError as exc:
        log.debug("no frame behind %s: %s", mark, exc)
        return None
    return child
