"""AsyncOpenAIBackend under concurrency: requests of a batch leave as soon as each one is built."""

from __future__ import annotations

import asyncio
import multiprocessing
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


def ask_once(backend: AsyncOpenAIBackend, image: Image.Image) -> str:
    message = ChatMessage(role="user", content=[TextPart(text="go"), ImagePart(image=image)])
    return asyncio.run(backend.agenerate([message], GenerationParams(temperature=0.0, max_tokens=16))).text


def test_one_backend_serves_one_asyncio_run_after_another() -> None:
    """The connections of the first run's client belong to its closed loop; the next run gets a client of its own
    instead of 'Event loop is closed'."""
    with FakeOpenAIServer(default="Action: tap") as server:
        backend = AsyncOpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm"))
        assert [ask_once(backend, screen(n)) for n in range(3)] == ["Action: tap"] * 3
    assert len(server.chat_requests) == 3


def test_a_forked_child_encodes_and_sends_with_pools_of_its_own() -> None:
    """The parent's worker threads do not exist in a child made by fork; before the pools were made anew there, the
    child's first request waited forever for a build no thread would run."""
    with FakeOpenAIServer(default="Action: tap") as server:
        backend = AsyncOpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm", image_format="webp"))
        assert ask_once(backend, screen(0)) == "Action: tap"  # the parent's pool threads now exist
        context = multiprocessing.get_context("fork")
        answers = context.Queue()
        child = context.Process(target=lambda: answers.put(ask_once(AsyncOpenAIBackend(backend.config), screen(1))))
        child.start()
        child.join(30)
        if child.is_alive():
            child.kill()
        assert child.exitcode == 0 and answers.get(timeout=5) == "Action: tap"
