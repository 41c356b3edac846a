"""Pixel truth on real X servers: the screenshot shows the screen where it is, and clicks land on the exact pixel.

Layouts: single monitors of 1280x800, 1920x1080 and 3840x2160, and one 2560x800 screen split by RandR into two
1280x800 monitors, acting on monitor 2 (the right half, origin 1280,0) as mss numbers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PIL import Image
from xvfb_support import TkWindow, XServer, running_xvfb, start_window

from glmv_agent.actions import PointerAction
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.geometry import pixel_to_model, point_to_pixels

pytestmark = pytest.mark.xvfb
RED = (255, 0, 0)
MODEL_POINTS = [(0, 0), (1000, 1000), (500, 500), (333, 777), (999, 1), (1, 999), (0, 1000), (1000, 0)]


@dataclass(frozen=True)
class Layout:
    screen: tuple[int, int]
    monitor: tuple[int, int, int, int]  # left, top, width, height of the monitor acted on
    randr: tuple[tuple[int, int, int, int], ...] = ()  # (width, height, left, top) per RandR monitor
    index: int | None = None  # --monitor


LAYOUTS = {
    "1280x800": Layout((1280, 800), (0, 0, 1280, 800)),
    "1920x1080": Layout((1920, 1080), (0, 0, 1920, 1080)),
    "3840x2160": Layout((3840, 2160), (0, 0, 3840, 2160)),
    "right-of-two": Layout((2560, 800), (1280, 0, 1280, 800), ((1280, 800, 0, 0), (1280, 800, 1280, 0)), 2),
}


@dataclass
class Desk:
    layout: Layout
    server: XServer
    window: TkWindow
    env: DesktopEnvironment
    markers: list[tuple[int, int]]  # red pixels, in monitor (= screenshot) coordinates


@pytest.fixture(scope="module", params=list(LAYOUTS))
def desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    layout = LAYOUTS[request.param]
    left, top, width, height = layout.monitor
    markers = [(0, 0), (width - 1, height - 1), (width // 3, height // 5), (width * 7 // 10, height * 3 // 4)]
    workdir = tmp_path_factory.mktemp(request.param)
    with running_xvfb(*layout.screen, workdir, list(layout.randr)) as server:
        server.move_pointer(left + width // 2 + 3, top + height // 2 + 3)
        args = ["--mode", "pixels", "--geometry", f"{width}x{height}+{left}+{top}"]
        for x, y in markers:
            args += ["--marker", f"{x},{y}"]
        window = start_window(server, workdir / "events.jsonl", *args)
        env = DesktopEnvironment(DesktopConfig(monitor=layout.index, settle_seconds=0))  # clicks show nothing here
        yield Desk(layout, server, window, env, markers)
        env.close()
        window.close()


def red_pixels(image: Image.Image) -> int:
    r, g, b = image.split()
    mask = Image.eval(r, lambda v: 255 if v == 255 else 0)
    for channel in (g, b):
        mask = Image.composite(mask, Image.new("L", image.size, 0), Image.eval(channel, lambda v: 255 if v == 0 else 0))
    return mask.histogram()[255]


def test_the_environment_sees_the_monitor_mss_reports(desk: Desk) -> None:
    left, top, width, height = desk.layout.monitor
    monitor = desk.env.monitor
    assert (monitor.left, monitor.top, monitor.width, monitor.height) == (left, top, width, height)
    if desk.layout.randr:  # the real RandR monitors, as mss enumerates them
        assert [(m.index, m.left, m.width, m.primary) for m in desk.env.monitors] == [(1, 0, 1280, True),
                                                                                     (2, 1280, 1280, False)]


def test_the_screenshot_shows_every_pixel_where_it_is(desk: Desk) -> None:
    shot = desk.env.observe().screenshot
    assert shot.size == desk.layout.monitor[2:]
    for x, y in desk.markers:
        assert shot.getpixel((x, y)) == RED, (x, y)
        neighbour = (x + 1, y) if x + 1 < shot.width else (x - 1, y)
        assert shot.getpixel(neighbour) == (255, 255, 255)
    assert red_pixels(shot) == len(desk.markers)  # no other red pixel: the capture is not shifted or scaled


def test_clicks_land_on_the_exact_pixel_of_the_chosen_monitor(desk: Desk) -> None:
    left, top, width, height = desk.layout.monitor
    observation = desk.env.observe()
    for point in MODEL_POINTS:
        outcome = desk.env.execute(PointerAction(type="left_click", start_box=point), observation)
        pixel = point_to_pixels(point, (width, height))
        assert outcome.pixels == [pixel]
        expected = [left + pixel[0], top + pixel[1]]
        seen = desk.window.take(lambda events: any(e["event"] == "release" for e in events))
        assert [[e["x"], e["y"]] for e in seen if e["event"] == "press"] == [expected], point


def test_clicking_what_the_screenshot_shows_hits_it(desk: Desk) -> None:
    left, top, width, height = desk.layout.monitor
    observation = desk.env.observe()
    tolerance = -(-width // 1000)  # one model unit, in pixels
    for x, y in desk.markers:
        model = pixel_to_model(x, y, observation.size)
        desk.env.execute(PointerAction(type="left_click", start_box=model), observation)
        seen = desk.window.take(lambda events: any(e["event"] == "release" for e in events))
        press = next(e for e in seen if e["event"] == "press")
        assert abs(press["x"] - (left + x)) <= tolerance and abs(press["y"] - (top + y)) <= tolerance
        assert left <= press["x"] < left + width and top <= press["y"] < top + height
