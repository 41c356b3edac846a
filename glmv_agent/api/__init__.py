"""Step-level calls from scripts: ``act``, ``query``, ``check``, ``assert_``, ``locate`` and ``run`` on a Playwright
page you already have (PageAgent, AsyncPageAgent), a phone (PhoneAgent) or the desktop (DesktopAgent).

Names load on first use, so importing this package imports no platform driver (Playwright, adb-shell, pyautogui).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PageAgent": "web", "AsyncPageAgent": "web", "PhoneAgent": "devices", "DesktopAgent": "devices",
    "StepAgent": "base", "AsyncStepAgent": "base", "StepOptions": "options", "Box": "results",
    "ActFailed": "results", "NotFound": "results",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
