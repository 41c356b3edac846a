"""The X11 display from Python (python-xlib, which pyautogui already needs on Linux): connecting with one clear
error, telling whether the server is still there, and which characters the keyboard layout can type.

python-xlib prints a warning on stdout for every connection made with an empty authority file (what Xvfb setups
use); :func:`open_display` keeps that line off our output.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator
from typing import Any

from glmv_agent.errors import ConfigError

AUTH_HINT = "set XAUTHORITY to the X server's authority file (for Xvfb an empty file works: touch it)"
TYPED_AS_KEYS = {"\n": "Return", "\t": "Tab"}  # what xdotool presses for these characters


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Swallow what python-xlib prints while it connects ("Xlib.xauth: warning, no xauthority details")."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def connection_problem(exc: BaseException) -> str:
    """One line saying why the display cannot be reached, for an exception raised while connecting.

    Covers DISPLAY unset (KeyError), python-xlib's XauthError (no ``~/.Xauthority`` and no XAUTHORITY),
    DisplayConnectionError (no server, or the server refused our authority) and anything else.
    """
    display = os.environ.get("DISPLAY")
    if isinstance(exc, KeyError) or not display:
        return "no display to control: DISPLAY is not set (run inside an X11 session, or start Xvfb and set DISPLAY)"
    kind = type(exc).__name__
    if kind == "XauthError":
        return f"cannot connect to the display {display}: no X authority file ({exc}); {AUTH_HINT}"
    reason = getattr(exc, "msg", exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    reason = " ".join(str(reason).split()) or kind
    if "uthoriz" in reason:
        return f"cannot connect to the display {display}: the X server refused us ({reason}); {AUTH_HINT}"
    return f"cannot connect to the display {display}: {reason} (is the X server running?)"


def open_display(name: str | None = None) -> Any:
    """A new python-xlib connection to ``name`` (default: $DISPLAY); ConfigError with :func:`connection_problem`."""
    try:
        from Xlib.display import Display
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the desktop platform needs python-xlib on Linux ({exc}): pip install python-xlib") from None
    try:
        with quiet_stdout():
            return Display(name)
    except Exception as exc:  # noqa: BLE001 - python-xlib raises several unrelated kinds while connecting
        raise ConfigError(connection_problem(exc)) from None


def display_reachable(name: str | None = None) -> bool:
    """Whether a new connection to the X server succeeds now (False once the server is gone)."""
    try:
        display = open_display(name)
    except ConfigError:
        return False
    with contextlib.suppress(Exception):
        display.close()
    return True


def display_gone(name: str | None = None, within_s: float = 1.0, poll_s: float = 0.05) -> bool:
    """After an X call failed: whether the X server is gone. A server that is being killed can still accept a new
    connection for a moment after our own connection broke, so a reachable server is asked again until
    ``within_s`` has passed (a failure with the server alive costs this wait once)."""
    deadline = time.monotonic() + within_s
    while display_reachable(name):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


def _char_of(keysym: int) -> str | None:
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:  # Latin-1 keysyms are their code points
        return chr(keysym)
    if 0x1000100 <= keysym <= 0x110FFFF:  # Unicode keysyms: 0x01000000 + code point
        return chr(keysym - 0x1000000)
    return None


def layout_characters(display: Any) -> set[str]:
    """The characters the current keyboard map types with no modifier or with shift (plus newline and tab).

    Characters outside this set make xdotool remap a spare key for each of them, and an application that handles
    the key press after the next remapping reads the wrong character or none: those are the ones it drops.
    """
    chars = set(TYPED_AS_KEYS)
    first = display.display.info.min_keycode
    count = display.display.info.max_keycode - first + 1
    for keysyms in display.get_keyboard_mapping(first, count):
        for keysym in list(keysyms)[:2]:
            char = _char_of(keysym)
            if char is not None:
                chars.add(char)
    return chars


__all__ = [
    "connection_problem", "display_gone", "display_reachable", "layout_characters", "open_display", "quiet_stdout",
]
