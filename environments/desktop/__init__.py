"""The desktop platform: screenshots with mss, mouse and keyboard with pyautogui, on one monitor of the session."""

from __future__ import annotations

from .. import lazy_exports

_EXPORTS = {"DesktopEnvironment": "environment", "DesktopConfig": "environment"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
