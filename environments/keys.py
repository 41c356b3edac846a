"""Key names as the models write them, shared by the desktop (pyautogui) and web (Playwright) drivers.

GLM's desktop grammar writes X11-style names (OSWorld ran on Ubuntu); the web grammar writes ``Enter``, ``ctrl+a``,
``ArrowLeft``. Both drivers first fold a name to one canonical vocabulary here (:func:`canonical_key`: pyautogui's
names, plus ``meta`` for the system's command/super/windows key, ``option`` for macOS option, ``altgr`` and
``numpadenter``), then map the canonical name to their library's name. One alias table serves both, so ``Return``,
``pgdn`` or ``cmd`` mean the same key in a browser and on a desktop.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from glmv_agent.errors import StepError

META = "meta"  # the system's command/super/windows key
OPTION = "option"  # macOS option, alt elsewhere

# Canonical names of keys that are not one printable character.
NAMED_KEYS = frozenset({
    "alt", "altleft", "altright", "apps", "backspace", "capslock", "ctrl", "ctrlleft", "ctrlright", "delete",
    "down", "end", "enter", "esc", "home", "insert", "left", "numlock", "pagedown", "pageup", "pause",
    "printscreen", "right", "scrolllock", "shift", "shiftleft", "shiftright", "space", "tab", "up",
    "add", "subtract", "multiply", "divide", "decimal", "separator", "help", "select", "execute",
    "volumemute", "volumedown", "volumeup", "playpause", "nexttrack", "prevtrack",
    *(f"f{n}" for n in range(1, 25)), *(f"num{n}" for n in range(10)),
})
EXTRA_NAMES = frozenset({META, OPTION, "altgr", "numpadenter"})
MODIFIERS = frozenset({"ctrl", "ctrlleft", "ctrlright", "alt", "altleft", "altright", "altgr", "shift", "shiftleft",
                       "shiftright", META, OPTION})

# Aliases, keyed by the name lowercased with spaces, '_' and '-' removed.
ALIASES: dict[str, str] = {
    "control": "ctrl", "ctl": "ctrl", "controll": "ctrl", "lctrl": "ctrlleft", "rctrl": "ctrlright",
    "controlleft": "ctrlleft", "controlright": "ctrlright", "ctrll": "ctrlleft", "ctrlr": "ctrlright",
    "altl": "altleft", "altr": "altright", "lalt": "altleft", "ralt": "altright", "altgraph": "altgr",
    "shiftl": "shiftleft", "shiftr": "shiftright", "lshift": "shiftleft", "rshift": "shiftright",
    "return": "enter", "ret": "enter", "kpenter": "numpadenter", "newline": "enter",
    "escape": "esc", "del": "delete", "kpdelete": "delete", "bksp": "backspace", "backspce": "backspace",
    "ins": "insert", "spacebar": "space", "pgup": "pageup", "prior": "pageup", "pgdn": "pagedown",
    "pgdown": "pagedown", "next": "pagedown", "prtsc": "printscreen", "prtscr": "printscreen",
    "print": "printscreen", "prntscrn": "printscreen", "sysrq": "printscreen", "caps": "capslock",
    "menu": "apps", "contextmenu": "apps", "application": "apps", "break": "pause",
    "arrowup": "up", "uparrow": "up", "arrowdown": "down", "downarrow": "down",
    "arrowleft": "left", "leftarrow": "left", "arrowright": "right", "rightarrow": "right",
    "cmd": META, "command": META, "super": META, "superl": META, "superr": META, "win": META, "windows": META,
    "winleft": META, "winright": META, "lwin": META, "rwin": META, "metal": META, "hyper": META,
    "opt": OPTION, "optionleft": OPTION, "optionright": OPTION,
    "plus": "+", "minus": "-", "hyphen": "-", "equal": "=", "equals": "=", "comma": ",", "period": ".",
    "dot": ".", "slash": "/", "backslash": "\\", "semicolon": ";", "colon": ":", "apostrophe": "'",
    "quote": "'", "quotedbl": '"', "grave": "`", "backtick": "`", "bracketleft": "[", "bracketright": "]",
    "braceleft": "{", "braceright": "}", "asterisk": "*", "underscore": "_", "question": "?", "exclam": "!",
    "at": "@", "numbersign": "#", "dollar": "$", "percent": "%", "ampersand": "&", "less": "<",
    "greater": ">", "bar": "|", "asciitilde": "~", "asciicircum": "^", "parenleft": "(", "parenright": ")",
    "kpadd": "add", "kpsubtract": "subtract", "kpmultiply": "multiply", "kpdivide": "divide",
    "kpdecimal": "decimal", "mute": "volumemute", "audiomute": "volumemute", "audiolowervolume": "volumedown",
    "audioraisevolume": "volumeup", "audioplay": "playpause", "audionext": "nexttrack", "audioprev": "prevtrack",
}


def canonical_key(name: str, hint: str) -> str:
    """One key name as the model wrote it to its canonical name (a single character stays itself).

    Raises StepError naming the key when it is unknown; ``hint`` (the driver's list of example names) ends the message.
    """
    if len(name) == 1:
        return "space" if name == " " else name
    folded = re.sub(r"[\s_\-]", "", name.lower())
    if folded in NAMED_KEYS or folded in EXTRA_NAMES:
        return folded
    if re.fullmatch(r"(kp|numpad)\d", folded):
        return f"num{folded[-1]}"
    if folded in ALIASES:
        return ALIASES[folded]
    raise StepError(f"unknown key '{name}'; {hint}")


def split_combo(keys: str, example: str = "ctrl+c") -> list[str]:
    """``'ctrl+shift+t'`` -> ``['ctrl', 'shift', 't']``; a ``+`` key itself is written ``ctrl++`` or ``plus``.

    ``example`` is the combination the error message shows when a part is empty.
    """
    text = keys.strip()
    if text == "+":
        return ["+"]
    tail: list[str] = []
    if text.endswith("++"):
        text, tail = text[:-2], ["+"]
    parts = [part.strip() for part in text.split("+")] if text else []
    if any(not part for part in parts) or not (parts or tail):
        raise StepError(f"key combination '{keys}' has an empty part; write keys joined by '+', like {example}")
    return parts + tail


def lower_letters_with_modifiers(names: list[str], modifiers: Collection[str]) -> list[str]:
    """Letters held with a modifier are lower case (``ctrl+A`` is ctrl+a, as shortcuts mean it); others unchanged."""
    if len(names) > 1 and any(n in modifiers for n in names):
        return [n.lower() if len(n) == 1 and n.isalpha() else n for n in names]
    return names
