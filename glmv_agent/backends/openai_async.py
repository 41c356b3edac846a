"""Async variant of OpenAIBackend for batch runs: same requests, parsing, errors and retries, on AsyncOpenAI."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

import openai

from ..types import ChatMessage, Completion, GenerationParams
from .openai_backend import EndpointConfig, OpenAIBackend, _first_model, _Refused
from .thinking import Pass, adrive

# Building a request encodes its screenshots: tens of ms of CPU each, on threads (Pillow releases the GIL). They run
# on this pool of one thread per core, not on the event loop's default executor: a new openai client's first requests
# each run a platform probe there before they are sent, and a batch's queued encodes held every first request back
# until all of them were encoded. The answers then came back at once and the episodes moved in step from round to
# round (benchmarks/bench_batch.py at concurrency 16: 11.1x the concurrency-1 rate before, 13.2x after; docs/batch.md).
_BUILDERS = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="glmv-request")


class AsyncOpenAIBackend(OpenAIBackend):
    """``agenerate`` on an ``openai.AsyncOpenAI`` client; ``generate`` (sync) keeps working too."""

    def __init__(self, config: EndpointConfig | None = None, client: openai.AsyncOpenAI | None = None) -> None:
        super().__init__(config)
        self.aclient = client.with_options(**self._client_options()) if client else openai.AsyncOpenAI(
            base_url=self.config.base_url, api_key=self._key, **self._client_options())
        self._model_alock = asyncio.Lock()

    async def agenerate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        """One completion (non-streamed; two requests when a cut thinking is answered); raises BackendError /
        BackendTimeout like ``generate``."""
        if not self._model:
            async with self._model_alock:
                if not self._model:
                    with self._errors("model list", "/models"):
                        page = await self.aclient.models.list()
                        self._model = _first_model([m.id for m in page.data], self.url)
        request = await asyncio.get_running_loop().run_in_executor(_BUILDERS, self.build_request, messages, params)
        started = time.perf_counter()
        completion = await adrive(self.exchange(request, params), self._asend)
        completion.latency_s = time.perf_counter() - started
        return completion

    async def _asend(self, step: Pass) -> Completion | None:
        """One request; None when ``step`` is refusable and the server answered 400."""
        try:
            with self._errors("chat completion", "/chat/completions", step.refusable):
                return self._read_response(await self.aclient.chat.completions.create(**step.request))
        except _Refused:
            return None

    async def aclose(self) -> None:
        await self.aclient.close()
        self.close()
