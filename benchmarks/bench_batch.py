"""Episodes/s and steps/s of the batch runner against a loopback OpenAI-compatible server with a fixed latency.

Each episode is a 4-step phone task on an in-memory screen (so the environment costs little and the model
latency dominates, as with a real engine); the model answers after --latency seconds. Concurrency 1, 2, 4, 8, 16
side by side with the sequential runner (Agent.run in a loop).

Run: python benchmarks/bench_batch.py [--latency 0.5] [--episodes 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glmv_agent.agent import Agent, AgentConfig  # noqa: E402
from glmv_agent.backends.openai_async import AsyncOpenAIBackend  # noqa: E402
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend  # noqa: E402
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeParts  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402
from glmv_agent.testing import FakeEnvironment  # noqa: E402
from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

STEPS = 4
CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
# Every answer is a click and each episode stops at STEPS steps: with one global script on the server, episodes
# interleave freely without one of them starving for its final answer.
FAST = AgentConfig(write_report=False, detect_no_effect=False, max_steps=STEPS)


def sequential(url: str, episodes: int, out: Path) -> float:
    backend = OpenAIBackend(EndpointConfig(base_url=url, model="glm"))
    started = time.perf_counter()
    for n in range(episodes):
        config = FAST.model_copy(update={"run_dir": out / f"seq-{n}"})
        result = Agent(get_profile("glm-4.5v/mobile"), backend, FakeEnvironment(), config).run("task")
        assert result.status == "max_steps", result.error
    return time.perf_counter() - started


def batched(url: str, episodes: int, concurrency: int, out: Path) -> float:
    backend = AsyncOpenAIBackend(EndpointConfig(base_url=url, model="glm"))

    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=backend, make_environment=FakeEnvironment)

    tasks = [BatchTask(id=f"t{n}", task="task", platform="mobile") for n in range(episodes)]
    async def go() -> list:
        try:
            return await BatchRunner(build, out, concurrency).arun(tasks, FAST)
        finally:
            await backend.aclose()

    started = time.perf_counter()
    outcomes = asyncio.run(go())
    assert all(o.status == "max_steps" and o.steps == STEPS for o in outcomes), [o.error for o in outcomes]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--episodes", type=int, default=16)
    args = parser.parse_args()
    calls = args.episodes * STEPS
    ideal = STEPS * args.latency
    print(f"{args.episodes} episodes x {STEPS} steps, model latency {args.latency:.2f}s, 2-core machine\n")
    print(f"{'runner':<22}{'wall s':>8}{'episodes/s':>12}{'steps/s':>9}{'speed-up':>10}{'ideal':>8}")
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(default=CLICK, latency_s=args.latency) as server:
        base = sequential(server.base_url, args.episodes, Path(tmp))
        print(f"{'sequential':<22}{base:>8.2f}{args.episodes / base:>12.2f}{calls / base:>9.2f}{1:>9.1f}x{1:>7}x")
        for concurrency in (1, 2, 4, 8, 16):
            wall = batched(server.base_url, args.episodes, concurrency, Path(tmp) / f"c{concurrency}")
            best = min(concurrency, args.episodes)
            print(f"{'batch, concurrency ' + str(concurrency):<22}{wall:>8.2f}{args.episodes / wall:>12.2f}"
                  f"{calls / wall:>9.2f}{base / wall:>9.1f}x{best:>7}x")
    print(f"\nfloor per episode: {ideal:.1f}s of model latency; the gap to 'ideal' is client work on 2 cores "
          "(rendering, WebP encoding, PNG recording) and the server's own threads.")


if __name__ == "__main__":
    main()
