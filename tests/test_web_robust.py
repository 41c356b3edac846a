"""What the web environment does when the browser misbehaves: new tabs, dialogs, downloads, slow and crashed
pages, blocked domains, attaching over CDP, wrapping a caller's page, a browser that goes away."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from web_support import PAGES, PageServer, browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.actions import GoBack, SearchEngine, WebClick  # noqa: E402
from glmv_agent.environments.web.browser import launch_browser  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions, resolve_executable  # noqa: E402
from glmv_agent.errors import ConfigError, DeviceDisconnected, StepError  # noqa: E402

pytestmark = pytest.mark.browser


def open_env(browser, url: str | None, **options) -> WebEnvironment:
    return WebEnvironment.from_browser(browser, WebOptions(url=url, wait_seconds=0, **options))


def label_of(observation, text: str) -> int:
    return next(e.label for e in observation.elements if e.text == text)


def test_a_link_opening_a_new_tab_is_followed_and_goback_returns(browser, site):
    with open_env(browser, site + "form.html") as env:
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Open the second page in a new tab")), observation)
        new_tab = env.observe()
        assert new_tab.url == site + "second.html"
        assert any(note.startswith("A new tab opened") for note in new_tab.notes)
        assert env.page.evaluate("() => document.title") == "Second page"
        outcome = env.execute(GoBack(), new_tab)
        assert "closed the tab" in outcome.detail
        assert env.observe().url == site + "form.html"
        assert len(env.session.context.pages) == 1


@pytest.mark.parametrize(("policy", "expected"), [("accept", "confirmed"), ("dismiss", "cancelled")])
def test_confirm_dialogs_follow_the_policy_and_are_reported(browser, site, policy, expected):
    with open_env(browser, site + "form.html", dialogs=policy) as env:
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Delete")), observation)
        assert env.page.evaluate("() => document.getElementById('answer').textContent") == expected
        verb = "accepted" if policy == "accept" else "dismissed"
        assert f'A confirm dialog said "Delete everything?"; it was {verb}.' in env.observe().notes


def test_an_accepted_prompt_receives_the_configured_text(browser, site):
    with open_env(browser, site + "form.html", prompt_text="Bob 鲍勃") as env:
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Nickname")), observation)
        assert env.page.evaluate("() => document.getElementById('answer').textContent") == "prompt:Bob 鲍勃"
        assert any('with the text "Bob 鲍勃"' in note for note in env.observe().notes)


def test_downloads_are_saved_and_reported(browser, site, tmp_path):
    with open_env(browser, site + "second.html", downloads_dir=tmp_path / "dl") as env:
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Download the report")), observation)
        notes = env.observe().notes
        saved = tmp_path / "dl" / "report.txt"
        assert saved.read_bytes() == (PAGES / "report.txt").read_bytes()
        assert f"Downloaded report.txt ({saved.stat().st_size} bytes), saved as {saved}." in notes


def slow_text(seconds: float, body: str, released: threading.Event | None = None):  # noqa: ANN201
    """A route answering ``body`` as text after ``seconds`` (or once ``released`` is set, if that comes first)."""
    def answer(path: str) -> tuple[int, dict[str, str], str]:
        (released or threading.Event()).wait(seconds)
        return 200, {"Content-Type": "text/plain"}, body
    return answer


def test_a_download_the_server_answers_late_is_reported_in_the_next_look(browser, tmp_path):
    # Chromium announces a download only once the server answers: here well after the click's step has settled
    with PageServer({"/late.txt": slow_text(2.0, "late report\n")}) as server, \
            open_env(browser, server.url + "second.html", downloads_dir=tmp_path / "dl") as env:
        env.page.evaluate("() => { document.getElementById('download').href = 'late.txt'; }")
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Download the report")), observation)
        notes = env.observe().notes
        saved = tmp_path / "dl" / "late.txt"
        assert f"Downloaded late.txt (12 bytes), saved as {saved}." in notes
        assert saved.read_text(encoding="utf-8") == "late report\n"


def test_a_cancelled_download_click_is_not_awaited_and_one_never_answered_is_said(browser, tmp_path):
    released = threading.Event()
    with PageServer({"/never.txt": slow_text(60, "never", released)}) as server, \
            open_env(browser, server.url + "second.html", downloads_dir=tmp_path / "dl") as env:
        env.session.downloads.timeout_s = 0.5  # how long a look waits for a clicked download to begin
        env.page.evaluate("() => document.getElementById('download').addEventListener('click', (e) => "
                          "e.preventDefault(), {once: true})")
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Download the report")), observation)
        assert env.observe().notes == []  # the page cancelled it: no download was coming
        env.page.evaluate("() => { document.getElementById('download').href = 'never.txt'; }")
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Download the report")), observation)
        assert env.observe().notes == ["A download link was clicked, but no download began within 0.5 s."]
        released.set()
        assert not (tmp_path / "dl").exists()


@pytest.fixture
def hanging_url():
    """A server that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


# These environments start on about:blank and the test opens the page with its own timeout: the 0.5 s navigation
# timeout under test would also apply to a start URL, which a loaded machine may take longer than that to load.
def test_a_navigation_timeout_is_a_step_error(browser, hanging_url):
    with open_env(browser, None, search_url=hanging_url, navigation_timeout_s=0.5) as env:
        started = time.monotonic()
        with pytest.raises(StepError, match="did not load within 0.5 s"):
            env.execute(SearchEngine(), env.observe())
        assert time.monotonic() - started < 15  # the 0.5 s, not the default 30 s
        assert env.observe().screenshot.size == (1280, 800)  # the environment still works


def test_a_link_to_a_page_that_never_loads_is_stopped_and_reported(browser, site, hanging_url):
    with open_env(browser, None, navigation_timeout_s=0.5) as env:
        env.page.goto(site + "form.html", timeout=60_000)
        env.page.evaluate("(url) => { document.getElementById('next').href = url; }", hanging_url)
        observation = env.observe()
        outcome = env.execute(WebClick(label=label_of(observation, "Go to the second page")), observation)
        assert outcome.note == "The page did not finish loading within 0.5 s; loading was stopped."
        after = env.observe()
        assert after.url == site + "form.html" and after.elements[0].text == "Your name"


def test_a_crashed_page_is_a_step_error_then_reopened(browser, site):
    with open_env(browser, site + "form.html") as env:
        observation = env.observe()
        with pytest.raises(PlaywrightError):
            env.page.goto("chrome://crash")
        with pytest.raises(StepError, match="crashed"):
            env.execute(WebClick(label=0), observation)
        after = env.observe()
        assert f"The page crashed; it was reopened at {site}form.html." in after.notes
        assert after.url == site + "form.html" and after.elements[0].text == "Your name"


def test_the_allowlist_blocks_other_domains_on_the_network_and_says_so(browser, site):
    with open_env(browser, site + "allow.html", allowed_domains=["127.0.0.1"]) as env:
        result = "() => document.getElementById('result').textContent"
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Fetch from this site")), observation)
        env.page.wait_for_function(f"() => ({result})() !== 'nothing fetched'")
        assert env.page.evaluate(result) == "loaded 200"
        assert env.observe().notes == []
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Fetch from localhost")), observation)
        env.page.wait_for_function(f"() => ({result})() === 'failed'")
        assert "Blocked requests to domains outside the allowed list (127.0.0.1): localhost (1)." in env.observe().notes
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Visit localhost")), observation)
        blocked = env.observe()
        assert any("localhost" in note for note in blocked.notes)
        assert not blocked.url.startswith("http://localhost")
        with pytest.raises(StepError, match="www.bing.com is not in the allowed domains"):
            env.execute(SearchEngine(), blocked)


def test_without_an_allowlist_the_other_domain_loads(browser, site):
    with open_env(browser, site + "allow.html") as env:
        observation = env.observe()
        env.execute(WebClick(label=label_of(observation, "Fetch from localhost")), observation)
        env.page.wait_for_function("() => document.getElementById('result').textContent !== 'nothing fetched'")
        assert env.page.evaluate("() => document.getElementById('result').textContent") == "loaded 0"
        assert env.observe().notes == []


def test_a_start_url_outside_the_allowlist_is_a_config_error(browser, site):
    with pytest.raises(ConfigError, match="not in --allowed-domains"):
        open_env(browser, site.replace("127.0.0.1", "localhost") + "form.html", allowed_domains=["127.0.0.1"])


def test_wrapping_a_callers_page_leaves_it_open_and_unrouted(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + "form.html")
    fetch = "(url) => fetch(url, {mode: 'no-cors'}).then(() => 'fetched', () => 'failed')"
    elsewhere = site.replace("127.0.0.1", "localhost") + "second.html"
    with WebEnvironment.from_page(page, WebOptions(wait_seconds=0, allowed_domains=["127.0.0.1"])) as env:
        observation = env.observe()
        env.execute(WebClick(label=5), observation)
        assert page.evaluate(fetch, elsewhere) == "failed"
    assert not page.is_closed()
    assert page.evaluate("() => document.getElementById('counter').textContent") == "Clicked 1"
    assert page.evaluate(fetch, elsewhere) == "fetched"  # our route left with the environment
    context.close()


def test_a_browser_that_goes_away_is_device_disconnected(playwright, site):
    own = launch_browser(playwright, WebOptions())
    env = WebEnvironment.from_browser(own, WebOptions(url=site + "form.html"))
    observation = env.observe()
    own.close()
    with pytest.raises(DeviceDisconnected):
        env.observe()
    with pytest.raises(DeviceDisconnected):
        env.execute(WebClick(label=0), observation)
    env.close()


def test_browser_executable_resolution(monkeypatch, tmp_path):
    fake = tmp_path / "my-chrome"
    fake.write_text("")
    monkeypatch.delenv("GLMV_BROWSER_EXECUTABLE", raising=False)
    assert resolve_executable(str(fake), None) == str(fake)
    monkeypatch.setenv("GLMV_BROWSER_EXECUTABLE", str(fake))
    assert resolve_executable(None, "/nonexistent/chrome") == str(fake)
    with pytest.raises(ConfigError, match="not found"):
        resolve_executable(str(tmp_path / "missing"), None)
    monkeypatch.delenv("GLMV_BROWSER_EXECUTABLE")
    assert resolve_executable(None, str(fake)) is None  # Playwright's own browser is there: let it launch it
    if os.path.exists("/usr/bin/chromium"):
        assert resolve_executable(None, "/nonexistent/chrome") == "/usr/bin/chromium"
