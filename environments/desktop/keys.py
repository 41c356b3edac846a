"""The model's key names (``Return``, ``ctrl+c``, ``cmd+shift+t``, ``page_up``, ``ArrowLeft``) to pyautogui key names.

GLM's desktop grammar writes X11-style names (OSWorld ran on Ubuntu); pyautogui wants its own lowercase names and
silently ignores names it does not know. :func:`resolve_keys` turns one ``key(keys=...)`` string into the pyautogui
names to hold together, or raises StepError naming the key it cannot press.
"""

from __future__ import annotations

import re
import sys

from glmv_agent.errors import StepError

from ..keys import lower_letters_with_modifiers, split_combo

# Names pyautogui accepts on every platform (a subset of pyautogui.KEY_NAMES; printable characters come separately).
NAMED_KEYS = frozenset({
    "alt", "altleft", "altright", "apps", "backspace", "capslock", "ctrl", "ctrlleft", "ctrlright", "delete",
    "down", "end", "enter", "esc", "home", "insert", "left", "numlock", "pagedown", "pageup", "pause",
    "printscreen", "right", "scrolllock", "shift", "shiftleft", "shiftright", "space", "tab", "up",
    "add", "subtract", "multiply", "divide", "decimal", "separator", "help", "select", "execute",
    "volumemute", "volumedown", "volumeup", "playpause", "nexttrack", "prevtrack",
    *(f"f{n}" for n in range(1, 25)), *(f"num{n}" for n in range(10)),
})
PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F))  # '!'..'~'; space is "space"
META = "meta"  # placeholder: the system's command/super/windows key
OPTION = "option"  # placeholder: macOS option, alt elsewhere

# Aliases, keyed by the name lowercased with spaces, '_' and '-' removed.
ALIASES: dict[str, str] = {
    "control": "ctrl", "ctl": "ctrl", "controll": "ctrl", "lctrl": "ctrlleft", "rctrl": "ctrlright",
    "controlleft": "ctrlleft", "controlright": "ctrlright", "ctrll": "ctrlleft", "ctrlr": "ctrlright",
    "altl": "altleft", "altr": "altright", "lalt": "altleft", "ralt": "altright", "altgr": "altright",
    "shiftl": "shiftleft", "shiftr": "shiftright", "lshift": "shiftleft", "rshift": "shiftright",
    "return": "enter", "ret": "enter", "kpenter": "enter", "newline": "enter",
    "escape": "esc", "del": "delete", "kpdelete": "delete", "bksp": "backspace", "backspce": "backspace",
    "ins": "insert", "spacebar": "space", "pgup": "pageup", "prior": "pageup", "pgdn": "pagedown",
    "pgdown": "pagedown", "next": "pagedown", "prtsc": "printscreen", "prtscr": "printscreen",
    "print": "printscreen", "prntscrn": "printscreen", "sysrq": "printscreen", "caps": "capslock",
    "menu": "apps", "contextmenu": "apps", "application": "apps", "break": "pause",
    "arrowup": "up", "uparrow": "up", "arrowdown": "down", "downarrow": "down",
    "arrowleft": "left", "leftarrow": "left", "arrowright": "right", "rightarrow": "right",
    "cmd": META, "command": META, "super": META, "superl": META, "superr": META, "win": META, "windows": META,
    "winleft": META, "winright": META, "lwin": META, "rwin": META, "meta": META, "metal": META, "hyper": META,
    "opt": OPTION, "option": OPTION, "optionleft": OPTION, "optionright": OPTION,
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
MODIFIERS = frozenset({"ctrl", "ctrlleft", "ctrlright", "alt", "altleft", "altright", "shift", "shiftleft",
                       "shiftright", "win", "command", "option"})
HINT = "use names like enter, esc, tab, backspace, ctrl, alt, shift, super, up, pageup, f5 or one character"


def _platform_names(system: str) -> dict[str, str]:
    if system == "darwin":
        return {META: "command", OPTION: "option"}
    return {META: "win", OPTION: "alt"}


def resolve_key(name: str, system: str = sys.platform) -> str:
    """One key name to its pyautogui name; StepError naming the key when it is unknown."""
    if len(name) == 1:
        if name in PRINTABLE:
            return name
        if name == " ":
            return "space"
        raise StepError(f"unknown key '{name}': only ASCII characters can be pressed; use type() for other text")
    folded = re.sub(r"[\s_\-]", "", name.lower())
    if folded in NAMED_KEYS:
        return folded
    if re.fullmatch(r"kp\d", folded):
        return f"num{folded[2]}"
    alias = ALIASES.get(folded)
    if alias is None:
        raise StepError(f"unknown key '{name}'; {HINT}")
    return _platform_names(system).get(alias, alias)


def resolve_keys(keys: str, system: str = sys.platform) -> list[str]:
    """A ``key(keys=...)`` value to the pyautogui names to press together, in order.

    Letters in a combination with a modifier are lowercased (``ctrl+A`` is ctrl+a, as OSWorld means it); a lone
    upper-case letter stays upper case (pyautogui adds shift).
    """
    names = [resolve_key(part, system) for part in split_combo(keys)]
    return lower_letters_with_modifiers(names, MODIFIERS)


__all__ = ["NAMED_KEYS", "resolve_key", "resolve_keys", "split_combo"]
