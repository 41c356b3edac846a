"""The record off the critical path: screenshots written lossless in the background, the model never waiting for
them, every one on disk when the run ends (aborted runs too), and an episode's memory flat however long it runs."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.errors import RecordError
from glmv_agent.profiles import get_profile
from glmv_agent.recording import RunRecorder, RunSummary
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Observation, Platform
from tests.support.openai_server import FakeOpenAIServer

CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
DONE = 'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}'
DESKTOP_CLICK = "I click.\n<|begin_of_box|>left_click(start_box='[500,500]')<|end_of_box|>\nMemory:\n[]"
DESKTOP_DONE = "Done.\n<|begin_of_box|>DONE()<|end_of_box|>\nMemory:\n[]"


class GatedImage(Image.Image):
    """A screenshot whose writes to a file wait for ``gate`` (a slow disk); in-memory encodes are not held."""

    gate: threading.Event

    def save(self, fp: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(fp, (str, os.PathLike)):
            assert self.gate.wait(60), "the test never opened the gate"
        super().save(fp, *args, **kwargs)


class GatedScreens(FakeEnvironment):
    """The in-memory phone, its screenshots written only once the gate opens; keeps a copy of each one shown."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.shown: list[Image.Image] = []

    def observe(self) -> Observation:
        observation = super().observe()
        image = observation.screenshot
        image.__class__ = GatedImage
        image.gate = self.gate  # type: ignore[attr-defined]
        self.shown.append(image.copy())
        return observation


def written(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "screenshots").iterdir())


def test_the_model_is_asked_while_the_screenshots_are_still_being_written(tmp_path: Path) -> None:
    gate = threading.Event()
    env = GatedScreens(gate)
    run_dir = tmp_path / "run"
    results: list[Any] = []
    with FakeOpenAIServer([CLICK, CLICK, DONE]) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="m"))
        agent = Agent(get_profile("glm-4.5v/mobile"), backend, env, AgentConfig(run_dir=run_dir, write_report=False))
        thread = threading.Thread(target=lambda: results.append(agent.run("tap twice")))
        thread.start()
        deadline = time.monotonic() + 120
        while len(server.chat_requests) < 3:
            assert time.monotonic() < deadline and thread.is_alive(), "the model was not asked three times"
            time.sleep(0.01)
        # three steps ran and the last answer is in, yet no screenshot is on disk: nothing waited for the record
        assert written(run_dir) == []
        time.sleep(0.2)
        assert thread.is_alive()  # ... but the run does not end before its record is complete
        gate.set()
        thread.join(120)
    assert results and results[0].status == "complete"
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [s["screenshot"] for s in steps] == [f"screenshots/step_00{i}.png" for i in range(3)]
    assert written(run_dir) == ["step_000.png", "step_001.png", "step_002.png"]  # no temporary files left
    for step, shown in zip(steps, env.shown, strict=True):
        with Image.open(run_dir / step["screenshot"]) as saved:
            assert ImageChops.difference(saved.convert("RGB"), shown.convert("RGB")).getbbox() is None  # lossless


class Interrupting(GatedScreens):
    def execute(self, action: Any, observation: Observation) -> Any:
        if len(self.executed) == 1:
            raise KeyboardInterrupt
        return super().execute(action, observation)


def test_an_interrupted_run_still_leaves_every_screenshot(tmp_path: Path) -> None:
    gate = threading.Event()
    timer = threading.Timer(0.5, gate.set)
    timer.start()
    with FakeOpenAIServer([CLICK, CLICK, CLICK]) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="m"))
        agent = Agent(get_profile("glm-4.5v/mobile"), backend, Interrupting(gate),
                      AgentConfig(run_dir=tmp_path / "run", write_report=False))
        result = agent.run("tap")
    timer.join()
    assert result.status == "aborted"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "aborted" and summary["finished_at"]
    assert written(tmp_path / "run") == ["step_000.png", "step_001.png"]


def test_a_screenshot_that_cannot_be_written_fails_the_finish_after_the_summary(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run", RunSummary(task="t", profile="p", platform="mobile"))
    (tmp_path / "run" / "screenshots").rmdir()
    (tmp_path / "run" / "screenshots").write_text("not a folder")  # every write below fails (as a full disk does)
    name = recorder.save_screenshot(0, Image.new("RGB", (64, 64)))
    assert name == "screenshots/step_000.png"
    with pytest.raises(RecordError, match=f"cannot write the run folder {tmp_path / 'run'}: Not a directory"):
        recorder.finish("complete")
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "complete"


class CountingScreens(FakeEnvironment):
    """Notes, at each look, how many bytes of images the whole process still holds (previous screens included)."""

    def __init__(self, platform: Platform, size: tuple[int, int]) -> None:
        super().__init__(platform=platform, size=size)
        self.held: list[int] = []

    def observe(self) -> Observation:
        gc.collect()
        images = [o for o in gc.get_objects() if issubclass(type(o), Image.Image)]  # type(): no lazy attributes
        # an image a worker thread is still creating (a thumbnail encoded ahead) has no mode yet: nothing held
        self.held.append(sum(image.width * image.height * len(image.getbands()) for image in images if image.mode))
        return super().observe()


@pytest.mark.parametrize(("model", "platform", "click", "done", "screens"), [
    ("glm-4.5v/mobile", Platform.MOBILE, CLICK, DONE, 1.0),  # the last screen only (no-effect detection)
    ("glm-4.5v/desktop", Platform.DESKTOP, DESKTOP_CLICK, DESKTOP_DONE, 2.0),  # + four half-size ones it re-sends
], ids=["mobile", "desktop"])
def test_memory_stays_flat_over_a_long_episode(tmp_path: Path, model: str, platform: Platform, click: str,
                                                done: str, screens: float) -> None:
    size = (960, 540)
    env = CountingScreens(platform, size)
    steps = 12
    with FakeOpenAIServer([click] * (steps - 1) + [done], latency_s=0.05) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="m"))
        result = Agent(get_profile(model), backend, env,
                       AgentConfig(run_dir=tmp_path / "run", write_report=False, max_steps=steps)).run("t")
        sent = [len(r.images()) for r in server.chat_requests]
    assert result.status == "complete" and len(env.held) == steps, result.error
    screen = size[0] * size[1] * 3
    # before: one more full screenshot per step (12 at the end); now flat, with room for one write still queued
    assert max(env.held[3:]) <= (screens + 1.5) * screen, [round(h / screen, 2) for h in env.held]
    if platform is Platform.DESKTOP:  # the protocol still gets its four earlier screenshots at half size
        assert sent == [1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_screenshots_are_written_at_a_lower_cpu_priority_than_the_agent(tmp_path: Path) -> None:
    """When the cores are busy, the model images a request waits for are encoded before the trajectory PNGs."""
    from glmv_agent import trajectory  # noqa: PLC0415

    agent_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []  # the writer thread's nice
    writer = trajectory.TrajectoryWriter(tmp_path)
    original = trajectory.write_image

    def noting(path: Path, image: Image.Image) -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        original(path, image)

    trajectory.write_image = noting  # type: ignore[assignment]
    try:
        writer.save("step_000.png", Image.new("RGB", (64, 64), "white"))
        writer.flush()
    finally:
        trajectory.write_image = original  # type: ignore[assignment]
    assert seen == [min(19, agent_nice + trajectory.BACKGROUND_NICE)]
    assert (tmp_path / "step_000.png").exists()
