"""Key-combination handling shared by the desktop (pyautogui) and web (Playwright) key names."""

from __future__ import annotations

from collections.abc import Collection

from glmv_agent.errors import StepError


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
