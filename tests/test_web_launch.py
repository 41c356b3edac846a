"""The web environment as the CLI and the demo build it: a private Playwright launching Chromium, a persistent
profile, attaching over CDP, the `glmv-agent run --platform web` flags, and the bundled demo episode."""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import site_fixture  # noqa: E402, F401

from glmv_agent.actions import WebClick  # noqa: E402
from glmv_agent.cli import main  # noqa: E402
from glmv_agent.environments.web import cli as web_cli  # noqa: E402
from glmv_agent.environments.web.browser import BrowserSession  # noqa: E402
from glmv_agent.environments.web.demo import DEMO_ANSWER, run_demo  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import LAUNCH_ARGS, WebOptions, resolve_executable  # noqa: E402
from glmv_agent.errors import ConfigError  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def chromium():
    try:
        return resolve_executable(None, None)
    except ConfigError as exc:
        pytest.skip(f"no Chromium here: {exc}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_attach_over_cdp_drives_a_running_browser_and_leaves_it_running(site, tmp_path):
    executable = resolve_executable(None, None)
    port = _free_port()
    command = [executable, "--headless", f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path}",
               *LAUNCH_ARGS, "about:blank"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/json/version", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        with WebEnvironment(WebOptions(cdp_url=url, url=site + "form.html", wait_seconds=0)) as env:
            observation = env.observe()
            env.execute(WebClick(label=5), observation)
            assert env.page.evaluate("() => document.getElementById('counter').textContent") == "Clicked 1"
        assert process.poll() is None  # detached, not killed
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_persistent_profile_keeps_state_between_sessions(site, tmp_path):
    options = WebOptions(user_data_dir=tmp_path / "profile", url=site + "form.html")
    with WebEnvironment(options) as env:
        env.page.evaluate("() => localStorage.setItem('visited', 'yes')")
    with WebEnvironment(options) as env:
        assert env.page.evaluate("() => localStorage.getItem('visited')") == "yes"


def test_headed_without_a_display_is_a_clear_config_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ConfigError, match="--headed needs a display"):
        BrowserSession.start(WebOptions(headless=False))


def parse_run(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    web_cli.add_arguments(parser)
    return parser.parse_args(list(flags))


def test_cli_flags_become_options():
    args = parse_run("--url", "example.com/start", "--web-mode", "pixel", "--viewport", "1920x1080",
                     "--device-scale-factor", "2", "--allowed-domains", "example.com, 127.0.0.1",
                     "--wait-seconds", "0.5", "--dialogs", "dismiss", "--headed")
    options = web_cli.options_from_args(args)
    assert options.url == "https://example.com/start"
    assert (options.mode, options.viewport, options.device_scale_factor) == ("pixel", (1920, 1080), 2.0)
    assert options.allowed_domains == ["example.com", "127.0.0.1"]
    assert (options.wait_seconds, options.dialogs, options.headless) == (0.5, "dismiss", False)
    assert web_cli.profile_platform(args) == "desktop"
    assert web_cli.profile_platform(parse_run()) == "web"
    with pytest.raises(ConfigError, match="not WIDTHxHEIGHT"):
        web_cli.options_from_args(parse_run("--viewport", "big"))
    with pytest.raises(ConfigError, match="device_scale_factor"):
        web_cli.options_from_args(parse_run("--device-scale-factor", "9"))


def test_glmv_agent_run_drives_the_browser_from_the_command_line(site, tmp_path):
    replies = [
        'Thought: type the name\nAction: Type [0]; [李雷 Li Lei]\nMemory_Updated: {}',
        'Thought: done\nAction: ANSWER; <content>submitted</content>\nMemory_Updated: {}',
    ]
    script = tmp_path / "replies.jsonl"
    script.write_text("".join(json.dumps({"content": r}, ensure_ascii=False) + "\n" for r in replies), "utf-8")
    code = main(["run", "fill the form", "--platform", "web", "--url", site + "form.html", "--replay", str(script),
                 "--out", str(tmp_path / "run"), "--allowed-domains", "127.0.0.1", "--no-report"])
    assert code == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text("utf-8"))
    assert (summary["status"], summary["answer"]) == ("complete", "submitted")
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text("utf-8").splitlines()]
    assert steps[0]["detail"] == 'typed "李雷 Li Lei" into [0] and pressed Enter' and steps[0]["error"] is None
    assert steps[0]["marked_screenshot"] and steps[0]["url"] == site + "form.html"


def test_the_demo_episode_completes_on_the_bundled_site(tmp_path):
    result = run_demo(tmp_path / "demo")
    assert (result.status, result.answer) == ("complete", DEMO_ANSWER)
    assert [s.error for s in result.steps] == [None] * 5
    assert result.steps[2].url.endswith("/index.html")
    assert "q=tofu&cuisine=chinese" in result.steps[3].url  # the <select> choice reached the search
    assert result.steps[4].url.endswith("/recipe.html?id=mapo-tofu")
    assert (result.run_dir / "summary.json").is_file()


def test_headed_mode_opens_a_window_on_a_display(site, monkeypatch, tmp_path):
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed")
    display = f":{_free_display()}"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
                break
            time.sleep(0.1)
        monkeypatch.setenv("DISPLAY", display)
        options = WebOptions(headless=False, url=site + "form.html", viewport=(900, 700), wait_seconds=0)
        with WebEnvironment(options) as env:
            assert env.page.evaluate("() => navigator.userAgent").find("Headless") == -1
            observation = env.observe()
            assert observation.size == (900, 700)
            env.execute(WebClick(label=5), observation)
            assert env.page.evaluate("() => document.getElementById('counter').textContent") == "Clicked 1"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number")
