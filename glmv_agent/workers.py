"""Thread pools for CPU work that releases the GIL (image encoding, trajectory PNGs): one thread per usable core.

A pool's threads do not exist in a child made by ``fork`` (multiprocessing's default start method on Linux), yet the
copied pool believes they do and would queue the child's work forever; each pool here is made anew in the child.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which container CPU sets narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1


class Workers:
    """A ``ThreadPoolExecutor`` of max(2, usable cores) threads named ``name``, renewed in a forked child.

    ``initializer`` runs in each new thread (e.g. to lower its CPU priority)."""

    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        self.name = name
        self.initializer = initializer
        self.executor = self._make()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._renew)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.executor.submit(fn, *args)

    def _make(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=max(2, usable_cores()), thread_name_prefix=self.name,
                                  initializer=self.initializer)

    def _renew(self) -> None:
        self.executor = self._make()


__all__ = ["Workers", "usable_cores"]
