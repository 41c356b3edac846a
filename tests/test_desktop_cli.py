"""`glmv-agent run --platform desktop` as a user runs it, on Xvfb with the Tk test window."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from xvfb_support import TkWindow, XServer, server_fixture, window_fixture, xvfb_server

from glmv_agent.environments.desktop.cli import add_arguments, config_from_args
from glmv_agent.geometry import pixel_to_model, point_to_pixels
from tests.support import FakeOpenAIServer, Reply

SIZE = (1280, 800)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_map_onto_the_environment_config() -> None:
    config = config_from_args(parse("--monitor", "2", "--dry-run", "--wait-seconds", "1.5", "--no-failsafe",
                                    "--settle", "0.4"))
    assert (config.monitor, config.dry_run, config.wait_seconds, config.failsafe) == (2, True, 1.5, False)
    assert config.settle_seconds == 0.4
    default = config_from_args(parse())
    assert (default.monitor, default.dry_run, default.wait_seconds, default.failsafe) == (None, False, 5.0, True)
    assert default.settle_seconds == 1.0  # the pause of the official AutoGLM client


def test_settle_is_shared_with_a_platform_that_defined_it_first() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--settle", type=float, default=None)  # e.g. the phone's flag, defaulting to None
    add_arguments(parser)
    assert config_from_args(parser.parse_args(["--settle", "2"])).settle_seconds == 2.0
    assert config_from_args(parser.parse_args([])).settle_seconds == 1.0


@pytest.mark.parametrize(("argv", "message"), [
    (("--monitor", "0"), "not a monitor number"),
    (("--wait-seconds", "-1"), "cannot be negative"),
    (("--wait-seconds", "soon"), "not a number of seconds"),
    (("--settle", "-0.5"), "cannot be negative"),
])
def test_bad_flag_values_say_what_is_wrong(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=message):
        parse(*argv)


server = server_fixture(*SIZE)
window = window_fixture(pointer=(900, 700))


def glmv_run(server: XServer, tmp_path: Path, responses: list[str], *flags: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.jsonl"
    script.write_text("".join(json.dumps({"content": r}) + "\n" for r in responses), encoding="utf-8")
    command = [sys.executable, "-m", "glmv_agent.cli", "run", "Press B5 and write a greeting",
               "--platform", "desktop", "--model", "glm-4.5v", "--replay", str(script),
               "--out", str(tmp_path / "run"), "--no-report", *flags]
    env = {**server.env(), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def script(window: TkWindow) -> tuple[list[str], tuple[int, int]]:
    b5, entry = (pixel_to_model(*window.center(name), SIZE) for name in ("b5", "entry"))
    return [
        f"Press B5.\n<|begin_of_box|>left_click(start_box='[{b5[0]},{b5[1]}]')<|end_of_box|>\nMemory:\n[]",
        f"Focus.\n<|begin_of_box|>left_click(start_box='[{entry[0]},{entry[1]}]')<|end_of_box|>\nMemory:\n[]",
        "Greet.\n<|begin_of_box|>type(content='你好 desktop')<|end_of_box|>\nMemory:\n[]",
        "WAIT()",
        "DONE()",
    ], b5


@pytest.mark.xvfb
def test_run_acts_on_the_screen(server: XServer, window: TkWindow, tmp_path: Path) -> None:
    responses, b5 = script(window)
    done = glmv_run(server, tmp_path, responses, "--wait-seconds", "0.2")
    assert done.returncode == 0, done.stderr
    assert "status: complete" in done.stdout
    # Tk inserts a paste only when the selection it asked for arrives, which can follow the settle's sync message:
    # wait for the entry's text itself.
    events = window.wait_for(lambda seen: any(e["event"] == "entry" and e["text"] == "你好 desktop" for e in seen))
    presses = [(e["widget"], [e["x"], e["y"]]) for e in events if e["event"] == "press"]
    assert presses[0] == ("b5", list(point_to_pixels(b5, SIZE)))
    assert [e["text"] for e in events if e["event"] == "entry"][-1] == "你好 desktop"


@pytest.mark.xvfb
def test_dry_run_records_the_plan_and_leaves_the_screen_alone(
    server: XServer, window: TkWindow, tmp_path: Path
) -> None:
    responses, b5 = script(window)
    done = glmv_run(server, tmp_path, responses, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert [e for e in window.settle() if e["event"] in ("press", "key", "entry")] == []
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert steps[0]["pixels"] == [list(point_to_pixels(b5, SIZE))]
    assert steps[0]["detail"].startswith("dry run, not executed: would left_click at")
    assert steps[3]["detail"] == "dry run, not executed: would wait 5 s"


@pytest.mark.xvfb
def test_a_missing_monitor_is_a_one_line_error(server: XServer, tmp_path: Path) -> None:
    done = glmv_run(server, tmp_path, ["DONE()"], "--monitor", "7")
    assert done.returncode != 0
    assert "there is no monitor 7; choose --monitor from: monitor 1 (1280x800 at 0,0)" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_display_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    script_file = tmp_path / "s.jsonl"
    script_file.write_text(json.dumps({"content": "DONE()"}) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "glmv_agent.cli", "run", "t", "--platform", "desktop", "--replay", str(script_file),
         "--out", str(tmp_path / "run"), "--no-report"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "DISPLAY" in done.stderr


@pytest.mark.xvfb
def test_monitors_lists_the_numbers_monitor_takes_and_saves_each_screen(tmp_path: Path) -> None:
    with xvfb_server(2560, 800, tmp_path, [(1280, 800, 0, 0), (1280, 800, 1280, 0)]) as dual:
        done = subprocess.run(
            [sys.executable, "-m", "glmv_agent.cli", "monitors", "--screenshots", str(tmp_path / "shots")],
            capture_output=True, text=True, env=dual.env(), timeout=120, check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["1: 1280x800 at 0,0  (primary, default)", "2: 1280x800 at 1280,0"]
    with Image.open(tmp_path / "shots" / "monitor-2.png") as shot:
        assert shot.size == (1280, 800)


def run_against(fake: FakeOpenAIServer, env: dict[str, str], tmp_path: Path, *flags: str) -> subprocess.Popen[str]:
    """`glmv-agent run --platform desktop` as a user starts it, against the fake model server."""
    command = [sys.executable, "-m", "glmv_agent.cli", "run", "Press the button", "--platform", "desktop",
               "--model", "glm-4.5v", "--base-url", fake.base_url, "--api-key", "k", "--retries", "0",
               "--out", str(tmp_path / "run"), "--no-report", *flags]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**env, "PYTHONIOENCODING": "utf-8"})


def assert_stopped_before_the_model(fake: FakeOpenAIServer, process: subprocess.Popen[str], message: str) -> None:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: " + message), err
    assert "status:" not in out
    assert fake.chat_requests == []


def free_display() -> str:
    number = next(n for n in range(900, 1000) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    return f":{number}"


def test_a_display_that_does_not_exist_stops_before_the_first_model_call(tmp_path: Path) -> None:
    display = free_display()
    with FakeOpenAIServer(default="DONE()") as fake:
        process = run_against(fake, {**os.environ, "DISPLAY": display}, tmp_path)
        assert_stopped_before_the_model(fake, process, f"cannot connect to the display {display}: ")
    assert not (tmp_path / "run").exists()


@pytest.mark.xvfb
def test_a_server_that_refuses_our_authority_stops_before_the_first_model_call(tmp_path: Path) -> None:
    with xvfb_server(640, 480, tmp_path, cookie=secrets.token_hex(16)) as guarded, \
            FakeOpenAIServer(default="DONE()") as fake:
        empty = tmp_path / "empty-authority"
        empty.touch()
        process = run_against(fake, {**guarded.env(), "XAUTHORITY": str(empty)}, tmp_path)
        assert_stopped_before_the_model(fake, process, f"cannot connect to the display {guarded.display}: the X "
                                                       "server refused us (Authorization required")


@pytest.mark.xvfb
def test_no_authority_file_at_all_stops_before_the_first_model_call(tmp_path: Path) -> None:
    with xvfb_server(640, 480, tmp_path) as open_server, FakeOpenAIServer(default="DONE()") as fake:
        home = tmp_path / "home"  # no ~/.Xauthority, no XAUTHORITY: pyautogui (python-xlib) cannot connect
        home.mkdir()
        env = {k: v for k, v in open_server.env().items() if k != "XAUTHORITY"}
        process = run_against(fake, {**env, "HOME": str(home)}, tmp_path)
        assert_stopped_before_the_model(fake, process, f"cannot connect to the display {open_server.display}: no X "
                                                       "authority file")


@pytest.mark.xvfb
@pytest.mark.parametrize("settle", ["0.2", "0"])  # the first thing to fail: a screen capture, or pyautogui's click
def test_an_x_server_that_goes_away_mid_run_ends_it_with_display_disconnected(settle: str, tmp_path: Path) -> None:
    click = "Click.\n<|begin_of_box|>left_click(start_box='[500,500]')<|end_of_box|>\nMemory:\n[]"
    script = [click, Reply(content=click, delay_s=2.0), "DONE()"]  # the server dies while the model "thinks"
    with xvfb_server(640, 480, tmp_path) as doomed, FakeOpenAIServer(script) as fake:
        process = run_against(fake, doomed.env(), tmp_path, "--settle", settle)
        deadline = time.monotonic() + 60
        while len(fake.chat_requests) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        doomed.process.kill()
        out, err = process.communicate(timeout=120)
    assert process.returncode == 5, err  # endpoint or device error (docs/api.md exit codes)
    assert "Traceback" not in err, err
    assert "status: error" in out
    assert f"reason: device: display disconnected: the X server {doomed.display} is gone" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["status"], summary["steps"]) == ("error", 2)
    assert summary["finished_at"] is not None
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert [s["error_kind"] for s in steps] == [None, "DeviceDisconnected"]
    assert all((tmp_path / "run" / s["screenshot"]).exists() for s in steps)
