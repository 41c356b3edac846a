"""AsyncPageEnvironment remembers what resolving an action needs, not the screenshots: an earlier observation's
images are freed once the caller lets go of it, and the latest one still resolves its labels in headless Chromium."""

from __future__ import annotations

import asyncio
import gc

import pytest

pytest.importorskip("playwright.async_api")
from test_web_memory import COUNTER, counter_label, images_of  # noqa: E402
from web_support import async_page, site_fixture  # noqa: E402, F401

from glmv_agent.actions import WebClick  # noqa: E402
from glmv_agent.environments.web.async_page import AsyncPageEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402

pytestmark = pytest.mark.browser


async def _async_scenario(site: str) -> tuple[list[object], str]:
    async with async_page(site + "form.html") as page:
        env = AsyncPageEnvironment(page, WebOptions(wait_seconds=0))
        first = images_of(await env.aobserve())
        for _ in range(3):
            latest = await env.aobserve()
        gc.collect()
        freed = [ref() for ref in first]
        await env.aexecute(WebClick(label=counter_label(latest)), latest)
        counter = await page.evaluate(COUNTER)
        await env.aclose()
        return freed, counter


def test_async_page_environment_frees_earlier_screenshots_and_still_acts_on_the_latest(site):
    freed, counter = asyncio.run(_async_scenario(site))
    assert freed == [None, None]
    assert counter == "Clicked 1"
