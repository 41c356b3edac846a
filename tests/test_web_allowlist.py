"""The domain allowlist holds on every hop: HTTP redirects of each kind (on navigations, popups, frames and
subresources), meta refresh and WebSockets never reach a host outside the list; entries that name no host are
configuration errors; IPv6 literals work bracketed and bare. A second server on 127.0.0.2 plays the disallowed
origin and records whether anything reached it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import PageServer, browser_fixture, playwright_fixture  # noqa: E402, F401

from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions, host_allowed, normalise_domain  # noqa: E402
from glmv_agent.errors import ConfigError  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[PageServer]:
    """The disallowed origin: any request that reaches it is a hole in the allowlist."""
    with PageServer(host="127.0.0.2") as server:
        yield server


def _redirect(path: str) -> tuple[int, dict[str, str], str]:
    query = parse_qs(urlsplit(path).query)
    return int(query["code"][0]), {"Location": query["to"][0]}, ""


@pytest.fixture(scope="module")
def origin(elsewhere: PageServer) -> Iterator[PageServer]:
    """The allowed origin: ``/redirect?code=N&to=URL`` and one page per way of leaving the site."""

    def via(code: int, name: str) -> str:
        return f"/redirect?code={code}&amp;to={quote(elsewhere.url + name, safe='')}"

    pages = {
        "nav.html": f'<a href="{via(301, "nav")}" style="font-size:40px">go</a>',
        "img.html": f'<img src="{via(302, "img")}">',
        "frame.html": f'<iframe src="{via(303, "frame")}"></iframe>',
        "fetch.html": f'<script>fetch("{via(307, "fetch")}".replace("&amp;", "&")).catch(() => 0)</script>',
        "popup.html": f'<script>window.open("{via(308, "popup")}".replace("&amp;", "&"))</script>',
        "meta.html": f'<meta http-equiv="refresh" content="0;url={elsewhere.url}meta">',
        "meta-redirect.html": f'<meta http-equiv="refresh" content="0;url={via(302, "meta-redirect")}">',
        "socket.html": f'<script>new WebSocket("{elsewhere.url.replace("http", "ws")}socket")</script>',
        "home.html": '<img src="/redirect?code=302&amp;to=/second.html"><a href="/redirect?code=307&amp;to=/'
                     'second.html" style="font-size:40px">next</a>',
    }
    routes: dict = {f"/{name}": (200, {}, body) for name, body in pages.items()}
    routes["/redirect"] = _redirect
    with PageServer(routes) as server:
        yield server


LEAVES = ["nav.html", "img.html", "frame.html", "fetch.html", "popup.html", "meta.html", "meta-redirect.html",
          "socket.html"]


def _leave(browser, url: str, allowed: list[str], done: Callable[[list[str]], bool]) -> list[str]:  # noqa: ANN001
    """Open ``url`` (clicking its link when it has one) and observe until ``done(notes so far)`` (30 s at most: a
    loaded machine may take seconds; a page that does leave takes one look)."""
    notes: list[str] = []
    with WebEnvironment.from_browser(browser, WebOptions(url=url, wait_seconds=0, allowed_domains=allowed)) as env:
        links = env.page.locator("a")
        if links.count():
            links.first.click()
        deadline = time.monotonic() + 30
        while not done(notes) and time.monotonic() < deadline:
            env.page.wait_for_timeout(50)
            notes += env.observe().notes
    return notes


@pytest.mark.parametrize("page", LEAVES)
def test_no_hop_reaches_a_disallowed_origin(browser, origin, elsewhere, page):  # noqa: ANN001
    elsewhere.hits.clear()
    notes = _leave(browser, origin.url + page, ["127.0.0.1"], lambda notes: any("127.0.0.2" in n for n in notes))
    assert elsewhere.hits == []
    assert any("outside the allowed list (127.0.0.1): 127.0.0.2" in note for note in notes), notes


@pytest.mark.parametrize("page", LEAVES)
def test_without_an_allowlist_each_page_does_reach_the_other_origin(browser, origin, elsewhere, page):  # noqa: ANN001
    elsewhere.hits.clear()
    _leave(browser, origin.url + page, [], lambda _: bool(elsewhere.hits))
    assert elsewhere.hits, "the page never tried to leave: the test above would prove nothing"


def test_redirects_within_the_allowed_site_still_work(browser, origin):  # noqa: ANN001
    options = WebOptions(url=origin.url + "home.html", wait_seconds=0, allowed_domains=["127.0.0.1"])
    with WebEnvironment.from_browser(browser, options) as env:
        env.page.wait_for_function("() => document.images[0].complete")  # the image's hops are over
        assert env.page.evaluate("() => document.images[0].naturalWidth === 0")  # an HTML page is not an image
        env.page.locator("a").click()
        env.page.wait_for_url(origin.url + "second.html")
        assert env.page.title() == "Second page"
        assert env.observe().notes == []
    assert origin.hits.count("/second.html") >= 2  # the image's hop and the link's hop both arrived


@pytest.mark.parametrize("entry", ["https://", ".", "*", "*.", "http://:80", " . "])
def test_an_entry_naming_no_host_is_a_configuration_error(entry):
    with pytest.raises(ConfigError, match="names no host"):
        WebOptions(allowed_domains=["example.com", entry])


def test_entries_normalise_and_ip_addresses_match_only_themselves():
    assert [normalise_domain(e) for e in ("::1", "[::1]", "[::1]:8080", "http://[0:0::1]/x", "*.Example.COM.")] \
        == ["::1", "::1", "::1", "::1", "example.com"]
    assert host_allowed("http://[::1]:9/", ["::1"]) and host_allowed("http://[0::1]/", ["::1"])
    assert host_allowed("http://127.0.0.1/", ["127.0.0.1"]) and not host_allowed("http://127.0.0.1/", ["0.1"])
    assert not host_allowed("http://[::2]/", ["::1"]) and not host_allowed("http://[::1/", ["::1"])
    assert host_allowed("https://a.example.com/", ["example.com"]) and not host_allowed("https://badexample.com/",
                                                                                       ["example.com"])


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
@pytest.mark.parametrize("entry", ["::1", "[::1]"])
def test_ipv6_literals_work_bare_and_bracketed(browser, elsewhere, entry):  # noqa: ANN001
    elsewhere.hits.clear()
    page = f'<p>six</p><img src="{elsewhere.url}v6">'
    with PageServer({"/six.html": (200, {}, page)}, host="::1") as six:
        options = WebOptions(url=six.url + "six.html", wait_seconds=0, allowed_domains=[entry])
        with WebEnvironment.from_browser(browser, options) as env:
            env.page.wait_for_function("() => document.images[0].complete")  # its request was refused, and counted
            assert env.page.locator("p").text_content() == "six"
            assert any("127.0.0.1" not in n and "127.0.0.2" in n for n in env.observe().notes)
    assert elsewhere.hits == []
