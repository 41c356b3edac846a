"""Run a synchronous environment on its own thread and expose an async face (aobserve/aexecute/aclose).

Drivers such as Playwright's sync API must be used from the thread that created them, so each environment gets one
dedicated worker thread for its whole life; the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .types import Observation, Outcome


class ThreadedEnvironment:
    """Create the environment with ``factory`` on a private thread, then run every call there."""

    def __init__(self, factory: Callable[[], Any], name: str = "env") -> None:
        self._factory = factory
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"glmv-{name}")
        self._env: Any = None

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def astart(self) -> ThreadedEnvironment:
        await self._call(self._make)
        return self

    def _make(self) -> None:
        self._env = self._factory()  # set on the worker thread, so a start cancelled mid-way is still closed

    @property
    def platform(self) -> Any:
        return self._env.platform

    @property
    def inner(self) -> Any:
        return self._env

    async def aobserve(self) -> Observation:
        return await self._call(self._env.observe)

    async def aexecute(self, action: Any, observation: Observation) -> Outcome:
        return await self._call(self._env.execute, action, observation)

    async def acall(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(environment)`` on the environment's thread (e.g. read the page text for a success check)."""
        return await self._call(fn, self._env)

    async def aclose(self) -> None:
        try:
            if self._env is not None:
                await self._call(self._env.close)
        finally:
            self._pool.shutdown(wait=False)

    async def __aenter__(self) -> ThreadedEnvironment:
        try:
            return await self.astart()
        except BaseException:  # a failed or cancelled start: close what exists and free the thread
            await asyncio.shield(self._close_late())
            raise

    async def _close_late(self) -> None:
        """Close an environment whose factory may still be finishing on the worker thread."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._close_if_made)
        self._pool.shutdown(wait=False)

    def _close_if_made(self) -> None:
        if self._env is not None:
            self._env.close()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
