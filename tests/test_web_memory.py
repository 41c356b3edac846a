"""The web environments remember what resolving an action needs for their recent observations, not the
screenshots: once the caller lets go of an observation its images are freed, while the observation the model saw
last still resolves its labels in headless Chromium (sync WebEnvironment and AsyncPageEnvironment alike: the
async one in test_web_memory_async.py, as async Playwright cannot run beside this module's sync Playwright)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.actions import WebClick  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.types import Observation  # noqa: E402

pytestmark = pytest.mark.browser
COUNTER = "() => document.getElementById('counter').textContent"


def counter_label(observation: Observation) -> int:
    return next(e.label for e in observation.elements if e.text.startswith(("Click me", "Clicked")))


def images_of(observation: Observation) -> list[weakref.ref]:
    return [weakref.ref(observation.screenshot), weakref.ref(observation.marked_screenshot)]


@pytest.fixture
def env(browser, site) -> Iterator[WebEnvironment]:
    options = WebOptions(url=site + "form.html", wait_seconds=0)
    with WebEnvironment.from_browser(browser, options) as environment:
        yield environment


def test_sync_environment_frees_earlier_screenshots_and_still_acts_on_the_latest(env):
    first = images_of(env.observe())  # the caller keeps nothing of the first observation but weak references
    kept = env.observe()  # this one the caller keeps
    for _ in range(2):
        latest = env.observe()
    gc.collect()
    assert [ref() for ref in first] == [None, None]
    assert all(ref() is not None for ref in images_of(kept))
    env.execute(WebClick(label=counter_label(latest)), latest)
    assert env.page.evaluate(COUNTER) == "Clicked 1"
