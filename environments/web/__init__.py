"""The browser platform: a Playwright page driven in set-of-marks or pixel mode, and the offline demo site."""

from __future__ import annotations

from .. import lazy_exports

_EXPORTS = {"WebEnvironment": "environment", "WebOptions": "options", "run_demo": "demo"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
