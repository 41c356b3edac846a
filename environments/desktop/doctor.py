"""Desktop checks for ``glmv-agent doctor --platform desktop``: the X display and its authority, the monitors,
the pointer and keyboard (pyautogui) and the clipboard tool typing uses."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from glmv_agent.doctor.checks import Check, fail, ok, warn
from glmv_agent.errors import ConfigError

from .display import monitors_from_mss


def desktop_checks(monitor: int | None = None) -> list[Check]:
    checks = [_display()]
    if sys.platform.startswith("linux") and checks[0].status == "fail":
        return checks
    checks += [_monitors(monitor), _pointer(), _clipboard()]
    return checks


def _display() -> Check:
    if not sys.platform.startswith("linux"):
        return ok("display", f"{sys.platform}: the session's own screen")
    if not os.environ.get("DISPLAY"):
        wayland = " (a Wayland session: run the app under XWayland)" if os.environ.get("WAYLAND_DISPLAY") else ""
        return fail("display", f"DISPLAY is not set{wayland}",
                    "run inside the X11 session (or under xvfb-run for a virtual screen)")
    authority = os.environ.get("XAUTHORITY") or str(Path.home() / ".Xauthority")
    if not Path(authority).is_file():
        return warn("display", f"DISPLAY={os.environ['DISPLAY']}, no authority file at {authority}",
                    "set XAUTHORITY to the session's authority file (for Xvfb an empty file works: touch it)")
    return ok("display", f"DISPLAY={os.environ['DISPLAY']}, authority {authority}")


def _monitors(index: int | None) -> Check:
    try:
        import mss
    except ImportError:
        return fail("monitors", "mss is not installed", "pip install 'glmv-agent[desktop]'")
    try:
        with mss.mss() as grabber:
            monitors = monitors_from_mss(grabber.monitors)
    except Exception as exc:  # noqa: BLE001 - mss raises its own and Xlib errors: all mean "no screen"
        return fail("monitors", f"cannot read the screen: {exc}", "check DISPLAY and XAUTHORITY")
    listing = "; ".join(m.describe() for m in monitors)
    if index is not None and all(m.index != index for m in monitors):
        return fail("monitors", f"no monitor {index}: {listing}", "choose --monitor from `glmv-agent monitors`")
    return ok("monitors", listing or "none")


def _pointer() -> Check:
    from .environment import load_pyautogui

    try:
        pyautogui = load_pyautogui()
        width, height = pyautogui.size()
    except ConfigError as exc:
        return fail("mouse and keyboard", str(exc), "pip install 'glmv-agent[desktop]' and check the display")
    return ok("mouse and keyboard", f"pyautogui sees a {width}x{height} screen")


def _clipboard() -> Check:
    if not sys.platform.startswith("linux"):
        return ok("clipboard", "the system clipboard")
    for tool in ("xclip", "xsel"):
        if shutil.which(tool):
            return ok("clipboard", f"{tool} (typing pastes any Unicode text)")
    if shutil.which("xdotool"):
        return warn("clipboard", "no xclip or xsel; typing falls back to xdotool type",
                    "apt-get install xclip (faster and exact for long or non-Latin text)")
    return fail("clipboard", "no xclip, xsel or xdotool: text cannot be typed", "apt-get install xclip")


__all__ = ["desktop_checks"]
