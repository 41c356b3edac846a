"""The agent step's client work on the critical path, and its memory over an episode: ours beside naive and before.

A real ``Agent`` runs episodes on an in-memory desktop-like screen with a backend that builds the real request body
(every image on the model grid, encoded, base64, JSON) and answers at once. Each action changes the screen (it
flips between two variants of the picture) and is followed by the desktop's own settle wait
(``environments/desktop/settle.py``: a capture every 50 ms until the screen has held still 250 ms), as a real
desktop step is. Timed, in wall-clock ms, is the toolkit's work on the critical path, the settle wait itself
excluded: from the model's answer to the action (parse, record, plan) plus from the end of the settle wait to the
request body being ready (observe, record, render, encode, JSON).

- naive: the full-resolution PNG (Pillow defaults) base64'd into the request, the trajectory PNG written inline
  (what most agent scripts do);
- before: this toolkit before the speed work: grid resize + lossy WebP at request time, trajectory PNG inline;
- ours: the smallest WebP per screenshot (imaging ``webp-smallest``), encoded during the settle wait (the
  environment hands the confirmed frame to ``Backend.prefetch`` and observes that very image), the trajectory
  written lossless on background threads.

The three run interleaved, episode by episode, in one process, so a loaded machine slows them alike; each figure
is the median over steps. "bg CPU" is the process CPU per step beyond the agent thread's (workers, background
writes). Memory: live image bytes and the process's RSS growth over a 30-step episode.

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
from glmv_agent.backends.messages import prefetch_image_url, to_openai_messages  # noqa: E402
from glmv_agent.backends.openai_backend import EndpointConfig  # noqa: E402
from glmv_agent.environments.desktop.settle import StillFrame, wait_until_still  # noqa: E402
from glmv_agent.episode import Episode  # noqa: E402
from glmv_agent.geometry import point_to_pixels  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402
from glmv_agent.recording import RunRecorder, RunSummary  # noqa: E402
from glmv_agent.testing import FakeEnvironment  # noqa: E402
from glmv_agent.types import Completion, ImagePart, Observation, Outcome, Platform, TextPart  # noqa: E402

DESKTOP_CLICK = "I open the settings.\n<|begin_of_box|>left_click(start_box='[512,233]')<|end_of_box|>\nMemory:\n[]"
MOBILE_CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
# (profile, platform, answer): the current screenshot + four half-size history ones (the heaviest GLM request), and
# one screenshot per request (GLM mobile and web, AutoGLM)
PROFILES = {"desktop": ("glm-4.5v/desktop", Platform.DESKTOP, DESKTOP_CLICK),
            "one image": ("glm-4.5v/mobile", Platform.MOBILE, MOBILE_CLICK)}


class Screens(FakeEnvironment):
    """An in-memory screen that each action flips between two pictures, then settles as the desktop does.

    A capture is the picture's bytes (compared by the settle wait) and a new image of it (as mss + conversion
    makes one). ``set_prefetch`` exists as on the desktop: the confirmed frame goes to the backend's prefetch and
    the next observe returns that image when the screen still shows it (only the "ours" arm uses it).
    """

    def __init__(self, pictures: tuple[Image.Image, Image.Image], platform: Platform, pipelined: bool,
                 settle: bool = True) -> None:
        super().__init__(platform=platform, size=pictures[0].size)
        self.settle = settle
        self.pictures, self.raw = pictures, tuple(p.tobytes() for p in pictures)
        self.shown = 0
        self.pipelined = pipelined
        self.hook: Any = None
        self.still: StillFrame | None = None
        self.marks: dict[str, list[float]] = {"execute": [], "settled": []}

    def set_prefetch(self, hook: Any) -> None:
        self.hook = hook if self.pipelined else None

    def _grab(self) -> tuple[bytes, Image.Image]:
        return self.raw[self.shown], self.pictures[self.shown]

    def observe(self) -> Observation:
        raw, picture = self._grab()
        still, self.still = self.still, None
        image = still.take(raw) if still is not None and self.pipelined else None
        return Observation(screenshot=image or picture.copy(), platform=self.platform)

    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.marks["execute"].append(time.perf_counter())
        outcome = super().execute(action, observation)
        before = self._grab()[0]
        self.shown = 1 - self.shown  # what the action changed on the screen
        if self.settle:
            self.still = StillFrame(self._grab, lambda picture: picture.copy(), self.hook)
            wait_until_still(self.still.grab, before, cap_s=1.0, still_s=0.25)
        self.marks["settled"].append(time.perf_counter())
        return outcome


class RequestBackend:
    """Builds the request body as OpenAIBackend does (or naive: full-resolution PNG), then answers at once."""

    def __init__(self, naive: bool, answer: str, latency_s: float = 0.0, image_format: str = "auto") -> None:
        self.naive = naive
        self.answer = answer
        self.latency_s = latency_s
        self.config = EndpointConfig(model="m", image_format=image_format)  # self-hosted: auto = webp-smallest
        self.sent = 0
        self.marks: dict[str, list[float]] = {"built": [], "answered": []}

    def generate(self, messages: list[Any], params: Any) -> Completion:
        body = naive_messages(messages) if self.naive else to_openai_messages(messages, self.config)
        self.sent = len(json.dumps({"model": "m", "messages": body}))
        self.marks["built"].append(time.perf_counter())
        time.sleep(self.latency_s)
        self.marks["answered"].append(time.perf_counter())
        return Completion(text=self.answer, finish_reason="stop")


class PrefetchingBackend(RequestBackend):
    def prefetch(self, image: Image.Image) -> None:
        prefetch_image_url(image, self.config)


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
    """An Agent whose screen and backend note the critical path's ends, and which notes CPU at every answer."""

    def __init__(self, pictures: tuple[Image.Image, Image.Image], arm: str, run_dir: Path, steps: int,
                 kind: str, settle: bool) -> None:
        self.cpu: list[tuple[float, float]] = []
        config = AgentConfig(run_dir=run_dir, max_steps=steps, write_report=False, detect_no_effect=False)
        key, platform_, answer = PROFILES[kind]
        backend_type = PrefetchingBackend if arm == "ours" else RequestBackend
        backend = backend_type(arm == "naive", answer, image_format="auto" if arm == "ours" else "webp")
        hooks = AgentHooks(on_phase=lambda index, phase: self._note_cpu() if phase == "execute" else None)
        super().__init__(get_profile(key), backend, Screens(pictures, platform_, arm == "ours", settle), config,
                         hooks=hooks)
        self.inline = arm != "ours"

    def _note_cpu(self) -> None:
        self.cpu.append((time.thread_time(), time.process_time()))

    def _episode(self, task: str) -> Episode:
        recorder = InlineRecorder if self.inline else RunRecorder
        assert self.config.run_dir is not None
        summary = RunSummary(task=task, profile=self.profile.key, platform=self.profile.platform.value)
        return Episode(task, recorder(self.config.run_dir, summary), self)

    def per_step(self) -> list[tuple[float, float]]:
        """(critical-path wall ms, background CPU ms) of each step after the first: answer -> action, plus
        settled -> next request body ready."""
        env, backend = self.environment.marks, self.backend.marks
        rows = []
        for n in range(1, len(env["settled"])):
            to_action = env["execute"][n] - backend["answered"][n]
            to_request = backend["built"][n + 1] - env["settled"][n] if n + 1 < len(backend["built"]) else None
            if to_request is None or n + 1 >= len(self.cpu):
                continue
            (t0, p0), (t1, p1) = self.cpu[n], self.cpu[n + 1]
            rows.append(((to_action + to_request) * 1e3, max(0.0, (p1 - p0) - (t1 - t0)) * 1e3))
        return rows


ARMS = ("naive", "before", "ours")


def compare(pictures: tuple[Image.Image, Image.Image], rounds: int, steps: int, folder: Path,
            kind: str, settle: bool) -> dict[str, dict[str, float]]:
    """Median per-step figures of each arm, the arms interleaved round by round."""
    samples: dict[str, list[tuple[float, float]]] = {arm: [] for arm in ARMS}
    sent: dict[str, int] = {}
    for round_ in range(rounds):
        for arm in ARMS:
            agent = Timed(pictures, arm, folder / f"{arm}-{round_}", steps, kind, settle)
            agent.run("open the settings")
            samples[arm] += agent.per_step()
            sent[arm] = agent.backend.sent
    return {arm: {"wall": statistics.median(v[0] for v in values), "bg": statistics.median(v[1] for v in values),
                  "kb": sent[arm] / 1024} for arm, values in samples.items()}


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
    return sum(i.width * i.height * len(i.getbands()) for i in images if i.mode) / 2**20  # mode "": in the making


def memory_over_an_episode(pictures: tuple[Image.Image, Image.Image], steps: int,
                           folder: Path) -> tuple[float, float, float]:
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
    backend = PrefetchingBackend(False, answer, 0.1)
    Agent(get_profile(key), backend, Noting(pictures, platform_, pipelined=True), config).run("open")
    return seen[5][0] - before, seen[-1][0] - before, seen[-1][1] - seen[5][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved episodes per arm and screen")
    parser.add_argument("--steps", type=int, default=8, help="steps per episode (the first is not counted)")
    parser.add_argument("--no-settle", action="store_true",
                        help="no settle wait after actions (as --settle 0, or the web): nothing to encode during")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; medians over "
          f"{args.rounds * (args.steps - 2)} steps per arm; wall ms on the critical path (the settle wait excluded)"
          f"{'; no settle wait' if args.no_settle else ''}")
    screens = {"1920x1080 with photo": (1920, 1080, True), "1920x1080 flat UI": (1920, 1080, False),
               "1080x2400 with photo": (1080, 2400, True)}
    pictures = {name: (ui_screenshot(w, h, 0, photo), ui_screenshot(w, h, 1, photo))
                for name, (w, h, photo) in screens.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, (key, _, _) in PROFILES.items():
            print(f"\n{key} ({kind}):")
            print(f"{'screen':<22}{'naive':>8}{'before':>8}{'ours':>8}{'ours/naive':>12}{'bg CPU':>8}"
                  f"{'naive KB':>10}{'ours KB':>9}{'bytes':>7}")
            for name, pair in pictures.items():
                folder = Path(tmp) / f"{kind}-{name}".replace(" ", "-")
                r = compare(pair, args.rounds, args.steps, folder, kind, not args.no_settle)
                cells = "".join(f"{r[a]['wall']:>8.1f}" for a in ARMS)
                print(f"{name:<22}{cells}{r['ours']['wall'] / r['naive']['wall']:>11.2f}x{r['ours']['bg']:>8.1f}"
                      f"{r['naive']['kb']:>10.0f}{r['ours']['kb']:>9.0f}{r['ours']['kb'] / r['naive']['kb']:>6.2f}x")
        start, end, rss = memory_over_an_episode(pictures["1920x1080 with photo"], 30, Path(tmp))
    print(f"\n30-step glm-4.5v/desktop episode at 1920x1080 (model answering in 0.1 s): the episode holds {start:.1f} "
          f"MB of images at step 5, {end:.1f} MB at step 30; RSS growth from step 5 to 30: {rss:+.1f} MB")
    errors = ", ".join(f"{w}x{h} {worst_mapping_error((w, h)):.2f}" for w, h in ((1080, 2400), (1920, 1080),
                                                                                  (3840, 2160)))
    print(f"largest distance between the pixel we act on and the model's exact position, original pixels: {errors}")


if __name__ == "__main__":
    main()
