"""Typing any Unicode text: paste it through the clipboard, restoring the clipboard afterwards.

``pyautogui.write`` drops every non-ASCII character, so ``type(content=...)`` pastes instead, as the GLM desktop
protocol describes ("it performs a copy&paste operation"). :func:`choose_typist` picks the method for the system
in one place:

- Linux (X11): ``xclip`` or ``xsel`` on the CLIPBOARD selection + ctrl+v; without either, ``xdotool type``.
- macOS: ``pbcopy``/``pbpaste`` + command+v.
- Windows: the clipboard through ``pyperclip`` (installed with pyautogui) + ctrl+v.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from glmv_agent.errors import ConfigError, StepError

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
CONFIRM_S = 1.0  # how long a written clipboard may take to serve the new text
Hotkey = Callable[[Sequence[str]], None]  # presses keys together (pyautogui.hotkey)


class Clipboard(Protocol):
    name: str

    def read(self) -> str | None: ...

    def write(self, text: str) -> None: ...


class CommandClipboard:
    """A clipboard behind two commands (xclip, xsel, pbcopy/pbpaste), text passed through stdin/stdout."""

    def __init__(self, name: str, read_cmd: list[str], write_cmd: list[str], env: dict[str, str] | None = None):
        self.name = name
        self.read_cmd = read_cmd
        self.write_cmd = write_cmd
        self.env = {**os.environ, **(env or {})}

    def read(self) -> str | None:
        """The clipboard's text, or None when it holds none (empty, or not text)."""
        try:
            done = subprocess.run(self.read_cmd, capture_output=True, timeout=TIMEOUT_S, env=self.env, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.debug("reading the clipboard with %s failed: %s", self.name, exc)
            return None
        if done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", errors="replace")

    def write(self, text: str) -> None:
        # xclip and xsel fork a process that keeps serving the selection: give it no pipe to hold open.
        try:
            done = subprocess.run(
                self.write_cmd, input=text.encode("utf-8"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=TIMEOUT_S, env=self.env, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StepError(f"could not put the text on the clipboard with {self.name}: {exc}") from None
        if done.returncode != 0:
            raise StepError(f"could not put the text on the clipboard ({self.name} exited with {done.returncode})")
        self._await(text)

    def _await(self, text: str) -> None:
        """Wait until the clipboard serves ``text``: xsel returns before its background process owns the selection."""
        deadline = time.monotonic() + CONFIRM_S
        while self.read() != text:
            if time.monotonic() > deadline:
                log.warning("%s did not confirm the new clipboard text within %.1f s; pasting anyway", self.name,
                            CONFIRM_S)
                return
            time.sleep(0.005)


class PyperclipClipboard:
    """The Windows clipboard through pyperclip (CF_UNICODETEXT via ctypes)."""

    name = "pyperclip"

    def read(self) -> str | None:
        import pyperclip

        try:
            return pyperclip.paste()
        except pyperclip.PyperclipException:
            return None

    def write(self, text: str) -> None:
        import pyperclip

        try:
            pyperclip.copy(text)
        except pyperclip.PyperclipException as exc:
            raise StepError(f"could not put the text on the clipboard: {exc}") from None


class PasteTypist:
    """Puts the text on the clipboard, presses the paste keys, then puts the old clipboard text back."""

    def __init__(self, clipboard: Clipboard, paste_keys: tuple[str, ...], settle_s: float = 0.3) -> None:
        self.clipboard = clipboard
        self.paste_keys = paste_keys
        self.settle_s = settle_s
        self.name = f"clipboard paste ({clipboard.name} + {'+'.join(paste_keys)})"

    def type(self, text: str, hotkey: Hotkey) -> None:
        previous = self.clipboard.read()
        self.clipboard.write(text)
        try:
            hotkey(self.paste_keys)
            time.sleep(self.settle_s)  # the application fetches the clipboard after it handles the key press
        finally:
            # Put back what was there; an empty clipboard stays empty so typed text (maybe secret) does not linger.
            self.clipboard.write(previous if previous is not None else "")


class XdotoolTypist:
    """``xdotool type``: sends each character as a key event (any Unicode), for X11 without a clipboard tool."""

    name = "xdotool type"

    def __init__(self, delay_ms: int = 2) -> None:
        self.delay_ms = delay_ms

    def type(self, text: str, hotkey: Hotkey) -> None:
        command = ["xdotool", "type", "--delay", str(self.delay_ms), "--", text]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S + len(text) * 0.05, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StepError(f"xdotool type failed: {exc}") from None
        if done.returncode != 0:
            raise StepError(f"xdotool type failed: {done.stderr.decode(errors='replace').strip()}")


Typist = PasteTypist | XdotoolTypist


def choose_typist(
    system: str = sys.platform, which: Callable[[str], str | None] = shutil.which, settle_s: float = 0.3
) -> Typist:
    """The typing method for ``system`` (sys.platform value); ConfigError when the system has none."""
    if system == "darwin":
        utf8 = {"LANG": "en_US.UTF-8", "LC_CTYPE": "UTF-8"}  # pbcopy reads stdin in the locale's encoding
        clip = CommandClipboard("pbcopy", ["pbpaste"], ["pbcopy"], env=utf8)
        return PasteTypist(clip, ("command", "v"), settle_s)
    if system == "win32":
        return PasteTypist(PyperclipClipboard(), ("ctrl", "v"), settle_s)
    if which("xclip"):
        clip = CommandClipboard(
            "xclip", ["xclip", "-selection", "clipboard", "-out", "-target", "UTF8_STRING"],
            ["xclip", "-selection", "clipboard", "-in"],
        )
        return PasteTypist(clip, ("ctrl", "v"), settle_s)
    if which("xsel"):
        clip = CommandClipboard("xsel", ["xsel", "--clipboard", "--output"], ["xsel", "--clipboard", "--input"])
        return PasteTypist(clip, ("ctrl", "v"), settle_s)
    if which("xdotool"):
        return XdotoolTypist()
    raise ConfigError("typing text needs xclip, xsel or xdotool on Linux: install one (apt-get install xclip)")


__all__ = ["CommandClipboard", "PasteTypist", "PyperclipClipboard", "XdotoolTypist", "choose_typist"]
