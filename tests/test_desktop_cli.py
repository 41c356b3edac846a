"""`glmv-agent run --platform desktop` as a user runs it, on Xvfb with the Tk test window."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from xvfb_support import TkWindow, XServer, server_fixture, window_fixture, xvfb_server

from glmv_agent.environments.desktop.cli import add_arguments, config_from_args
from glmv_agent.geometry import pixel_to_model, point_to_pixels

SIZE = (1280, 800)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_map_onto_the_environment_config() -> None:
    config = config_from_args(parse("--monitor", "2", "--dry-run", "--wait-seconds", "1.5", "--no-failsafe"))
    assert (config.monitor, config.dry_run, config.wait_seconds, config.failsafe) == (2, True, 1.5, False)
    default = config_from_args(parse())
    assert (default.monitor, default.dry_run, default.wait_seconds, default.failsafe) == (None, False, 5.0, True)


@pytest.mark.parametrize(("argv", "message"), [
    (("--monitor", "0"), "not a monitor number"),
    (("--wait-seconds", "-1"), "cannot be negative"),
    (("--wait-seconds", "soon"), "not a number of seconds"),
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
    events = window.settle()
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
