"""Stable name for the phone platform: ``glmv_agent.environments.mobile`` is ``glmv_agent.environments.android``.

The CLI calls the platform ``mobile``; the package that implements it is :mod:`glmv_agent.environments.android`.
"""

from __future__ import annotations

from . import lazy_exports

_EXPORTS = {"MobileEnvironment": "android.environment", "MobileObservation": "android.environment",
            "MobileConfig": "android.config"}
__getattr__ = lazy_exports("glmv_agent.environments", _EXPORTS)
__all__ = sorted(_EXPORTS)
