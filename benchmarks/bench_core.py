"""The agent step's client work on the critical path, and its memory over an episode: ours beside naive and before.

A real ``Agent`` runs episodes on an in-memory screen (a fresh screenshot every step) with a backend that builds the
real request body (every image on the model grid, encoded, base64, JSON) and answers at once, so what is timed is
the toolkit's own work between one model request and the next: observe, record, render, encode, parse, execute.

- naive: the full-resolution PNG (Pillow defaults) base64'd into the request, the trajectory PNG written inline
  (what most agent scripts do);
- before: this toolkit before the change: grid resize + WebP in the request, trajectory PNG written inline;
- ours: grid resize + WebP on the agent thread, the trajectory written lossless on background threads.

The three run interleaved, episode by episode, in one process, so a loaded machine slows them alike; each figure
is the median over steps of the agent thread's CPU time (``time.thread_time``, robust under load) and its wall
time. "bg CPU" is what ours spends off the critical path (background threads). Memory: live image bytes and the
process's RSS growth over a 30-step episode.

Run: python benchmarks/bench_core.py [--rounds N] [--steps N]
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402
from screens import ui_screenshot  # noqa: E402

from glmv_agent.agent import Agent, AgentConfig, AgentHooks  # noqa: E402
from glmv_agent.backends.openai_backend import EndpointConfig, to_openai_messages  # noqa: E402
from glmv_agent.episode import Episode  # noqa: E402
from glmv_agent.geometry import point_to_pixels  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402
from glmv_agent.recording import RunRecorder, RunSummary  # noqa: E402
from glmv_agent.testing import FakeEnvironment  # noqa: E402
from glmv_agent.types import Completion, ImagePart, Observation, Platform, TextPart  # noqa: E402

DESKTOP_CLICK = "I open the settings.\n<|begin_of_box|>left_click(start_box='[512,233]')<|end_of_box|>\nMemory:\n[]"
MOBILE_CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
# (profile, platform, answer): the current screenshot + four half-size history ones (the heaviest GLM request), and
# one screenshot per request (GLM mobile and web, AutoGLM)
PROFILES = {"desktop": ("glm-4.5v/desktop", Platform.DESKTOP, DESKTOP_CLICK),
            "one image": ("glm-4.5v/mobile", Platform.MOBILE, MOBILE_CLICK)}


class Screens(FakeEnvironment):
    """An in-memory screen showing a copy of ``picture`` (a new image every step, as a real capture is)."""

    def __init__(self, picture: Image.Image, platform: Platform) -> None:
        super().__init__(platform=platform, size=picture.size)
        self.picture = picture

    def observe(self) -> Observation:
        return Observation(screenshot=self.picture.copy(), platform=self.platform)


class RequestBackend:
    """Builds the request body as OpenAIBackend does (or naive: full-resolution PNG), then answers at once."""

    def __init__(self, naive: bool, answer: str, latency_s: float = 0.0) -> None:
        self.naive = naive
        self.answer = answer
        self.latency_s = latency_s
        self.config = EndpointConfig(model="m")  # self-hosted endpoint: lossy WebP
        self.sent = 0

    def generate(self, messages: list[Any], params: Any) -> Completion:
        body = naive_messages(messages) if self.naive else to_openai_messages(messages, self.config)
        self.sent = len(json.dumps({"model": "m", "messages": body}))
        time.sleep(self.latency_s)
        return Completion(text=self.answer, finish_reason="stop")


def naive_messages(messages: list[Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in messages[0].content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            buffer = io.BytesIO()
            part.image.save(buffer, format="PNG")
            parts.append({"type": "image_url", "image_url": {
                "url": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}})
    return [{"role": "user", "content": parts}]


class InlineRecorder(RunRecorder):
    """The trajectory PNG (level 1) written on the agent thread, as before this change."""

    def save_screenshot(self, index: int, image: Image.Image, suffix: str = "") -> str:
        name = f"screenshots/step_{index:03d}{suffix}.png"
        image.save(self.run_dir / name, format="PNG", compress_level=1)
        return name


class Timed(Agent):
    """An Agent that notes the agent thread's CPU and wall clock at the start of every step."""

    def __init__(self, picture: Image.Image, arm: str, run_dir: Path, steps: int, kind: str) -> None:
        self.marks: list[tuple[float, float, float]] = []
        hooks = AgentHooks(on_phase=lambda index, phase: self._mark() if phase == "observe" else None)
        config = AgentConfig(run_dir=run_dir, max_steps=steps, write_report=False, detect_no_effect=False)
        key, platform_, answer = PROFILES[kind]
        super().__init__(get_profile(key), RequestBackend(arm == "naive", answer), Screens(picture, platform_), config,
                         hooks=hooks)
        self.inline = arm != "ours"

    def _mark(self) -> None:
        self.marks.append((time.thread_time(), time.perf_counter(), time.process_time()))

    def _episode(self, task: str) -> Episode:
        recorder = InlineRecorder if self.inline else RunRecorder
        assert self.config.run_dir is not None
        summary = RunSummary(task=task, profile=self.profile.key, platform=self.profile.platform.value)
        return Episode(task, recorder(self.config.run_dir, summary), self)

    def per_step(self) -> list[tuple[float, float, float]]:
        """(agent-thread CPU ms, wall ms, process CPU ms) of each step but the first."""
        pairs = zip(self.marks[1:], self.marks[2:], strict=False)
        return [((b[0] - a[0]) * 1e3, (b[1] - a[1]) * 1e3, (b[2] - a[2]) * 1e3) for a, b in pairs]


ARMS = ("naive", "before", "ours")


def compare(picture: Image.Image, rounds: int, steps: int, folder: Path, kind: str) -> dict[str, dict[str, float]]:
    """Median per-step figures of each arm, the arms interleaved round by round."""
    samples: dict[str, list[tuple[float, float, float]]] = {arm: [] for arm in ARMS}
    sent: dict[str, int] = {}
    for round_ in range(rounds):
        for arm in ARMS:
            agent = Timed(picture, arm, folder / f"{arm}-{round_}", steps, kind)
            agent.run("open the settings")
            samples[arm] += agent.per_step()
            sent[arm] = agent.backend.sent
    rows = {}
    for arm, values in samples.items():
        cpu, wall, process = (statistics.median(v[i] for v in values) for i in range(3))
        rows[arm] = {"cpu": cpu, "wall": wall, "bg": max(0.0, process - cpu), "kb": sent[arm] / 1024}
    return rows


def worst_mapping_error(size: tuple[int, int]) -> float:
    """Largest distance, in original pixels, between our integer pixel and the exact position m/1000*size."""
    worst = 0.0
    for m in range(0, 1001, 7):
        px, py = point_to_pixels((m, m), size)
        worst = max(worst, abs(px - m * size[0] / 1000), abs(py - m * size[1] / 1000))
    return worst


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def live_image_mb() -> float:
    gc.collect()
    images = [o for o in gc.get_objects() if issubclass(type(o), Image.Image)]
    return sum(i.width * i.height * len(i.getbands()) for i in images) / 2**20


def memory_over_an_episode(picture: Image.Image, steps: int, folder: Path) -> tuple[float, float, float]:
    """(MB of images the episode holds at step 5, at the last step, RSS growth MB from step 5 to the last) of one
    of our episodes against a model answering in 0.1 s."""
    before = live_image_mb()
    seen: list[tuple[float, float]] = []

    class Noting(Screens):
        def observe(self) -> Observation:
            seen.append((live_image_mb(), rss_mb()))
            return super().observe()

    config = AgentConfig(run_dir=folder / "memory", max_steps=steps, write_report=False, detect_no_effect=False)
    key, platform_, answer = PROFILES["desktop"]
    Agent(get_profile(key), RequestBackend(False, answer, 0.1), Noting(picture, platform_), config).run("open")
    return seen[5][0] - before, seen[-1][0] - before, seen[-1][1] - seen[5][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved episodes per arm and screen")
    parser.add_argument("--steps", type=int, default=8, help="steps per episode (the first is not counted)")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; medians over "
          f"{args.rounds * (args.steps - 2)} steps per arm; ms of the agent thread's CPU (its wall time)")
    screens = {"1920x1080 with photo": ui_screenshot(1920, 1080), "1920x1080 flat UI": ui_screenshot(
        1920, 1080, photo=False), "1080x2400 with photo": ui_screenshot(1080, 2400)}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, (key, _, _) in PROFILES.items():
            print(f"\n{key} ({kind}):")
            print(f"{'screen':<22}{'naive':>16}{'before':>16}{'ours':>16}{'ours/naive':>12}{'bg CPU':>8}"
                  f"{'naive KB':>10}{'ours KB':>9}{'bytes':>7}")
            for name, picture in screens.items():
                r = compare(picture, args.rounds, args.steps, Path(tmp) / f"{kind}-{name}".replace(" ", "-"), kind)
                cells = "".join(f"{r[a]['cpu']:>8.1f} ({r[a]['wall']:>4.0f})" for a in ARMS)
                print(f"{name:<22}{cells}{r['ours']['cpu'] / r['naive']['cpu']:>11.2f}x{r['ours']['bg']:>8.1f}"
                      f"{r['naive']['kb']:>10.0f}{r['ours']['kb']:>9.0f}{r['ours']['kb'] / r['naive']['kb']:>6.2f}x")
        start, end, rss = memory_over_an_episode(screens["1920x1080 with photo"], 30, Path(tmp))
    print(f"\n30-step glm-4.5v/desktop episode at 1920x1080 (model answering in 0.1 s): the episode holds {start:.1f} "
          f"MB of images at step 5, {end:.1f} MB at step 30; RSS growth from step 5 to 30: {rss:+.1f} MB")
    errors = ", ".join(f"{w}x{h} {worst_mapping_error((w, h)):.2f}" for w, h in ((1080, 2400), (1920, 1080),
                                                                                  (3840, 2160)))
    print(f"largest distance between the pixel we act on and the model's exact position, original pixels: {errors}")


if __name__ == "__main__":
    main()
