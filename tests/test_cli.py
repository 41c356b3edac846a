"""The console script as a user runs it: parse and run (replay + in-memory screen), exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "glmv_agent.cli"]


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_parse_prints_protocol_action_json() -> None:
    text = '<answer>Memory: {"a": 1}\nReason: r\nAction: <|begin_of_box|>{"action_type": "click", "box_2d": [[1,2,3,4]]}'
    done = cli("parse", "--model", "glm-4.5v", "--platform", "mobile", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"action": {"type": "click", "box_2d": [1, 2, 3, 4]}, "thought": "r",
                                       "memory": '{"a": 1}'}


def test_parse_each_grammar_names_actions_as_the_protocol_writes_them(tmp_path: Path) -> None:
    cases = [
        ("glm-4.1v", "desktop", "left_click(start_box='[10,20]')", {"type": "left_click", "start_box": [10, 20]}),
        ("glm-4.5v", "web", "Thought: t\nAction: Click [3]\nMemory_Updated: {}", {"type": "Click", "label": 3}),
        ("autoglm-phone", "mobile", 'do(action="Tap", element=[5,6])', {"type": "Tap", "element": [5, 6]}),
    ]
    for model, platform, text, expected in cases:
        path = tmp_path / f"{model}.txt"
        path.write_text(text, encoding="utf-8")
        done = cli("parse", "--model", model, "--platform", platform, str(path))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["action"] == expected


def test_parse_error_exits_2_with_one_line() -> None:
    done = cli("parse", "--model", "glm-4.5v", "--platform", "desktop", "-", stdin="I would click OK")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: no desktop action call") and done.stderr.count("\n") == 1


def test_an_unknown_desktop_action_is_named_as_unknown() -> None:
    """Where the action goes (the box, or after "Action:") a call that is no desktop action is refused by name."""
    for reply in ("Cleaning up.\n<|begin_of_box|>rm_rf(start_box='[1,2]')<|end_of_box|>\nMemory:\n[]",
                  "Action: shell.run('ls')\nMemory:\n[]"):
        done = cli("parse", "--model", "glm-4.5v", "--platform", "desktop", "-", stdin=reply)
        assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
        name = "rm_rf" if "rm_rf" in reply else "shell.run"
        assert done.stderr.startswith(f"error: unknown desktop action '{name}'; expected one of left_click, "), done.stderr


def test_autoglm_on_desktop_is_a_config_error() -> None:
    done = cli("parse", "--model", "autoglm-phone", "--platform", "desktop", "-", stdin="DONE()")
    assert done.returncode == 2 and "autoglm-phone speaks only the mobile grammar" in done.stderr


def test_run_with_replay_on_the_in_memory_screen(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    lines = [
        'Memory: None\nReason: tap\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}',
        'Memory: None\nReason: say it\nAction: {"action_type": "answer", "text": "HomeNet"}',
        'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}',
    ]
    script.write_text("\n".join(json.dumps({"content": line}) for line in lines), encoding="utf-8")
    out = tmp_path / "run"
    done = cli("run", "Tell me the Wi-Fi name", "--platform", "mobile", "--model", "glm-4.5v", "--replay", str(script),
               "--fake-screen", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "status: complete" in done.stdout and "answer: HomeNet" in done.stdout
    assert "at [(216, 720)]" in done.stdout or "at [[216, 720]]" in done.stdout
    assert json.loads((out / "summary.json").read_text())["answer"] == "HomeNet"


def test_run_that_never_finishes_exits_4(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps({"content": "no idea"}) + "\n", encoding="utf-8")
    done = cli("run", "t", "--platform", "mobile", "--replay", str(script), "--fake-screen", "--max-reasks", "0",
               "--out", str(tmp_path / "run"))
    assert done.returncode == 4 and "status: failed" in done.stdout


def test_missing_replay_file_is_one_clear_line(tmp_path: Path) -> None:
    done = cli("run", "t", "--platform", "mobile", "--replay", str(tmp_path / "nope.jsonl"), "--fake-screen")
    assert done.returncode == 2 and done.stderr.strip() == f"error: replay file not found: {tmp_path / 'nope.jsonl'}"


def test_profiles_lists_every_model_platform_pair() -> None:
    done = cli("profiles")
    assert done.stdout.split() == ["autoglm-phone/mobile", "glm-4.1v/desktop", "glm-4.1v/mobile", "glm-4.1v/web",
                                   "glm-4.5v/desktop", "glm-4.5v/mobile", "glm-4.5v/web"]


def test_demo_runs_offline_in_chromium(tmp_path: Path) -> None:
    import shutil

    import pytest

    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        pytest.skip("needs Debian's chromium")
    done = cli("demo", "--out", str(tmp_path / "demo"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "status: complete" in done.stdout and "answer: Mapo Tofu" in done.stdout
    assert (tmp_path / "demo" / "report.html").is_file()
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["steps"] == 5


def test_control_sequences_in_model_text_reach_the_terminal_as_escapes(tmp_path: Path) -> None:
    """A reply (or a page injecting text into it) carrying ESC/BEL sequences (retitle the window, hide text) is shown
    with those characters written as \\x1b, \\x07: on the parse error line and on a run's step and reason lines."""
    hostile = "Action: rm_rf('/')\x1b]0;PWNED\x07\x1b[8m hidden\x9b2J"
    done = cli("parse", "--model", "glm-4.5v", "--platform", "desktop", "-", stdin=hostile)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "\\x1b]0;PWNED\\x07\\x1b[8m hidden\\x9b2J" in done.stderr
    replay = tmp_path / "hostile.jsonl"
    replay.write_text(json.dumps({"content": hostile}) + "\n", encoding="utf-8")
    done = cli("run", "t", "--platform", "desktop", "--fake-screen", "--replay", str(replay), "--out", str(tmp_path / "r"))
    shown = done.stdout + done.stderr
    assert "PWNED" in shown and not any(char in shown for char in "\x1b\x07\x9b"), shown
    reply = "Memory: None\nReason: a\x9b2J\x1b[8m b 周报\nAction: {\"action_type\": \"wait\"}"
    done = cli("parse", "--model", "glm-4.5v", "--platform", "mobile", "-", stdin=reply)
    assert done.returncode == 0 and not any(char in done.stdout for char in "\x1b\x9b"), done.stdout
    assert json.loads(done.stdout)["thought"] == "a\x9b2J\x1b[8m b 周报"  # the JSON still reads back exactly
