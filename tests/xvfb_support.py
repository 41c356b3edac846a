"""Real X servers for the desktop tests: Xvfb, RandR monitors, pyautogui bound to the server, the Tk test window.

pyautogui connects to ``$DISPLAY`` once, when imported. Tests use one Xvfb per screen size, so
:func:`bind_pyautogui` points an already imported pyautogui at the current server (test-only rebinding).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).parent / "desktop_app" / "app.py"
Event = dict[str, Any]
# Sends the test window's sync message (argv[1]: its frame window id) and waits until the X server has taken it.
SEND_SYNC = """
import sys
from Xlib import X, display
from Xlib.protocol import event
screen = display.Display()
frame = screen.create_resource_object("window", int(sys.argv[1]))
data = (32, [screen.intern_atom("GLMV_SYNC"), X.CurrentTime, 0, 0, 0])
frame.send_event(event.ClientMessage(window=frame, client_type=screen.intern_atom("WM_PROTOCOLS"), data=data))
screen.sync()
"""


def require_binaries(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool x11-xserver-utils xclip)")


@dataclass
class XServer:
    display: str
    width: int
    height: int
    process: subprocess.Popen[bytes]
    auth: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, "XAUTHORITY": str(self.auth)}

    def run(self, *command: str) -> str:
        done = subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=20, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return done.stdout

    def pointer(self) -> tuple[int, int]:
        out = self.run("xdotool", "getmouselocation", "--shell")
        values = dict(line.split("=", 1) for line in out.split())
        return int(values["X"]), int(values["Y"])

    def move_pointer(self, x: int, y: int) -> None:
        """Move the pointer as a person would (xdotool; ``--sync`` would hang when it is already there)."""
        self.run("xdotool", "mousemove", str(x), str(y))
        deadline = time.monotonic() + 5
        while self.pointer() != (x, y):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pointer did not reach {(x, y)}")
            time.sleep(0.01)

    def set_monitors(self, monitors: list[tuple[int, int, int, int]]) -> None:
        """Split the screen into RandR monitors (width, height, left, top); the first is primary.

        Xvfb keeps them only with ``-noreset`` (a server reset drops them when the last client leaves).
        """
        for index, (width, height, left, top) in enumerate(monitors):
            name, output = (f"*M{index}", "screen") if index == 0 else (f"M{index}", "none")
            mm = f"{width}/{max(1, width * 254 // 960)}x{height}/{max(1, height * 254 // 960)}"
            self.run("xrandr", "--setmonitor", name, f"{mm}+{left}+{top}", output)


def _start_xvfb(width: int, height: int, workdir: Path, cookie: str | None = None) -> XServer:
    """An Xvfb on a free display number; with ``cookie``, it admits only clients presenting that
    MIT-MAGIC-COOKIE-1 (the server takes every cookie in its -auth file, whatever display the entry names)."""
    auth = workdir / "Xauthority"
    auth.touch()
    if cookie:
        _xauth_add(auth, ":0", cookie)
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-noreset", "-auth", str(auth)],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=(workdir / "xvfb.log").open("wb"),
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 20
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        process.kill()
        raise RuntimeError(f"Xvfb did not start: {(workdir / 'xvfb.log').read_text(errors='replace')}")
    if cookie:  # for our own clients (server.env()), an entry for the display it got
        _xauth_add(auth, f":{int(number)}", cookie)
    return XServer(f":{int(number)}", width, height, process, auth)


def _xauth_add(auth: Path, display: str, cookie: str) -> None:
    """Append an Xauthority entry (what ``xauth add`` writes): FamilyWild, any host, this display number."""

    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    number = display.lstrip(":").encode()
    entry = struct.pack(">H", 0xFFFF) + field(b"") + field(number) + field(b"MIT-MAGIC-COOKIE-1")
    with auth.open("ab") as out:
        out.write(entry + field(bytes.fromhex(cookie)))


def bind_pyautogui(server: XServer) -> Any:
    """Import pyautogui for this server, or point the already imported one at it; PAUSE=0 for fast tests."""
    if "pyautogui" not in sys.modules:
        import pyautogui
    else:
        import pyautogui
        from Xlib.display import Display

        x11 = pyautogui.platformModule
        old = x11._display
        x11._display = Display(server.display)
        with contextlib.suppress(Exception):  # its server may be gone already
            old.close()
    pyautogui.PAUSE = 0
    return pyautogui


@contextmanager
def xvfb_server(
    width: int, height: int, workdir: Path, monitors: list[tuple[int, int, int, int]] | None = None,
    cookie: str | None = None,
) -> Iterator[XServer]:
    """An Xvfb of this size (optionally split into RandR monitors, optionally requiring an authority ``cookie``),
    for subprocesses: this process is untouched."""
    require_binaries("Xvfb", "xdotool", "xrandr")
    server = _start_xvfb(width, height, workdir, cookie)
    try:
        if monitors:
            server.set_monitors(monitors)
        yield server
    finally:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@contextmanager
def running_xvfb(
    width: int, height: int, workdir: Path, monitors: list[tuple[int, int, int, int]] | None = None
) -> Iterator[XServer]:
    """An Xvfb of this size, with DISPLAY/XAUTHORITY set in this process and pyautogui bound to it."""
    with xvfb_server(width, height, workdir, monitors) as server:
        saved = {key: os.environ.get(key) for key in ("DISPLAY", "XAUTHORITY")}
        os.environ.update(DISPLAY=server.display, XAUTHORITY=str(server.auth))
        try:
            bind_pyautogui(server)
            yield server
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@dataclass
class TkWindow:
    """The Tk test window process on ``server`` and its JSON-lines event log."""

    process: subprocess.Popen[bytes]
    log: Path
    server: XServer
    widgets: dict[str, list[int]] = field(default_factory=dict)
    frame: int = 0  # the X window that takes the sync message
    seen: int = 0  # events already consumed by take()

    def events(self) -> list[Event]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 20.0) -> list[Event]:
        """Events after the last take(), once ``predicate`` holds for them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            fresh = self.events()[self.seen :]
            if predicate(fresh):
                return fresh
            if time.monotonic() > deadline:
                raise AssertionError(f"the test window did not see the expected events; it saw {fresh}")
            time.sleep(0.02)

    def take(self, predicate: Callable[[list[Event]], bool], timeout: float = 20.0) -> list[Event]:
        """Like wait_for, then marks these events as consumed."""
        fresh = self.wait_for(predicate, timeout)
        self.seen += len(fresh)
        return fresh

    def settle(self, timeout: float = 20.0) -> list[Event]:
        """Consume every event of the input sent so far: a sync message goes to the window after it (the X server
        delivers it behind that input), and the events logged before the window logs it are returned."""
        self.server.run(sys.executable, "-c", SEND_SYNC, str(self.frame))
        fresh = self.wait_for(lambda events: any(e["event"] == "sync" for e in events), timeout)
        end = next(i for i, e in enumerate(fresh) if e["event"] == "sync")  # only ours: each settle consumes its own
        self.seen += end + 1
        return fresh[:end]

    def center(self, name: str) -> tuple[int, int]:
        x, y, width, height = self.widgets[name]
        return x + width // 2, y + height // 2

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_window(server: XServer, log: Path, *args: str) -> TkWindow:
    """Start the Tk window on ``server`` and wait for its layout."""
    process = subprocess.Popen(
        [sys.executable, str(APP), "--log", str(log), *args], env=server.env(),
        stdout=subprocess.DEVNULL, stderr=(log.parent / f"{log.stem}.stderr").open("wb"),
    )
    window = TkWindow(process, log, server)
    try:
        ready = window.take(lambda events: any(e["event"] == "ready" for e in events), timeout=20)
    except AssertionError:
        window.close()
        raise
    layout = next(e for e in ready if e["event"] == "ready")
    window.widgets, window.frame = layout["widgets"], layout["frame"]
    return window


def server_fixture(width: int, height: int) -> Any:
    """A module-scoped ``server`` fixture: one Xvfb of this size per test module, bound as :func:`running_xvfb`."""

    @pytest.fixture(scope="module", name="server")
    def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XServer]:
        with running_xvfb(width, height, tmp_path_factory.mktemp("xvfb")) as xserver:
            yield xserver

    return server


def window_fixture(pointer: tuple[int, int]) -> Any:
    """A ``window`` fixture: a fresh Tk test window on ``server`` per test, the pointer parked at ``pointer`` first
    (away from the widgets and the fail-safe corners)."""

    @pytest.fixture(name="window")
    def window(server: XServer, tmp_path: Path) -> Iterator[TkWindow]:
        server.move_pointer(*pointer)
        tk = start_window(server, tmp_path / "events.jsonl")
        yield tk
        tk.close()

    return window
