"""`glmv-agent doctor` and `glmv-agent devices` against the simulated phone (with and without ADB Keyboard), an
unreachable phone, the fake model endpoint, real adb's server, Chromium, and a desktop without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("adb_shell")
from test_mobile_support import ADB, RealAdb, free_port  # noqa: E402

from glmv_agent.environments.android.sim.device import SimulatedPhone  # noqa: E402
from tests.support import FakeOpenAIServer  # noqa: E402

CLI = [sys.executable, "-m", "glmv_agent.cli"]


def cli(*args: str, env: dict[str, str] | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GLMV_", "OPENAI_", "ANDROID_"))}
    base.update({"HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(free_port()), **(env or {})})
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=base,
                          stdin=subprocess.DEVNULL)


def lines(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """check name -> its status word, from the report."""
    found = {}
    for line in done.stdout.splitlines():
        status, _, rest = line.partition("  ")
        if status.strip() in ("ok", "warn", "fail"):
            found[rest.strip().split(":")[0]] = status.strip()
    return found


@pytest.mark.parametrize("keyboard", [False, True])
def test_doctor_on_the_simulated_phone(tmp_path: Path, keyboard: bool) -> None:
    with SimulatedPhone(port=0, adb_keyboard=keyboard) as phone, FakeOpenAIServer(models=("glm-4.5v",)) as server:
        done = cli("doctor", "--platform", "mobile", "--device", phone.serial, "--base-url", server.base_url,
                   "--api-model", "glm-4.5v", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = lines(done)
    assert checks["adb connection"] == "ok" and "GLMV_Simulated_Phone, Android 14" in done.stdout
    assert checks["screen"] == "ok" and "1080x2400" in done.stdout
    assert checks["model endpoint"] == "ok" and f"{server.base_url} serves glm-4.5v" in done.stdout
    if keyboard:
        assert checks["ADB Keyboard"] == "ok" and "enables it when it types" in done.stdout
    else:
        assert checks["ADB Keyboard"] == "warn" and "fix: install ADB Keyboard" in done.stdout
    assert checks["screen on"] == "ok" and checks["unlocked"] == "ok"


def test_doctor_fails_on_a_phone_whose_screen_is_off(tmp_path: Path) -> None:
    with SimulatedPhone(port=0) as phone, FakeOpenAIServer(models=("glm-4.5v",)) as server:
        phone.state.screen_on = False
        done = cli("doctor", "--platform", "mobile", "--device", phone.serial, "--base-url", server.base_url,
                   "--api-model", "glm-4.5v", home=tmp_path)
    assert lines(done)["screen on"] == "fail" and "KEYCODE_WAKEUP" in done.stdout
    assert done.returncode != 0


def test_doctor_fails_on_an_unreachable_phone_and_a_wrong_model(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=("other",)) as server:
        done = cli("doctor", "--platform", "mobile", "--device", f"127.0.0.1:{free_port()}", "--base-url",
                   server.base_url, "--api-model", "glm-4.5v", home=tmp_path)
    assert done.returncode == 1
    checks = lines(done)
    assert checks["adb connection"] == "fail" and "cannot connect to the phone" in done.stdout
    assert checks["model endpoint"] == "fail" and "serves other, not glm-4.5v" in done.stdout
    assert done.stdout.strip().endswith("2 checks: 2 failed, 0 warnings")


def test_devices_lists_a_phone_given_directly(tmp_path: Path) -> None:
    with SimulatedPhone(port=0, size=(720, 1600)) as phone:
        done = cli("devices", "--device", phone.serial, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (f"{phone.serial}  device  model GLMV_Simulated_Phone  Android 14  screen 720x1600  displays 1  "
            "(via --device)") in done.stdout
    assert "note: no adb server" in done.stdout


@pytest.mark.adb
@pytest.mark.skipif(ADB is None, reason="Debian's adb client is not installed")
def test_devices_lists_what_the_adb_server_knows(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    adb = RealAdb(tmp_path / "home")
    try:
        with SimulatedPhone(port=free_port()) as phone:
            assert b"connected" in adb("connect", phone.serial).stdout
            done = cli("devices", home=tmp_path / "home", env={"ANDROID_ADB_SERVER_PORT":
                                                                adb.env["ANDROID_ADB_SERVER_PORT"]})
    finally:
        adb.close()
    assert done.returncode == 0, done.stderr
    assert f"{phone.serial}  device  model GLMV_Simulated_Phone  Android 14  screen 1080x2400" in done.stdout
    assert "(via adb server)" in done.stdout


def test_doctor_web_finds_and_starts_chromium(tmp_path: Path) -> None:
    from glmv_agent.environments.web.options import SYSTEM_BROWSERS

    if not any(Path(p).is_file() for p in SYSTEM_BROWSERS):
        pytest.skip("needs a system Chromium")
    done = cli("doctor", "--platform", "web", "--replay", str(tmp_path), home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines(done) == {"Chromium": "ok", "Chromium starts": "ok", "model endpoint": "ok"}
    bad = cli("doctor", "--platform", "web", "--browser-executable", "/nope/chrome", "--replay", str(tmp_path),
              home=tmp_path)
    assert bad.returncode == 1 and "fail  Chromium: not found" in bad.stdout


def test_doctor_desktop_without_a_display_fails_with_the_fix(tmp_path: Path) -> None:
    done = cli("doctor", "--platform", "desktop", "--replay", str(tmp_path), home=tmp_path, env={"DISPLAY": ""})
    assert done.returncode == 1
    assert "fail  display: DISPLAY is not set" in done.stdout and "xvfb-run" in done.stdout
