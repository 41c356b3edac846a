"""Pixel mode of the web environment against real Chromium: thousandths land on the right CSS pixel at every
device scale factor and scroll position, and each desktop-grammar action does what it says in the page."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.actions import DesktopWait, Key, LeftDrag, PointerAction, Scroll, TypeContent, WebClick  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.errors import ActionNotSupported, StepError  # noqa: E402
from glmv_agent.geometry import pixel_to_model, point_to_pixels  # noqa: E402

pytestmark = pytest.mark.browser


def pixel_env(browser, site, viewport=(1280, 800), dsf=1.0) -> WebEnvironment:
    options = WebOptions(mode="pixel", viewport=viewport, device_scale_factor=dsf, url=site + "pixel.html",
                         wait_seconds=0)
    return WebEnvironment.from_browser(browser, options)


def hits(env: WebEnvironment, kind: str) -> list[dict]:
    return [h for h in env.page.evaluate("() => window.hits") if h["type"] == kind]


def at(env: WebEnvironment, observation, css_x: float, css_y: float) -> tuple[int, int]:
    """The thousandths a model would write for a CSS point of the viewport."""
    scale = observation.size[0] / env.page.viewport_size["width"]
    return pixel_to_model(css_x * scale, css_y * scale, observation.size)


CASES = [((1280, 800), 1.0), ((1280, 800), 2.0), ((800, 600), 3.0), ((1920, 1080), 1.0), ((1366, 768), 1.5),
         ((390, 844), 3.0)]


@pytest.mark.parametrize(("viewport", "dsf"), CASES, ids=[f"{v[0]}x{v[1]}@{d:g}" for v, d in CASES])
def test_thousandths_click_the_css_pixel_they_denote(browser, site, viewport, dsf):
    vw, vh = viewport
    with pixel_env(browser, site, viewport, dsf) as env:
        for scroll in [(0, 0), (137, 1234)]:
            env.page.evaluate("([x, y]) => scrollTo(x, y)", list(scroll))
            assert env.page.evaluate("() => [scrollX, scrollY]") == list(scroll)
            targets = [(23.0, 17.0), (vw / 2 + 0.3, vh / 3 + 0.7), (vw - 19.0, vh - 13.0)]
            for number, (cx, cy) in enumerate(targets):
                name = f"t{number}"
                env.page.evaluate("([id, x, y]) => placeTarget(id, x, y)", [name, cx + scroll[0], cy + scroll[1]])
                observation = env.observe()
                assert observation.size == (round(vw * dsf), round(vh * dsf))
                point = pixel_to_model(cx * dsf, cy * dsf, observation.size)
                env.page.evaluate("() => { window.hits = []; }")
                outcome = env.execute(PointerAction(type="left_click", start_box=point), observation)
                assert outcome.pixels == [point_to_pixels(point, observation.size)]
                (click,) = hits(env, "click")
                expected = (point[0] * vw / 1000, point[1] * vh / 1000)  # the CSS point the thousandths denote
                assert abs(click["x"] - expected[0]) <= 1, (click, expected)
                assert abs(click["y"] - expected[1]) <= 1, (click, expected)
                assert (click["px"] - click["x"], click["py"] - click["y"]) == scroll
                assert click["id"] == name  # the page confirms the target got the click


def test_buttons_double_click_and_hover(browser, site):
    with pixel_env(browser, site, dsf=2.0) as env:
        env.page.evaluate("() => placeTarget('t', 600, 400)")
        observation = env.observe()
        point = at(env, observation, 600, 400)
        for kind, event, button in [("right_click", "contextmenu", 2), ("middle_click", "auxclick", 1),
                                    ("left_double_click", "dblclick", 0)]:
            env.page.evaluate("() => { window.hits = []; }")
            env.execute(PointerAction(type=kind, start_box=point), observation)
            (hit,) = hits(env, event)
            assert (hit["id"], hit["button"]) == ("t", button)
        env.page.evaluate("() => { window.hits = []; }")
        env.execute(PointerAction(type="hover", start_box=point), observation)
        assert hits(env, "mousemove")[-1]["id"] == "t"
        assert hits(env, "mousedown") == []


def test_drag_presses_at_start_and_releases_at_end(browser, site):
    with pixel_env(browser, site, dsf=2.0) as env:
        observation = env.observe()
        start, end = at(env, observation, 700, 300), at(env, observation, 900, 500)
        outcome = env.execute(LeftDrag(start_box=start, end_box=end), observation)
        (down,), (up,) = hits(env, "mousedown"), hits(env, "mouseup")
        assert abs(down["x"] - 700) <= 1 and abs(down["y"] - 300) <= 1
        assert abs(up["x"] - 900) <= 1 and abs(up["y"] - 500) <= 1
        assert len(hits(env, "mousemove")) >= 10  # moved through the path, not a jump
        assert outcome.pixels == [point_to_pixels(start, observation.size), point_to_pixels(end, observation.size)]


def test_type_and_key_combinations_reach_the_focused_field(browser, site):
    with pixel_env(browser, site) as env:
        observation = env.observe()
        env.execute(PointerAction(type="left_click", start_box=at(env, observation, 400, 50)), observation)
        field = env.page.locator("#field")
        env.execute(TypeContent(content="héllo 世界 (1+1)"), observation)
        assert field.input_value() == "héllo 世界 (1+1)"
        env.execute(Key(keys="ctrl+a"), observation)
        env.execute(TypeContent(content="X"), observation)
        assert field.input_value() == "X"
        env.execute(Key(keys="BackSpace"), observation)
        assert field.input_value() == ""
        with pytest.raises(StepError, match="unknown key 'hyperjump'"):
            env.execute(Key(keys="ctrl+hyperjump"), observation)


def test_wheel_steps_scroll_the_element_under_the_pointer(browser, site):
    with pixel_env(browser, site) as env:
        observation = env.observe()
        env.execute(Scroll(start_box=at(env, observation, 140, 100), direction="down", step=2), observation)
        assert env.page.evaluate("() => document.getElementById('box').scrollTop") == 200
        assert env.page.evaluate("() => scrollY") == 0
        env.execute(Scroll(start_box=at(env, observation, 800, 500), direction="down", step=3), observation)
        assert env.page.evaluate("() => scrollY") == 300
        env.execute(Scroll(start_box=at(env, observation, 800, 500), direction="up", step=1), observation)
        assert env.page.evaluate("() => scrollY") == 200


def test_a_wheel_returns_once_the_page_shows_the_scroll_or_says_why_not(browser, site):
    busy = "setInterval(() => { const end = performance.now() + 40; while (performance.now() < end); }, 50)"
    box = "() => document.getElementById('box').scrollTop"
    with pixel_env(browser, site) as env:
        env.page.evaluate(busy)  # the page's main thread is busy 80% of the time: it learns of scrolls late
        observation = env.observe()
        for turn in range(6):
            direction = "up" if turn % 2 else "down"
            outcome = env.execute(Scroll(start_box=at(env, observation, 140, 100), direction=direction, step=1),
                                  observation)
            assert (env.page.evaluate(box), outcome.note) == (0 if turn % 2 else 100, None)
        outcome = env.execute(Scroll(start_box=at(env, observation, 800, 500), direction="up", step=1), observation)
        assert (env.page.evaluate("() => scrollY"), outcome.note) == (0, None)  # nothing to scroll: not awaited
        env.page.evaluate("() => document.getElementById('box').addEventListener('wheel', (e) => e.preventDefault(), "
                          "{passive: false})")
        outcome = env.execute(Scroll(start_box=at(env, observation, 140, 100), direction="down", step=1), observation)
        assert env.page.evaluate(box) == 0
        assert outcome.note == "The page took the wheel event itself (it cancelled the scrolling)."


def test_pixel_mode_speaks_only_the_desktop_grammar(browser, site):
    with pixel_env(browser, site) as env:
        observation = env.observe()
        assert observation.marked_screenshot is None and observation.elements == []
        assert env.execute(DesktopWait(), observation).detail == "waited 0 s"
        with pytest.raises(ActionNotSupported):
            env.execute(WebClick(label=0), observation)
