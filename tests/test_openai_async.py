"""AsyncOpenAIBackend under concurrency: requests of a batch leave as soon as each one is built."""

from __future__ import annotations

import asyncio
import threading
import time

from PIL import Image

from glmv_agent.backends.openai_async import AsyncOpenAIBackend
from glmv_agent.backends.openai_backend import EndpointConfig
from glmv_agent.types import ChatMessage, GenerationParams, ImagePart, TextPart
from tests.support import FakeOpenAIServer, RecordedRequest

CALLS = 12


def screen(seed: int) -> Image.Image:
    """Half a 1080x2400 phone screen of noise: encoding it costs tens of ms of CPU, like a photo-heavy screen."""
    return Image.effect_noise((1080, 1200), 40 + seed).convert("RGB")


def test_first_requests_reach_the_server_before_the_last_ones_are_built() -> None:
    """Twelve episodes ask at once, each with its own screenshot to encode. The first request must reach the
    endpoint while later ones are still being encoded, not after all of them (the batch then moves in step: every
    answer comes back at once and every episode's CPU work piles up after it). This failed when the encodes ran on
    the event loop's default executor, where a new openai client runs a platform probe before its first requests."""
    arrivals: list[float] = []
    lock = threading.Lock()

    def answer(request: RecordedRequest) -> str:
        with lock:
            arrivals.append(time.perf_counter())
        return "Action: tap"

    async def ask_all(backend: AsyncOpenAIBackend, images: list[Image.Image]) -> list[str]:
        params = GenerationParams(temperature=0.0, max_tokens=16)
        calls = [backend.agenerate([ChatMessage(role="user", content=[TextPart(text="go"), ImagePart(image=i)])],
                                   params) for i in images]
        try:
            return [c.text for c in await asyncio.gather(*calls)]
        finally:
            await backend.aclose()

    images = [screen(n) for n in range(CALLS)]
    with FakeOpenAIServer(policy=answer) as server:
        config = EndpointConfig(base_url=server.base_url, model="glm", image_format="webp")
        # One request on a client of its own first: the openai client's one-time start-up is not what is measured.
        assert asyncio.run(ask_all(AsyncOpenAIBackend(config), [screen(CALLS)])) == ["Action: tap"]
        arrivals.clear()
        backend = AsyncOpenAIBackend(config)
        started = time.perf_counter()
        assert asyncio.run(ask_all(backend, images)) == ["Action: tap"] * CALLS
    assert len(arrivals) == CALLS
    first, middle = arrivals[0] - started, arrivals[CALLS // 2] - started
    assert first < 0.5 * middle, f"the first request arrived at {first:.3f} s, the middle one at {middle:.3f} s"
