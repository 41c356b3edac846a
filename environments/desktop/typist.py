"""Typing any Unicode text exactly: paste it through the clipboard, restoring the clipboard afterwards.

``pyautogui.write`` drops every non-ASCII character, so ``type(content=...)`` pastes instead, as the GLM desktop
protocol describes ("it performs a copy&paste operation"). :func:`choose_typist` picks the method for the system
in one place:

- Linux (X11): the agent owns the CLIPBOARD selection itself until the focused application has read the text
  (:mod:`.selection`), then puts the old clipboard text back with ``xclip`` or ``xsel``; without either,
  ``xdotool type``, which types exactly the characters of the keyboard layout and refuses other text.
- macOS: ``pbcopy``/``pbpaste`` + command+v.
- Windows: the clipboard through ``pyperclip`` (installed with pyautogui) + ctrl+v.

``\\r\\n`` and a lone ``\\r`` are one newline everywhere.
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

from glmv_agent.errors import ConfigError, DeviceDisconnected, StepError

from .selection import SelectionServer
from .x11 import layout_characters, open_display

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
CONFIRM_S = 1.0  # how long a written clipboard may take to serve the new text
Hotkey = Callable[[Sequence[str]], None]  # presses keys together (pyautogui.hotkey)


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` to ``\\n``: the model's Windows line ends are one newline, not two."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


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

    def write(self, text: str, confirm: bool = True) -> None:
        """Hand ``text`` to the command; with ``confirm``, wait until reading the clipboard gives it back."""
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
        if confirm:
            self._await(text)

    def _await(self, text: str) -> None:
        """Wait until the clipboard serves ``text``: xsel returns before its background process owns the selection."""
        deadline = time.monotonic() + CONFIRM_S
        while self.read() != text:
            if time.monotonic() > deadline:
                log.warning("%s did not confirm the new clipboard text within %.1f s", self.name, CONFIRM_S)
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
    """macOS and Windows: puts the text on the clipboard, presses the paste keys, waits ``settle_s`` (these systems
    do not say when an application has read the clipboard), then puts the old clipboard text back."""

    def __init__(self, clipboard: Clipboard, paste_keys: tuple[str, ...], settle_s: float = 0.3) -> None:
        self.clipboard = clipboard
        self.paste_keys = paste_keys
        self.settle_s = settle_s
        self.name = f"clipboard paste ({clipboard.name} + {'+'.join(paste_keys)})"

    def type(self, text: str, hotkey: Hotkey) -> None:
        previous = self.clipboard.read()
        self.clipboard.write(normalise_newlines(text))
        try:
            hotkey(self.paste_keys)
            time.sleep(self.settle_s)  # the application fetches the clipboard after it handles the key press
        finally:
            # Put back what was there; an empty clipboard stays empty so typed text (maybe secret) does not linger.
            self.clipboard.write(previous if previous is not None else "")


class X11PasteTypist:
    """X11: serves the text on CLIPBOARD ourselves until the focused application has read it, then restores.

    ``clipboard`` (xclip or xsel) reads the old text first and serves it again afterwards; it keeps serving after
    the agent exits. A clipboard that held no text is left empty. StepError when nothing reads the text within
    ``timeout_s`` (the paste keys reached no text field).
    """

    paste_keys = ("ctrl", "v")

    def __init__(self, clipboard: CommandClipboard, timeout_s: float = TIMEOUT_S) -> None:
        self.clipboard = clipboard
        self.timeout_s = timeout_s
        self.name = f"clipboard paste ({clipboard.name} + ctrl+v)"

    def type(self, text: str, hotkey: Hotkey) -> None:
        previous = self.clipboard.read()
        with SelectionServer() as server:
            server.own(normalise_newlines(text))
            try:
                hotkey(self.paste_keys)
                server.wait_until_read(self.timeout_s)
            finally:
                self._restore(previous, server)

    def _restore(self, previous: str | None, server: SelectionServer) -> None:
        """Serve the old text again through xclip/xsel (no text before: closing our connection empties it)."""
        if previous is None or server.taken:  # taken: the new owner serves the paste; do not race it
            return
        try:
            self.clipboard.write(previous, confirm=False)
        except StepError as exc:
            log.warning("could not put the old clipboard text back: %s", exc)
            return
        if not server.wait_until_taken(self.timeout_s):
            log.warning("%s did not take the clipboard back; the old clipboard text is lost", self.clipboard.name)


class XdotoolTypist:
    """``xdotool type``: key events for X11 without a clipboard tool. Exact for the characters of the keyboard
    layout (newline and tab are pressed as Return and Tab); other text is refused with a StepError, because xdotool
    types those by remapping a spare key per character and drops some of them (359 of 5,000 under load)."""

    name = "xdotool type"

    def __init__(self, delay_ms: int = 2) -> None:
        self.delay_ms = delay_ms

    def type(self, text: str, hotkey: Hotkey) -> None:
        text = normalise_newlines(text)
        self._refuse_off_layout(text)
        command = ["xdotool", "type", "--delay", str(self.delay_ms), "--", text]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S + len(text) * 0.05, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StepError(f"xdotool type failed: {exc}") from None
        if done.returncode != 0:
            raise StepError(f"xdotool type failed: {done.stderr.decode(errors='replace').strip()}")

    @staticmethod
    def _refuse_off_layout(text: str) -> None:
        try:
            display = open_display()
        except ConfigError as exc:  # it was reachable when the environment started: the server went away
            raise DeviceDisconnected(f"display disconnected: {exc}") from None
        try:
            typeable = layout_characters(display)
        finally:
            display.close()
        missing = sorted({char for char in text if char not in typeable})
        if missing:
            shown = "".join(missing[:10]) + ("..." if len(missing) > 10 else "")
            raise StepError(
                f"cannot type {shown!r} exactly: not on the keyboard layout, and xdotool drops such characters; "
                "install xclip (or xsel) to type any text"
            )


Typist = PasteTypist | X11PasteTypist | XdotoolTypist


def choose_typist(
    system: str = sys.platform, which: Callable[[str], str | None] = shutil.which, settle_s: float = 0.3
) -> Typist:
    """The typing method for ``system`` (sys.platform value); ConfigError when the system has none.

    ``settle_s`` is the wait after the paste keys on macOS and Windows, which cannot tell when the text was read.
    """
    if system == "darwin":
        utf8 = {"LANG": "en_US.UTF-8", "LC_CTYPE": "UTF-8"}  # pbcopy reads stdin in the locale's encoding
        clip = CommandClipboard("pbcopy", ["pbpaste"], ["pbcopy"], env=utf8)
        return PasteTypist(clip, ("command", "v"), settle_s)
    if system == "win32":
        return PasteTypist(PyperclipClipboard(), ("ctrl", "v"), settle_s)
    if which("xclip"):
        return X11PasteTypist(CommandClipboard(
            "xclip", ["xclip", "-selection", "clipboard", "-out", "-target", "UTF8_STRING"],
            ["xclip", "-selection", "clipboard", "-in"],
        ))
    if which("xsel"):
        return X11PasteTypist(
            CommandClipboard("xsel", ["xsel", "--clipboard", "--output"], ["xsel", "--clipboard", "--input"])
        )
    if which("xdotool"):
        return XdotoolTypist()
    raise ConfigError("typing text needs xclip, xsel or xdotool on Linux: install one (apt-get install xclip)")


__all__ = [
    "CommandClipboard", "PasteTypist", "PyperclipClipboard", "X11PasteTypist", "XdotoolTypist", "choose_typist",
    "normalise_newlines",
]
