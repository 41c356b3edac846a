"""Set-of-marks inside iframes: elements of a same-origin and of a cross-origin frame (127.0.0.2, which Chromium
runs in another process) get labels where the frame is in document order, boxes in the page's viewport, and can be
clicked and typed into; what the frame's edge hides is not labelled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Frame  # noqa: E402
from web_support import PageServer, browser_fixture, playwright_fixture  # noqa: E402, F401

from glmv_agent.actions import WebClick, WebType  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.types import Observation  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[str, str]]:
    with PageServer() as site, PageServer(host="127.0.0.2") as other:
        yield site.url, other.url


@pytest.fixture
def env(browser, sites) -> Iterator[WebEnvironment]:  # noqa: ANN001
    site, other = sites
    options = WebOptions(url=f"{site}frames.html?other={other}", wait_seconds=0)
    with WebEnvironment.from_browser(browser, options) as environment:
        environment.page.wait_for_function("() => document.getElementById('other').contentWindow.length === 0")
        frame = _frame(environment, "who=other")
        frame.wait_for_load_state()
        yield environment


def _frame(env: WebEnvironment, marker: str) -> Frame:
    frames = [f for f in env.page.frames if marker in f.url]
    assert len(frames) == 1, [f.url for f in env.page.frames]
    return frames[0]


def _labels(observation: Observation, text: str) -> list[int]:
    return [e.label for e in observation.elements if e.text == text]


def test_frame_elements_are_labelled_in_document_order_with_page_boxes(env: WebEnvironment) -> None:
    observation = env.observe()
    texts = [e.text for e in observation.elements]
    inner = ["Press me", "inner text", "inner file"]
    assert texts == ["Before the frames", *inner, *inner, "After the frames"]
    assert [e.tag for e in observation.elements] == ["button", *["button", "input", "input"] * 2, "button"]
    assert not [e for e in observation.elements if e.tag == "iframe"]  # the frames' contents replace them
    for index, frame_id in ((1, "same"), (4, "other")):
        outer = env.page.locator(f"#{frame_id}").bounding_box()
        rect = "() => { const r = document.getElementById('press').getBoundingClientRect(); " \
               "return [r.left, r.top, r.right, r.bottom]; }"
        x1, y1, x2, y2 = _frame(env, f"who={frame_id}").evaluate(rect)
        inset = 6 + 4  # the iframe's border and padding (frames.html)
        dx, dy = outer["x"] + inset, outer["y"] + inset
        assert observation.elements[index].box == pytest.approx((x1 + dx, y1 + dy, x2 + dx, y2 + dy), abs=0.5)


def test_what_the_frame_edge_hides_gets_no_label(env: WebEnvironment) -> None:
    hidden = "Hidden below the frame's edge"
    assert not _labels(env.observe(), hidden)
    frame = _frame(env, "who=other")
    frame.evaluate("() => scrollTo(0, 400)")  # now it shows, and the frame's other elements are scrolled away
    observation = env.observe()
    assert len(_labels(observation, hidden)) == 1 and len(_labels(observation, "Press me")) == 1
    env.execute(WebClick(label=_labels(observation, hidden)[0]), observation)
    assert frame.evaluate("() => document.activeElement.id") == "below"


@pytest.mark.parametrize("who", ["same", "other"])
def test_a_click_and_typing_land_inside_the_frame(env: WebEnvironment, who: str) -> None:
    observation = env.observe()
    button, field = (_labels(observation, "Press me"), _labels(observation, "inner text"))
    index = 0 if who == "same" else 1
    frame = _frame(env, f"who={who}")
    env.execute(WebClick(label=button[index]), observation)
    assert frame.locator("#press").text_content() == "Pressed 1"
    observation = env.observe()
    outcome = env.execute(WebType(label=field[index], content="héllo 你好"), observation)
    assert frame.locator("#text").input_value() == "héllo 你好"
    assert frame.locator("#sent").text_content() == "sent héllo 你好"  # Enter went to the frame's field
    assert outcome.pixels and "typed" in outcome.detail
    other = _frame(env, f"who={'other' if who == 'same' else 'same'}")
    assert other.locator("#press").text_content() == "Press me"  # the other frame was not touched


def test_a_file_input_inside_the_cross_origin_frame_takes_a_file_from_the_allowed_folder(browser, sites, tmp_path):  # noqa: ANN001
    (tmp_path / "report.txt").write_text("inside")
    site, other = sites
    options = WebOptions(url=f"{site}frames.html?other={other}", wait_seconds=0, files_dir=tmp_path)
    with WebEnvironment.from_browser(browser, options) as env:
        frame = _frame(env, "who=other")
        frame.wait_for_load_state()
        observation = env.observe()
        env.execute(WebType(label=_labels(observation, "inner file")[1], content="report.txt"), observation)
        assert frame.locator("#sent").text_content() == "file report.txt"


def test_the_cross_origin_frame_is_really_cross_origin(env: WebEnvironment) -> None:
    can_read = "() => { try { return !!document.getElementById('other').contentDocument; } catch (e) { return false; } }"
    assert env.page.evaluate(can_read) is False
    assert env.page.evaluate("() => !!document.getElementById('same').contentDocument") is True
