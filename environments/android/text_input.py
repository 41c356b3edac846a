"""Touch, keys and text over ADB, with every argument quoted for the phone's ``sh -c``.

Text takes one of two paths (adb-text-input.md):
- ADB Keyboard (when installed and allowed): enable it and make it the current IME, clear and type through the
  ``ADB_CLEAR_TEXT`` / ``ADB_INPUT_B64`` broadcasts (base64 of UTF-8: any Unicode, nothing for the shell to
  misread), then give the person's IME back.
- ``input text`` otherwise, ASCII only: the argument is shell-quoted once; spaces become ``%s`` (the only escape
  `input text` knows, and safe from old devices that re-split arguments); a literal ``%s`` in the text is split
  across two calls (``...%`` then ``s...``) because one call would turn it into a space; newlines and tabs are
  key events. A character the virtual key map cannot produce makes Android type nothing at all, so such text
  needs ADB Keyboard and raises StepError without it.
"""

from __future__ import annotations

import base64
import logging
import shlex
import time
from collections.abc import Callable

from glmv_agent.errors import StepError

from .connection import AdbClient

log = logging.getLogger(__name__)
ADB_IME = "com.android.adbkeyboard/.AdbIME"
ADB_KEYBOARD_PACKAGE = "com.android.adbkeyboard"
KEY_BACK, KEY_HOME, KEY_TAB, KEY_ENTER, KEY_DEL, KEY_MOVE_END = 4, 3, 61, 66, 67, 123
CHUNK = 80  # characters per `input text` call: long strings can arrive out of order on some devices
CLEAR_DELETES = 120  # DEL presses of the fallback clear on devices without `input keycombination`


def is_ascii_typable(text: str) -> bool:
    return all(" " <= c <= "~" or c in "\n\t\r" for c in text)


def _pieces(segment: str) -> list[str]:
    """Split a newline/tab-free segment so no call holds a literal '%' directly before a literal 's'."""
    pieces, start = [], 0
    for index in range(1, len(segment)):
        if (segment[index - 1] == "%" and segment[index] == "s") or index - start >= CHUNK:
            pieces.append(segment[start:index])
            start = index
    pieces.append(segment[start:])
    return [p for p in pieces if p]


def ascii_commands(text: str) -> list[str]:
    """Shell commands that type ``text`` (printable ASCII, newline, tab) with `input text` and key events."""
    commands: list[str] = []
    buffer = ""
    for char in text.replace("\r\n", "\n").replace("\r", "\n") + "\0":
        if char in "\n\t\0":
            for piece in _pieces(buffer):
                commands.append("input text " + shlex.quote(piece.replace(" ", "%s")))
            buffer = ""
            if char != "\0":
                commands.append(f"input keyevent {KEY_ENTER if char == chr(10) else KEY_TAB}")
        else:
            buffer += char
    return commands


def broadcast(action: str, *extras: str) -> str:
    return " ".join(["am broadcast -a", shlex.quote(action), "-p", ADB_KEYBOARD_PACKAGE, *extras])


class Input:
    """Gestures, keys and text on one connected phone."""

    def __init__(self, client: AdbClient, *, use_adb_keyboard: bool = True, ime_switch_delay_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.use_adb_keyboard = use_adb_keyboard
        self.ime_switch_delay_s = ime_switch_delay_s
        self.sleep = sleep
        self.touch = "input"  # `input -d N` for touches on another logical display than the default one
        self._ime_installed: bool | None = None

    # --- gestures and keys ----------------------------------------------------------------------------------
    def _act(self, commands: list[str], what: str) -> None:
        output, code = self.client.run(" && ".join(commands), safe=False)
        if code != 0:
            raise StepError(f"{what} failed on the phone (exit {code}): {output.strip()[:200]}")

    def tap(self, x: int, y: int) -> None:
        self._act([f"{self.touch} tap {int(x)} {int(y)}"], "tap")

    def double_tap(self, x: int, y: int, interval_s: float) -> None:
        """Two taps ``interval_s`` apart (two commands: one `input` call cannot pause between taps)."""
        self.tap(x, y)
        self.sleep(interval_s)
        self._act([f"{self.touch} tap {int(x)} {int(y)}"], "double tap (second tap)")

    def swipe(self, start: tuple[int, int], end: tuple[int, int], duration_ms: int) -> None:
        (x1, y1), (x2, y2) = start, end
        self._act([f"{self.touch} swipe {int(x1)} {int(y1)} {int(x2)} {int(y2)} {int(duration_ms)}"], "swipe")

    def long_press(self, x: int, y: int, duration_ms: int) -> None:
        self.swipe((x, y), (x, y), duration_ms)

    def key(self, *codes: int) -> None:
        self._act([f"input keyevent {int(code)}" for code in codes], "key press")

    # --- keyboard state -------------------------------------------------------------------------------------
    def keyboard_shown(self) -> bool:
        output = self.client.shell("dumpsys input_method | grep -E 'mInputShown|mIsInputViewShown'")
        view = [line for line in output.splitlines() if "mIsInputViewShown" in line]
        lines = view or [line for line in output.splitlines() if "mInputShown" in line]
        return any("=true" in line for line in lines)

    def hide_keyboard(self) -> bool:
        """Close the soft keyboard with BACK when it is showing (BACK would navigate otherwise)."""
        if not self.keyboard_shown():
            return False
        try:
            self._act([f"input keyevent {KEY_BACK}"], "closing the keyboard")
        except StepError as exc:  # observing must go on; the model can still close it with Back
            log.warning("could not close the soft keyboard: %s", exc)
            return False
        return True

    def ime_installed(self) -> bool:
        if self._ime_installed is None:
            output = self.client.shell("ime list -a -s")
            self._ime_installed = ADB_IME in output.split()
        return self._ime_installed

    # --- text -----------------------------------------------------------------------------------------------
    def type_text(self, text: str, *, clear: bool) -> str:
        """Type ``text`` into the focused field (after clearing it when ``clear``); returns how it was typed."""
        if self.use_adb_keyboard and self.ime_installed():
            self._type_ime(text, clear)
            return "ADB Keyboard"
        if not is_ascii_typable(text):
            sample = next(c for c in text if not is_ascii_typable(c))
            why = ("use of ADB Keyboard is switched off (--no-adb-keyboard)" if not self.use_adb_keyboard
                   else "ADB Keyboard is not installed on the phone")
            raise StepError(
                f"cannot type {sample!r}: text beyond plain ASCII needs ADB Keyboard and {why}; install and allow "
                f"it (see docs/mobile.md) or type ASCII text only"
            )
        if clear:
            self._clear_ascii()
        commands = ascii_commands(text)
        if commands:
            self._act(commands, "typing")
        return "input text"

    def _clear_ascii(self) -> None:
        output, code = self.client.run("input keycombination 113 29 && input keyevent 67", safe=False)
        if code == 0 and "rror" not in output and "nknown" not in output:
            return
        log.info("`input keycombination` is missing on this phone; clearing with MOVE_END and DEL presses")
        self._act([f"input keyevent {KEY_MOVE_END} " + " ".join([str(KEY_DEL)] * CLEAR_DELETES)], "clearing")

    def _type_ime(self, text: str, clear: bool) -> None:
        previous = self.client.shell("settings get secure default_input_method").strip()
        if previous in ("", "null"):
            previous = ""
        if previous != ADB_IME:
            enabled = self.client.shell("ime list -s").split()
            steps = ([] if ADB_IME in enabled else [f"ime enable {ADB_IME}"]) + [f"ime set {ADB_IME}"]
            output, code = self.client.run(" && ".join(steps), safe=False)
            if code != 0:
                raise StepError(f"could not switch to ADB Keyboard: {output.strip()[:200]}; enable it in Settings "
                                f"> System > Keyboard (see docs/mobile.md)")
            self.sleep(self.ime_switch_delay_s)  # the IME needs a moment to bind to the focused field
        commands = [broadcast("ADB_CLEAR_TEXT")] if clear else []
        if text:
            encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
            commands.append(broadcast("ADB_INPUT_B64", "--es msg", shlex.quote(encoded)))
        try:
            if commands:
                self._act(commands, "typing with ADB Keyboard")
        finally:
            if previous and previous != ADB_IME:
                output, code = self.client.run(f"ime set {shlex.quote(previous)}", safe=True)
                if code != 0:
                    log.warning("could not give the keyboard %s back: %s", previous, output.strip()[:200])
