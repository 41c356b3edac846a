"""After each action the desktop waits until the screen has settled, so the model sees what the action caused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import mss
import pytest
from PIL import Image
from xvfb_support import TkWindow, XServer, server_fixture, start_window

from glmv_agent.actions import PointerAction
from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.geometry import pixel_to_model
from glmv_agent.profiles import get_profile
from tests.support import FakeOpenAIServer

pytestmark = pytest.mark.xvfb
SIZE = (800, 600)
MAGENTA = (255, 0, 255)
server = server_fixture(*SIZE)


@pytest.fixture
def later(server: XServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TkWindow]:
    """The 'later' test window: a click shows nothing at once; the label changes ``request.param`` later."""
    delay_ms, *extra = request.param
    server.move_pointer(700, 500)
    window = start_window(server, tmp_path / "events.jsonl", "--mode", "later", "--geometry", "400x300+100+100",
                          "--later-ms", str(delay_ms), *extra)
    yield window
    window.close()


def click_the_surface(env: DesktopEnvironment, window: TkWindow) -> tuple[str, float]:
    x, y, width, height = window.widgets["surface"]
    point = pixel_to_model(x + width - 60, y + height - 60, SIZE)  # away from the label
    observation = env.observe()
    started = time.monotonic()
    outcome = env.execute(PointerAction(type="left_click", start_box=point), observation)
    return outcome.detail, time.monotonic() - started


def label_color(env: DesktopEnvironment, window: TkWindow) -> tuple[int, int, int]:
    return env.observe().screenshot.getpixel(window.center("later"))  # type: ignore[return-value]


@pytest.mark.parametrize("later", [(300,)], indirect=True)
def test_the_next_observation_shows_a_change_that_came_300_ms_after_the_click(later: TkWindow) -> None:
    with DesktopEnvironment(DesktopConfig()) as env:  # the default: settle for at most 1 s
        assert label_color(env, later) != MAGENTA
        detail, _ = click_the_surface(env, later)
        assert label_color(env, later) == MAGENTA
    assert detail.startswith("left_click at")


@pytest.mark.parametrize("later", [(3000,)], indirect=True)
def test_the_wait_ends_at_the_cap(later: TkWindow) -> None:
    with DesktopEnvironment(DesktopConfig(settle_seconds=0.5)) as env:
        detail, took = click_the_surface(env, later)
        assert took < 2.0  # the cap and a capture or two, not the 3 s until the change
        assert label_color(env, later) != MAGENTA
    assert "still changing" not in detail  # nothing changed: the screen the model gets is a still one


@pytest.mark.parametrize("later", [(100, "--later-repeat")], indirect=True)
def test_a_screen_that_never_settles_is_noted_in_the_step(later: TkWindow) -> None:
    with DesktopEnvironment(DesktopConfig(settle_seconds=0.6, settle_still_seconds=0.3)) as env:
        detail, took = click_the_surface(env, later)
    assert detail.endswith("; the screen was still changing after 0.6 s")
    assert took < 2.5


@pytest.mark.parametrize("later", [(300,)], indirect=True)
def test_the_screen_the_wait_confirmed_is_handed_over_early_and_is_the_next_observation(later: TkWindow) -> None:
    handed: list[Image.Image] = []  # what a backend's prefetch would start encoding during the wait
    with DesktopEnvironment(DesktopConfig()) as env:
        env.set_prefetch(handed.append)
        click_the_surface(env, later)
        observation = env.observe()
        fresh = env.observe()  # nothing confirmed since: a new capture
    assert observation.screenshot is handed[-1]  # the very image whose encoding started during the wait
    assert observation.screenshot.getpixel(later.center("later")) == MAGENTA
    assert observation.screenshot.tobytes() == fresh.screenshot.tobytes()
    assert fresh.screenshot is not handed[-1]


@pytest.mark.parametrize("later", [(300,)], indirect=True)
def test_a_screen_that_changed_after_the_wait_is_captured_afresh(later: TkWindow) -> None:
    handed: list[Image.Image] = []
    with DesktopEnvironment(DesktopConfig()) as env:
        env.set_prefetch(handed.append)
        click_the_surface(env, later)
        assert handed[-1].getpixel(later.center("later")) == MAGENTA
        later.close()  # the window goes away after the wait: the screen the model gets must show that
        with mss.MSS() as grabber:
            deadline = time.monotonic() + 10
            while grabber.grab(grabber.monitors[1]).pixel(*later.center("later")) == MAGENTA:
                assert time.monotonic() < deadline, "the window did not go away"
                time.sleep(0.02)
        observation = env.observe()
    assert observation.screenshot is not handed[-1]
    assert observation.screenshot.getpixel(later.center("later")) != MAGENTA


@pytest.mark.parametrize("later", [(300,)], indirect=True)
def test_the_model_gets_the_settled_screen_through_the_early_encoding(later: TkWindow, tmp_path: Path) -> None:
    x, y, width, height = later.widgets["surface"]
    target = pixel_to_model(x + width - 60, y + height - 60, SIZE)
    click = f"Click.\n<|begin_of_box|>left_click(start_box='[{target[0]},{target[1]}]')<|end_of_box|>\nMemory:\n[]"
    with FakeOpenAIServer([click, "DONE()"]) as fake, DesktopEnvironment(DesktopConfig()) as env:
        backend = OpenAIBackend(EndpointConfig(base_url=fake.base_url, model="m"))
        config = AgentConfig(run_dir=tmp_path / "run", write_report=False)
        result = Agent(get_profile("glm-4.5v/desktop"), backend, env, config).run("click the surface")
        # each request's current screenshot: its largest image (GLM-4.5V desktop adds half-size history ones)
        before, after = (max(r.images(), key=lambda i: i.width) for r in fake.chat_requests)
    assert result.status == "complete"

    def magenta_pixels(image: Image.Image) -> int:
        colours = image.convert("RGB").getcolors(1 << 20) or []
        return sum(n for n, (r, g, b) in colours if r > 235 and g < 20 and b > 235)  # magenta, lossy or not

    assert magenta_pixels(before) == 0 and magenta_pixels(after) > 100  # the label, changed 300 ms after the click
