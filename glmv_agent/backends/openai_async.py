"""Async variant of OpenAIBackend for batch runs: same requests, parsing, errors and retries, on AsyncOpenAI."""

from __future__ import annotations

import asyncio
import time

import openai

from ..types import ChatMessage, Completion, GenerationParams
from ..workers import Workers
from .openai_backend import EndpointConfig, OpenAIBackend, _first_model, _Refused
from .thinking import Pass, adrive

# Building a request encodes its screenshots: tens of ms of CPU each, on threads (Pillow releases the GIL). They run
# on this pool of one thread per core, not on the event loop's default executor: a new openai client's first requests
# each run a platform probe there before they are sent, and a batch's queued encodes held every first request back
# until all of them were encoded. The answers then came back at once and the episodes moved in step from round to
# round (benchmarks/bench_batch.py at concurrency 16: 11.1x the concurrency-1 rate before, 13.2x after; docs/batch.md).
_BUILDERS = Workers("glmv-request")


class AsyncOpenAIBackend(OpenAIBackend):
    """``agenerate`` on an ``openai.AsyncOpenAI`` client; ``generate`` (sync) keeps working too.

    One event loop at a time: used from a new loop (``asyncio.run`` again), the backend makes itself a new client,
    since the connections of the old one belong to the closed loop. A ``client`` passed in is the caller's to renew.
    """

    def __init__(self, config: EndpointConfig | None = None, client: openai.AsyncOpenAI | None = None) -> None:
        super().__init__(config)
        self._given = client
        self.aclient = self._new_client()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._model_alock: asyncio.Lock  # made by _bind, for the loop the backend is used on

    def _new_client(self) -> openai.AsyncOpenAI:
        if self._given is not None:
            return self._given.with_options(**self._client_options())
        # openai's default HTTP client closes itself on the running loop when collected, which fails for one whose
        # connections belong to a closed loop; its public DefaultAsyncHttpxClient (same defaults) does not try.
        return openai.AsyncOpenAI(base_url=self.config.base_url, api_key=self._key,
                                  http_client=openai.DefaultAsyncHttpxClient(), **self._client_options())

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop; a client and lock of its own when it is not the loop the backend was last used on."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None and self._given is None:
                self.aclient = self._new_client()
            self._loop, self._model_alock = loop, asyncio.Lock()
        return loop

    async def agenerate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        """One completion (non-streamed; two requests when a cut thinking is answered); raises BackendError /
        BackendTimeout like ``generate``."""
        loop = self._bind()
        if not self._model:
            async with self._model_alock:
                if not self._model:
                    with self._errors("model list", "/models"):
                        page = await self.aclient.models.list()
                        self._model = _first_model([m.id for m in page.data], self.url)
        request = await loop.run_in_executor(_BUILDERS.executor, self.build_request, messages, params)
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
