"""The Android platform over ADB (adb-shell): connection and keys, text input, the app table, the environment."""

from __future__ import annotations

from .. import lazy_exports

_EXPORTS = {"MobileEnvironment": "environment", "MobileObservation": "environment", "MobileConfig": "config"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
