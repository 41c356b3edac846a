"""The model's key names (``Return``, ``ctrl+a``, ``esc``, ``page_down``, ``ArrowLeft``) to Playwright key names.

Names are folded through the shared table in :mod:`glmv_agent.environments.keys`, then mapped to the names of
Playwright's ``keyboard.press`` (``Enter``, ``Control``, ``ArrowLeft``, ``F5``, ``Numpad3``...).
"""

from __future__ import annotations

from glmv_agent.errors import StepError

from ..keys import META, OPTION, canonical_key, lower_letters_with_modifiers, split_combo

_PLAYWRIGHT = {
    "enter": "Enter", "numpadenter": "NumpadEnter", "esc": "Escape", "tab": "Tab", "space": "Space",
    "backspace": "Backspace", "delete": "Delete", "insert": "Insert", "home": "Home", "end": "End",
    "pageup": "PageUp", "pagedown": "PageDown", "up": "ArrowUp", "down": "ArrowDown", "left": "ArrowLeft",
    "right": "ArrowRight", "ctrl": "Control", "ctrlleft": "ControlLeft", "ctrlright": "ControlRight",
    "alt": "Alt", "altleft": "AltLeft", "altright": "AltRight", "altgr": "AltGraph", OPTION: "Alt",
    "shift": "Shift", "shiftleft": "ShiftLeft", "shiftright": "ShiftRight", META: "Meta", "capslock": "CapsLock",
    "numlock": "NumLock", "scrolllock": "ScrollLock", "pause": "Pause", "printscreen": "PrintScreen",
    "apps": "ContextMenu", "add": "NumpadAdd", "subtract": "NumpadSubtract", "multiply": "NumpadMultiply",
    "divide": "NumpadDivide", "decimal": "NumpadDecimal",
    "volumemute": "AudioVolumeMute", "volumedown": "AudioVolumeDown", "volumeup": "AudioVolumeUp",
    "playpause": "MediaPlayPause", "nexttrack": "MediaTrackNext", "prevtrack": "MediaTrackPrevious",
    **{f"f{n}": f"F{n}" for n in range(1, 13)}, **{f"num{n}": f"Numpad{n}" for n in range(10)},
}
MODIFIERS = frozenset({"Control", "ControlLeft", "ControlRight", "Alt", "AltLeft", "AltRight", "AltGraph", "Shift",
                       "ShiftLeft", "ShiftRight", "Meta"})
HINT = "use names like Return, esc, tab, backspace, ctrl+a, shift+tab, pagedown, f5 or one character"


def playwright_key(name: str) -> str:
    """One model key name to Playwright's name; StepError naming the key when it is unknown."""
    if len(name) == 1:
        return "Space" if name == " " else name
    key = canonical_key(name, HINT)
    if len(key) == 1:
        return key
    if key not in _PLAYWRIGHT:
        raise StepError(f"key '{name}' cannot be pressed in a browser; {HINT}")
    return _PLAYWRIGHT[key]


def playwright_combo(keys: str) -> str:
    """``'ctrl+A'`` -> ``'Control+a'`` (a letter held with a modifier is lower case, as shortcuts mean it)."""
    names = [playwright_key(part) for part in split_combo(keys, example="ctrl+a")]
    return "+".join(lower_letters_with_modifiers(names, MODIFIERS))
