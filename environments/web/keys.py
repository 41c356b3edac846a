"""The model's key names (``Return``, ``ctrl+a``, ``esc``, ``page_down``, ``ArrowLeft``) to Playwright key names."""

from __future__ import annotations

import re

from glmv_agent.errors import StepError

from ..keys import lower_letters_with_modifiers, split_combo

_NAMED = {
    "enter": "Enter", "return": "Enter", "ret": "Enter", "kpenter": "NumpadEnter", "newline": "Enter",
    "esc": "Escape", "escape": "Escape", "tab": "Tab", "space": "Space", "spacebar": "Space",
    "backspace": "Backspace", "bksp": "Backspace", "delete": "Delete", "del": "Delete", "insert": "Insert",
    "ins": "Insert", "home": "Home", "end": "End", "pageup": "PageUp", "pgup": "PageUp", "prior": "PageUp",
    "pagedown": "PageDown", "pgdn": "PageDown", "pgdown": "PageDown", "next": "PageDown",
    "up": "ArrowUp", "arrowup": "ArrowUp", "uparrow": "ArrowUp", "down": "ArrowDown", "arrowdown": "ArrowDown",
    "downarrow": "ArrowDown", "left": "ArrowLeft", "arrowleft": "ArrowLeft", "leftarrow": "ArrowLeft",
    "right": "ArrowRight", "arrowright": "ArrowRight", "rightarrow": "ArrowRight",
    "ctrl": "Control", "control": "Control", "ctl": "Control", "lctrl": "ControlLeft", "rctrl": "ControlRight",
    "alt": "Alt", "option": "Alt", "opt": "Alt", "altgr": "AltGraph", "shift": "Shift",
    "lshift": "ShiftLeft", "rshift": "ShiftRight", "meta": "Meta", "cmd": "Meta", "command": "Meta",
    "super": "Meta", "win": "Meta", "windows": "Meta", "capslock": "CapsLock", "caps": "CapsLock",
    "numlock": "NumLock", "scrolllock": "ScrollLock", "pause": "Pause", "printscreen": "PrintScreen",
    "prtsc": "PrintScreen", "menu": "ContextMenu", "contextmenu": "ContextMenu", "apps": "ContextMenu",
    "plus": "+", "minus": "-", "comma": ",", "period": ".", "slash": "/", "backslash": "\\",
    "semicolon": ";", "quote": "'", "apostrophe": "'", "grave": "`", "backtick": "`", "equal": "=",
    "bracketleft": "[", "bracketright": "]",
}
MODIFIERS = frozenset({"Control", "ControlLeft", "ControlRight", "Alt", "AltGraph", "Shift", "ShiftLeft",
                       "ShiftRight", "Meta"})
HINT = "use names like Return, esc, tab, backspace, ctrl+a, shift+tab, pagedown, f5 or one character"


def playwright_key(name: str) -> str:
    """One model key name to Playwright's name; StepError naming the key when it is unknown."""
    if len(name) == 1:
        return "Space" if name == " " else name
    folded = re.sub(r"[\s_\-]", "", name.lower())
    if folded in _NAMED:
        return _NAMED[folded]
    if re.fullmatch(r"f([1-9]|1[0-2])", folded):
        return folded.upper()
    if re.fullmatch(r"(kp|numpad)\d", folded):
        return f"Numpad{folded[-1]}"
    raise StepError(f"unknown key '{name}'; {HINT}")


def playwright_combo(keys: str) -> str:
    """``'ctrl+A'`` -> ``'Control+a'`` (a letter held with a modifier is lower case, as shortcuts mean it)."""
    names = [playwright_key(part) for part in split_combo(keys, example="ctrl+a")]
    return "+".join(lower_letters_with_modifiers(names, MODIFIERS))
