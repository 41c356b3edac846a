"""Async variant of OpenAIBackend for batch runs: same requests, parsing and retry policy, on AsyncOpenAI."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import openai

from ..types import ChatMessage, Completion, GenerationParams
from .openai_backend import EndpointConfig, OpenAIBackend, _Attempt

logger = logging.getLogger(__name__)


class AsyncOpenAIBackend(OpenAIBackend):
    """``agenerate`` on an ``openai.AsyncOpenAI`` client; ``generate`` (sync) keeps working too."""

    def __init__(self, config: EndpointConfig | None = None, client: openai.AsyncOpenAI | None = None) -> None:
        super().__init__(config)
        key = self.config.api_key.get_secret_value() if self.config.api_key else "EMPTY"
        self.aclient = client.with_options(max_retries=0, timeout=self.config.timeout_s) if client else \
            openai.AsyncOpenAI(base_url=self.config.base_url, api_key=key, timeout=self.config.timeout_s, max_retries=0)
        self._model_alock = asyncio.Lock()

    async def agenerate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        if not self._model:
            async with self._model_alock:
                if not self._model:
                    self._model = await self._aretries("model list", self._afirst_model)
        request = self.build_request(messages, params)
        return await self._aretries("chat completion", lambda: self._acomplete(request))

    async def _acomplete(self, request: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        try:
            response = await self.aclient.chat.completions.create(**request)
        except openai.APIError as exc:
            raise self._classify(exc, "/chat/completions") from exc
        except ValueError as exc:
            raise _Attempt(f"unreadable answer from {self.url}/chat/completions: {exc}", retryable=False) from exc
        completion = self._read_response(response)
        completion.latency_s = time.perf_counter() - started
        return completion

    async def _afirst_model(self) -> str:
        try:
            page = await self.aclient.models.list()
        except openai.APIError as exc:
            raise self._classify(exc, "/models") from exc
        models = [m.id for m in page.data]
        if not models:
            raise _Attempt(f"{self.url}/models lists no model: set GLMV_MODEL", retryable=False)
        return models[0]

    async def _aretries(self, what: str, call: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await call()
            except _Attempt as failure:
                await asyncio.sleep(self._retry_delay(what, failure, attempt))
                attempt += 1

    async def aclose(self) -> None:
        await self.aclient.close()
        self.close()
