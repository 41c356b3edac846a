"""Steps/s, cores used and peak memory of the batch runner against an OpenAI-compatible server with a fixed latency.

Each episode is a phone task on an in-memory 1080x2400 screen (the environment costs little, so the model latency
and the client's own work decide); the model answers after --latency seconds. The server runs in its own process
(a real endpoint is another machine; its CPU is shown apart). Concurrency 1, 2, 4, 8, 16 side by side with the
sequential runner (Agent.run in a loop), all in one run. "client cores" is the batch process's CPU time over the
wall time (2.0 = both cores busy), "CPU/step" its CPU per model call; "2-core ceiling" is the steps/s two free
cores would sustain at that CPU per step (client and server together), the figure a loaded machine cannot show.
Memory: the peak RSS of 16 episodes x 20 steps in flight, sampled every 20 ms.

Run: python benchmarks/bench_batch.py [--latency 0.5] [--episodes 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glmv_agent.agent import Agent, AgentConfig  # noqa: E402
from glmv_agent.backends.openai_async import AsyncOpenAIBackend  # noqa: E402
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend  # noqa: E402
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeParts  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402
from glmv_agent.testing import FakeEnvironment  # noqa: E402

STEPS = 4
CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
# Every answer is a click and each episode stops at its step limit: with one global script on the server, episodes
# interleave freely without one of them starving for its final answer.
FAST = AgentConfig(write_report=False, detect_no_effect=False, max_steps=STEPS)
SERVER = (
    "import sys, time\n"
    "from tests.support.openai_server import FakeOpenAIServer\n"
    "with FakeOpenAIServer(default=sys.argv[1], latency_s=float(sys.argv[2])) as server:\n"
    "    print(server.base_url, flush=True)\n"
    "    while True:\n"
    "        server.requests.clear()\n"  # the server keeps every request otherwise
    "        time.sleep(1)\n"
)


class Server:
    """The fake endpoint in a child process; ``cpu_s()`` is its CPU time so far."""

    def __init__(self, latency: float) -> None:
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen([sys.executable, "-c", SERVER, CLICK, str(latency)], cwd=root,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def sequential(url: str, episodes: int, out: Path) -> None:
    backend = OpenAIBackend(EndpointConfig(base_url=url, model="glm"))
    for n in range(episodes):
        config = FAST.model_copy(update={"run_dir": out / f"seq-{n}"})
        result = Agent(get_profile("glm-4.5v/mobile"), backend, FakeEnvironment(), config).run("task")
        assert result.status == "max_steps", result.error


def batched(url: str, episodes: int, concurrency: int, out: Path, steps: int = STEPS) -> None:
    backend = AsyncOpenAIBackend(EndpointConfig(base_url=url, model="glm"))

    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=backend, make_environment=FakeEnvironment)

    tasks = [BatchTask(id=f"t{n}", task="task", platform="mobile") for n in range(episodes)]
    config = FAST.model_copy(update={"max_steps": steps})

    async def go() -> list:
        try:
            return await BatchRunner(build, out, concurrency).arun(tasks, config)
        finally:
            await backend.aclose()

    outcomes = asyncio.run(go())
    assert all(o.status == "max_steps" and o.steps == steps for o in outcomes), [o.error for o in outcomes]


def measure(server: Server, run: object, calls: int) -> dict[str, float]:
    wall, cpu, served = time.perf_counter(), time.process_time(), server.cpu_s()
    run()  # type: ignore[operator]
    wall, cpu, served = time.perf_counter() - wall, time.process_time() - cpu, server.cpu_s() - served
    return {"wall": wall, "steps_s": calls / wall, "cores": cpu / wall, "cpu_ms": 1000 * cpu / calls,
            "server_ms": 1000 * served / calls}


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_memory(url: str, out: Path, episodes: int = 16, steps: int = 20) -> tuple[float, float]:
    """(RSS before, peak RSS during) ``episodes`` concurrent episodes of ``steps`` steps, in MB."""
    peak, done = [rss_mb()], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        batched(url, episodes, episodes, out, steps)
    finally:
        done.set()
        sampler.join()
    return peak[0], max(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--episodes", type=int, default=16)
    args = parser.parse_args()
    calls = args.episodes * STEPS
    print(f"{args.episodes} episodes x {STEPS} steps, model latency {args.latency:.2f}s; {platform.platform()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print(f"{'runner':<22}{'wall s':>8}{'steps/s':>9}{'vs c1':>7}{'ideal':>7}{'client cores':>13}{'CPU/step':>10}"
          f"{'server/step':>12}{'2-core ceiling':>16}")
    server = Server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = {"sequential": measure(server, lambda: sequential(server.url, args.episodes, Path(tmp)), calls)}
            for concurrency in (1, 2, 4, 8, 16):
                out = Path(tmp) / f"c{concurrency}"
                rows[f"batch, concurrency {concurrency}"] = measure(
                    server, lambda c=concurrency, o=out: batched(server.url, args.episodes, c, o), calls)
            single = rows["batch, concurrency 1"]["steps_s"]
            for name, r in rows.items():
                ideal = min(int(name.rsplit(" ", 1)[-1]) if name[-1].isdigit() else 1, args.episodes)
                ceiling = 2000 / (r["cpu_ms"] + r["server_ms"])
                print(f"{name:<22}{r['wall']:>8.2f}{r['steps_s']:>9.2f}{r['steps_s'] / single:>6.1f}x{ideal:>6}x"
                      f"{r['cores']:>13.2f}{r['cpu_ms']:>8.1f}ms{r['server_ms']:>10.1f}ms{ceiling:>12.0f}/s")
            before, peak = peak_memory(server.url, Path(tmp) / "memory")
    finally:
        server.stop()
    print(f"\n16 episodes x 20 steps in flight: RSS {before:.0f} MB before, peak {peak:.0f} MB "
          f"(+{peak - before:.0f} MB); 1080x2400 screens are 7.4 MB each in memory")


if __name__ == "__main__":
    main()
