"""Phone checks for ``glmv-agent doctor --platform mobile`` and the device list of ``glmv-agent devices``.

Each check reads what the phone says through the same commands the agent uses (getprop, wm size, ime list,
dumpsys); output a phone does not give (an old Android, the simulated phone) makes a ``warn``, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from glmv_agent.doctor.checks import Check, fail, ok, warn
from glmv_agent.errors import GlmvError

from . import adb_server
from .connection import AdbClient, parse_target
from .text_input import ADB_IME

Shell = Callable[[str], str]
INSTALL_KEYBOARD = ("install ADB Keyboard (ADBKeyboard.apk from github.com/senzhk/ADBKeyBoard: `adb install "
                    "ADBKeyboard.apk`); glmv-agent switches to it while typing. Without it only ASCII text can be "
                    "typed")


class DeviceInfo(BaseModel):
    """One phone as ``glmv-agent devices`` lists it (None: the phone did not say)."""

    serial: str
    state: str
    source: str  # "adb server" or "--device"
    model: str | None = None
    android: str | None = None
    size: str | None = None
    displays: int | None = None

    def line(self) -> str:
        parts = [self.serial, self.state, f"model {self.model or '?'}", f"Android {self.android or '?'}",
                 f"screen {self.size or '?'}", f"displays {self.displays if self.displays is not None else '?'}"]
        return "  ".join(parts) + f"  (via {self.source})"


def _screen_size(output: str) -> str | None:
    sizes = dict(re.findall(r"(Physical|Override) size:\s*(\d+x\d+)", output))
    return sizes.get("Override") or sizes.get("Physical")


def _displays(output: str) -> int | None:
    found = re.findall(r"^Display \d+", output, re.MULTILINE)
    return len(found) or None


def describe(shell: Shell, serial: str, state: str, source: str) -> DeviceInfo:
    """Model, Android version, screen size and number of displays of a connected phone."""
    info = DeviceInfo(serial=serial, state=state, source=source)
    if state != "device":
        return info
    info.model = shell("getprop ro.product.model").strip() or None
    info.android = shell("getprop ro.build.version.release").strip() or None
    info.size = _screen_size(shell("wm size"))
    info.displays = _displays(shell("dumpsys SurfaceFlinger --display-id"))
    return info


def list_devices(devices: list[str], adb_key: Path | None = None) -> tuple[list[DeviceInfo], list[str]]:
    """The adb server's devices and each of ``devices`` (HOST:PORT, connected directly); and notes to print."""
    found: list[DeviceInfo] = []
    notes: list[str] = []
    listed = adb_server.list_devices()
    if listed is None:
        notes.append(f"no adb server on port {adb_server.server_port()} (USB phones show up when `adb` runs; "
                     "name network phones with --device HOST:PORT)")
    for item in listed or []:
        found.append(describe(lambda cmd, s=item.serial: adb_server.shell(s, cmd), item.serial, item.state,
                              "adb server"))
    for device in devices:
        try:
            client = AdbClient(parse_target(device), key=adb_key)
        except GlmvError as exc:
            found.append(DeviceInfo(serial=device, state="unreachable", source="--device"))
            notes.append(f"{device}: {exc}")
            continue
        try:
            found.append(describe(client.shell, client.target.describe(), "device", "--device"))
        finally:
            client.close()
    return found, notes


def mobile_checks(device: str | None, adb_key: Path | None = None) -> list[Check]:
    """adb reachable and authorised, ADB Keyboard, screen on and unlocked, screen size and displays."""
    target = parse_target(device)
    try:
        client = AdbClient(target, key=adb_key)
    except GlmvError as exc:
        return [fail("adb connection", f"{target.describe()}: {exc}",
                     "see docs/mobile.md (wireless debugging: `adb tcpip 5555`, then --device PHONE_IP:5555)")]
    try:
        model = client.shell("getprop ro.product.model").strip() or "unknown model"
        android = client.shell("getprop ro.build.version.release").strip() or "?"
        checks = [ok("adb connection", f"{target.describe()} authorised: {model}, Android {android}")]
        checks += [_keyboard(client.shell), _awake(client.shell), _unlocked(client.shell), _screen(client.shell)]
    finally:
        client.close()
    return checks


def _keyboard(shell: Shell) -> Check:
    name = "ADB Keyboard"
    if ADB_IME not in shell("ime list -a -s").split():
        return warn(name, "not installed", INSTALL_KEYBOARD)
    if ADB_IME in shell("ime list -s").split():
        return ok(name, "installed and enabled")
    return ok(name, "installed; glmv-agent enables it when it types (or: adb shell ime enable "
                    f"{ADB_IME})")


def _awake(shell: Shell) -> Check:
    output = shell("dumpsys power")
    match = re.search(r"mWakefulness=(\w+)", output)
    if match is None:
        return warn("screen on", "the phone did not say (no mWakefulness in dumpsys power)",
                    "make sure the screen is on before a run")
    if match.group(1) == "Awake":
        return ok("screen on", "awake")
    return fail("screen on", f"the screen is off ({match.group(1)})",
                "press the power button or run: adb shell input keyevent KEYCODE_WAKEUP")


def _unlocked(shell: Shell) -> Check:
    output = shell("dumpsys window policy") + shell("dumpsys window")
    match = re.search(r"(?:mShowingLockscreen|mDreamingLockscreen|isKeyguardShowing|showing)=(true|false)", output)
    if match is None:
        return warn("unlocked", "the phone did not say whether it is locked", "unlock the phone before a run")
    if match.group(1) == "false":
        return ok("unlocked", "no lock screen showing")
    return fail("unlocked", "the lock screen is showing", "unlock the phone (swipe up and enter the PIN)")


def _screen(shell: Shell) -> Check:
    size = _screen_size(shell("wm size"))
    displays = _displays(shell("dumpsys SurfaceFlinger --display-id"))
    if size is None:
        return fail("screen", "`wm size` gave no size", "check that the phone is fully booted")
    if displays is None:
        return ok("screen", f"{size} (the number of displays is not reported)")
    extra = "; the agent sees the default display" if displays > 1 else ""
    return ok("screen", f"{size}, {displays} display{'s' if displays > 1 else ''}{extra}")


__all__ = ["DeviceInfo", "describe", "list_devices", "mobile_checks"]
