"""After each action the desktop waits until the screen has settled, so the model sees what the action caused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from xvfb_support import TkWindow, XServer, server_fixture, start_window

from glmv_agent.actions import PointerAction
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.geometry import pixel_to_model

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
