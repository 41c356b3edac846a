"""The fast viewport capture gives exactly page.screenshot()'s pixels at every scale and scroll position, hides the
caret while it shoots, and leaves the page as it was (no style left behind, the device scale untouched)."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("playwright.sync_api")
from PIL import Image, ImageChops  # noqa: E402
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.environments.web.capture import CARET_STYLE_ID, capture  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scale", [1.0, 2.0, 1.5])
def test_capture_matches_page_screenshot_and_leaves_the_page_alone(browser, site, scale):
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=scale)
    try:
        page = context.new_page()
        page.goto(site + "form.html")
        page.locator("input").first.focus()  # a blinking caret in the picture would make identical screens differ
        for scroll in (0, 300):
            page.evaluate("(y) => scrollTo(0, y)", scroll)
            fast = capture(page)
            plain = Image.open(io.BytesIO(page.screenshot(type="png"))).convert(fast.mode)
            assert fast.size == (round(640 * scale), round(400 * scale))
            assert ImageChops.difference(fast, plain).getbbox() is None
            assert [capture(page).tobytes() for _ in range(3)] == [fast.tobytes()] * 3
        assert page.evaluate("() => devicePixelRatio") == scale
        assert page.evaluate(f"() => !document.getElementById('{CARET_STYLE_ID}')")
    finally:
        context.close()
