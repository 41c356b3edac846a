"""The model's key names (``Return``, ``ctrl+c``, ``cmd+shift+t``, ``page_up``, ``ArrowLeft``) to pyautogui key names.

Names are folded through the shared table in :mod:`glmv_agent.environments.keys`; pyautogui wants its own lowercase
names and silently ignores names it does not know, so :func:`resolve_keys` turns one ``key(keys=...)`` string into
the pyautogui names to hold together, or raises StepError naming the key it cannot press.
"""

from __future__ import annotations

import sys

from glmv_agent.errors import StepError

from ..keys import META, MODIFIERS, NAMED_KEYS, OPTION, canonical_key, lower_letters_with_modifiers, split_combo

PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F))  # '!'..'~'; space is "space"
HINT = "use names like enter, esc, tab, backspace, ctrl, alt, shift, super, up, pageup, f5 or one character"
_FIXED = {"altgr": "altright", "numpadenter": "enter"}


def _platform_names(system: str) -> dict[str, str]:
    if system == "darwin":
        return {META: "command", OPTION: "option"}
    return {META: "win", OPTION: "alt"}


def resolve_key(name: str, system: str = sys.platform) -> str:
    """One key name to its pyautogui name; StepError naming the key when it is unknown."""
    if len(name) == 1 and name not in PRINTABLE and name != " ":
        raise StepError(f"unknown key '{name}': only ASCII characters can be pressed; use type() for other text")
    key = canonical_key(name, HINT)
    return _platform_names(system).get(key, _FIXED.get(key, key))


def resolve_keys(keys: str, system: str = sys.platform) -> list[str]:
    """A ``key(keys=...)`` value to the pyautogui names to press together, in order.

    Letters in a combination with a modifier are lowercased (``ctrl+A`` is ctrl+a, as OSWorld means it); a lone
    upper-case letter stays upper case (pyautogui adds shift).
    """
    names = [resolve_key(part, system) for part in split_combo(keys)]
    return lower_letters_with_modifiers(names, MODIFIERS | {"win", "command"})


__all__ = ["NAMED_KEYS", "resolve_key", "resolve_keys", "split_combo"]
