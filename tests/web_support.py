"""Fixtures shared by the web tests (no tests here): one Playwright and one Chromium per test module, and the pages
of tests/web_pages on a local static server.

Import the fixtures by their function names, which differ from the fixture names so that tests can take
``playwright``, ``browser`` and ``site`` as arguments::

    from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: F401

:class:`PageServer` serves scripted answers (redirects, generated pages) next to those files, on any loopback
address, and records every path it was asked for.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page as AsyncPage
from playwright.async_api import async_playwright
from playwright.sync_api import Browser, Playwright, sync_playwright

from glmv_agent.environments.web.browser import launch_browser
from glmv_agent.environments.web.options import LAUNCH_ARGS, WebOptions, resolve_executable
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


@asynccontextmanager
async def async_page(url: str) -> AsyncIterator[AsyncPage]:
    """A 1000x700 page at ``url`` in a Chromium of its own on ``playwright.async_api``, launched with the toolkit's
    flags and closed afterwards; the test is skipped when there is no Chromium."""
    async with async_playwright() as p:
        try:
            executable = resolve_executable(None, p.chromium.executable_path)
        except ConfigError as exc:
            pytest.skip(f"no Chromium here: {exc}")
        browser = await p.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS))
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 700})
            await page.goto(url)
            yield page
        finally:
            await browser.close()


@pytest.fixture(scope="module", name="site")
def site_fixture() -> Iterator[str]:
    """The URL of tests/web_pages served over HTTP on 127.0.0.1 (ends with '/')."""
    with StaticServer(PAGES) as server:
        yield server.url


Answer = tuple[int, dict[str, str], str]  # status, headers, body


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class PageServer:
    """HTTP on ``host`` (any 127.x.y.z, or ``::1``): ``routes`` (path -> answer, or a function of the full
    request path giving one) first, then the files of tests/web_pages. ``hits`` lists every request path."""

    def __init__(self, routes: dict[str, Answer | Callable[[str], Answer]] | None = None,
                 host: str = "127.0.0.1") -> None:
        self.routes = dict(routes or {})
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.hits.append(self.path)
                status, headers, body = server.answer(self.path)
                payload = body.encode("utf-8")
                self.send_response(status)
                for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        port = self._server.server_address[1]
        self.url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def answer(self, path: str) -> Answer:
        route = self.routes.get(urlsplit(path).path)
        if route is not None:
            return route(path) if callable(route) else route
        file = PAGES / urlsplit(path).path.lstrip("/")
        if file.is_file() and PAGES in file.resolve().parents:
            return 200, {}, file.read_text(encoding="utf-8")
        return 404, {"Content-Type": "text/plain"}, "not found"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
