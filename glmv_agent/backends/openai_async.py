"""Async variant of OpenAIBackend for batch runs: same requests, parsing, errors and retries, on AsyncOpenAI."""

from __future__ import annotations

import asyncio
import time

import openai

from ..types import ChatMessage, Completion, GenerationParams
from .openai_backend import EndpointConfig, OpenAIBackend, _first_model


class AsyncOpenAIBackend(OpenAIBackend):
    """``agenerate`` on an ``openai.AsyncOpenAI`` client; ``generate`` (sync) keeps working too."""

    def __init__(self, config: EndpointConfig | None = None, client: openai.AsyncOpenAI | None = None) -> None:
        super().__init__(config)
        self.aclient = client.with_options(**self._client_options()) if client else openai.AsyncOpenAI(
            base_url=self.config.base_url, api_key=self._key, **self._client_options())
        self._model_alock = asyncio.Lock()

    async def agenerate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        """One completion (non-streamed); raises BackendError / BackendTimeout like ``generate``."""
        if not self._model:
            async with self._model_alock:
                if not self._model:
                    with self._errors("model list", "/models"):
                        page = await self.aclient.models.list()
                        self._model = _first_model([m.id for m in page.data], self.url)
        request = self.build_request(messages, params)
        started = time.perf_counter()
        with self._errors("chat completion", "/chat/completions"):
            completion = self._read_response(await self.aclient.chat.completions.create(**request))
        completion.latency_s = time.perf_counter() - started
        return completion

    async def aclose(self) -> None:
        await self.aclient.close()
        self.close()
