"""The phone on the command line: `run --platform mobile` flags, `sim-device`, and a full replayed run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_mobile_support import FAST, free_port, key_fixture

from glmv_agent.cli import build_parser
from glmv_agent.environments.android import cli as mobile_cli
from glmv_agent.environments.android.connection import AdbClient, Target
from glmv_agent.environments.android.sim.device import SimulatedPhone

CLI = shutil.which("glmv-agent", path=str(Path(sys.executable).parent)) or "glmv-agent"


key = key_fixture()


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "commands.jsonl"
    port = free_port()
    process = subprocess.Popen(
        [CLI, "sim-device", "--port", str(port), "--size", "1080x2400", "--command-log", str(log), "--adb-keyboard"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    banner = process.stdout.readline()
    assert f"127.0.0.1:{port}" in banner, banner + (process.stderr.read() if process.poll() is not None else "")
    try:
        yield f"127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_run_flags_build_the_environment(key: Path, tmp_path: Path) -> None:
    apps = tmp_path / "apps.json"
    apps.write_text('{"Notes": "net.gsantner.markor"}', encoding="utf-8")
    with SimulatedPhone() as phone:
        args = build_parser().parse_args([
            "run", "open my notes", "--platform", "mobile", "--device", phone.serial, "--adb-key", str(key),
            "--apps-file", str(apps), "--hide-keyboard", "--no-adb-keyboard",
        ])
        config = mobile_cli.config_from_args(args)
        assert (config.device, config.hide_keyboard, config.use_adb_keyboard) == (phone.serial, True, False)
        with mobile_cli.create(args) as env:
            env.launcher.launch("notes")
            assert env.observe().app == "Notes"


def test_sim_device_command_serves_adb_and_logs_every_command(sim_process: tuple[str, Path], key: Path) -> None:
    serial, log = sim_process
    host, port = serial.split(":")
    client = AdbClient(Target(host=host, port=int(port)), key=key, options=FAST)
    client.run("monkey -p net.gsantner.markor 1")
    client.run("input tap 540 320")
    assert client.run("input text 'semi;colon%sand%sspace'") == ("", 0)
    assert client.data("screencap -p").startswith(b"\x89PNG")
    client.close()
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    typed = [r for r in records if r["command"].startswith("input text")]
    assert typed[0]["command"] == "input text 'semi;colon%sand%sspace'; echo __glmv_rc=$?"
    assert typed[0]["text"] == ["semi;colon and space"]  # decoded: what the phone typed


def test_full_replayed_run_on_the_simulated_phone(sim_process: tuple[str, Path], key: Path, tmp_path: Path) -> None:
    serial, log = sim_process
    replay = tmp_path / "replay.jsonl"
    steps = [
        'Memory: None\nReason: open it\nAction: {"action_type": "open_app", "app_name": "Settings"}',
        'Memory: None\nReason: wifi\nAction: {"action_type": "click", "box_2d": [[0, 110, 1000, 140]]}',
        'Memory: None\nReason: tell\nAction: {"action_type": "answer", "text": "GLMV-Home"}',
        'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}',
    ]
    replay.write_text("".join(json.dumps({"content": s}) + "\n" for s in steps), encoding="utf-8")
    result = subprocess.run(
        [CLI, "run", "Turn on Wi-Fi and tell me the network name", "--platform", "mobile", "--device", serial,
         "--model", "glm-4.5v", "--adb-key", str(key), "--replay", str(replay), "--out", str(tmp_path / "run"),
         "--no-report"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "GLMV-Home" in result.stdout
    commands = [json.loads(line)["command"] for line in log.read_text(encoding="utf-8").splitlines()]
    assert any(c.startswith("input tap 540 300") for c in commands)


def test_unreachable_phone_is_one_error_line_without_traceback(key: Path, tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"content": "Action: {\"action_type\": \"wait\"}"}) + "\n", encoding="utf-8")
    result = subprocess.run(
        [CLI, "run", "anything", "--platform", "mobile", "--device", f"127.0.0.1:{free_port()}",
         "--adb-key", str(key), "--replay", str(replay)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 5  # a device error (docs/api.md exit codes)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "cannot connect to the phone" in lines[0] and "wireless debugging" in lines[0]


def test_unreachable_phone_stops_before_the_first_model_call(key: Path, tmp_path: Path) -> None:
    from tests.support import FakeOpenAIServer

    with FakeOpenAIServer(['<think>t</think><answer>do(action="Back")</answer>']) as server:
        result = subprocess.run(
            [CLI, "run", "anything", "--platform", "mobile", "--model", "autoglm-phone", "--device",
             f"127.0.0.1:{free_port()}", "--adb-key", str(key), "--base-url", server.base_url, "--api-key", "k",
             "--api-model", "autoglm", "--out", str(tmp_path / "run")],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: cannot connect to the phone"), result.stderr
    assert server.chat_requests == []  # no model call was made
    assert not (tmp_path / "run").exists()  # and no run was recorded


def test_sim_device_folded_with_a_cover_screen_and_slow_apps(key: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [CLI, "sim-device", "--port", str(port), "--second-display", "904x2316", "--folded", "--launch-delay", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        assert "(904x2316)" in process.stdout.readline()
        client = AdbClient(Target(host="127.0.0.1", port=port), key=key, options=FAST)
        displays = client.shell("dumpsys display | grep -E 'DisplayDeviceInfo|DisplayInfo'")
        assert displays.count("DisplayDeviceInfo{") == 2 and "state OFF" in displays and "state ON" in displays
        assert "TotalTime: 300" in client.shell("am start -W -n net.gsantner.markor/.activity.MainActivity")
        client.close()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    refused = subprocess.run([CLI, "sim-device", "--port", str(port), "--folded"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--folded needs --second-display" in refused.stderr
