"""The run folder's screenshots, written lossless on background threads: the next model request never waits for them.

Format, measured with benchmarks/bench_imaging.py on the 2-core VM (CPU time of the encoding thread; Chromium pages
and synthetic screens at 1920x1080 and 1080x2400; docs/core.md): PNG at zlib level 1 costs 22-54 ms and comes out
1.0-1.3x the size of Pillow's default PNG on every kind of screen. Lossless WebP at its fastest method (method 0,
effort 0) costs 26-57 ms and its size swings with the content: 0.5-0.7x on rendered pages, 1.1x on photo-like
screens, 5.7x on flat screens of text and solid colours (higher efforts fix that at 4-5x the time on photos).
PNG level 1 it is: the same cost, and a size that never surprises.

Each file is written under a temporary name and renamed, so a run folder never holds half an image; a step's line
may name an image still being written, which :meth:`TrajectoryWriter.wait` or :meth:`~TrajectoryWriter.flush`
settles (the recorder flushes when the run finishes, aborted runs included). A write that failed (an OSError such
as a full disk) raises its exception, once, from the next ``save``, ``wait`` or ``flush``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path

from PIL import Image

from .workers import Workers

SUFFIX = ".png"
PNG_LEVEL = 1  # zlib level 1: ~3x faster than Pillow's default 6 on screenshots, a few % larger
MAX_PENDING = 4  # images of one run queued at most (two steps with their set-of-marks copies): bounded memory

BACKGROUND_NICE = 10  # the writers' CPU priority below the agent's (Linux: per thread)


def _lower_priority() -> None:
    """Run this writer thread at a lower CPU priority: when the cores are busy (16 episodes encoding their model
    images at once in a batch), the encodings a request waits for go first and the trajectory PNGs fill the time
    the model takes. Linux sets a nice value per thread; elsewhere, or if refused, the thread keeps its priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):
        pass


_POOL = Workers("glmv-trajectory", initializer=_lower_priority)


def write_image(path: Path, image: Image.Image) -> None:
    """``image`` as PNG (zlib level 1) at ``path``, written under a temporary name and renamed into place."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        image.save(temporary, format="PNG", compress_level=PNG_LEVEL)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class TrajectoryWriter:
    """Writes images into ``folder`` on a shared pool of background threads, at most MAX_PENDING at a time per run."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._pending: dict[str, Future[None]] = {}
        self._error: Exception | None = None
        self._slots = threading.BoundedSemaphore(MAX_PENDING)
        self._lock = threading.Lock()

    def save(self, name: str, image: Image.Image) -> None:
        """Queue ``image`` to be written as ``folder/name``; blocks only while MAX_PENDING images of this run are
        still queued (the machine cannot keep up). Raises the exception of an earlier write that failed."""
        self._raise()
        self._slots.acquire()
        try:
            future = _POOL.submit(write_image, self.folder / name, image)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._pending[name] = future
        future.add_done_callback(lambda done, key=name: self._settle(key, done))

    def wait(self, names: Iterable[str | None]) -> None:
        """Block until the named images are on disk; raises the exception of a write that failed."""
        for name in names:
            with self._lock:
                future = self._pending.get(name) if name else None
            if future is not None:
                future.exception()
        self._raise()

    def flush(self) -> None:
        """Block until every queued image is on disk; raises the exception of a write that failed."""
        with self._lock:
            futures = list(self._pending.values())
        for future in futures:
            future.exception()
        self._raise()

    def _settle(self, name: str, future: Future[None]) -> None:
        error = future.exception()
        with self._lock:
            self._pending.pop(name, None)
            if isinstance(error, Exception) and self._error is None:
                self._error = error
        self._slots.release()

    def _raise(self) -> None:
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error
