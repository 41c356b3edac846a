"""Fixtures shared by the web tests (no tests here): one Playwright and one Chromium per test module, and the pages
of tests/web_pages on a local static server.

Import the fixtures by their function names, which differ from the fixture names so that tests can take
``playwright``, ``browser`` and ``site`` as arguments::

    from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from glmv_agent.environments.web.browser import launch_browser
from glmv_agent.environments.web.options import WebOptions
from glmv_agent.environments.web.server import StaticServer
from glmv_agent.errors import ConfigError

PAGES = Path(__file__).parent / "web_pages"


@pytest.fixture(scope="module", name="playwright")
def playwright_fixture() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module", name="browser")
def browser_fixture(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with the default options; the module is skipped when there is none."""
    try:
        chromium = launch_browser(playwright, WebOptions())
    except ConfigError as exc:
        pytest.skip(f"no Chromium here: {exc}")
    yield chromium
    chromium.close()


@pytest.fixture(scope="module", name="site")
def site_fixture() -> Iterator[str]:
    """The URL of tests/web_pages served over HTTP on 127.0.0.1 (ends with '/')."""
    with StaticServer(PAGES) as server:
        yield server.url
