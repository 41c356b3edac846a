"""CPU-time bounds for tests that prove code is fast (parsers that must not backtrack on hostile input)."""

from __future__ import annotations

import gc
import time


class CpuClock:
    """A context manager: ``seconds`` is the CPU time this thread spent inside the block (``time.thread_time``),
    measured with the garbage collector paused.

    CPU time rather than wall time, so a busy machine does not count; the collector paused because a full
    collection walks every object the test process holds (about 160 ms with the whole suite imported), so whether
    one falls inside the block says nothing about the code measured."""

    seconds: float = 0.0

    def __enter__(self) -> CpuClock:
        self._collecting = gc.isenabled()
        gc.disable()
        self._started = time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.thread_time() - self._started
        if self._collecting:
            gc.enable()
