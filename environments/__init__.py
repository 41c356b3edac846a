"""Device drivers, one package per platform: ``web`` (Playwright), ``desktop`` (pyautogui + mss) and ``android``
(adb-shell, with the simulated phone in ``android.sim``). No platform package imports another.

Each platform package names its Environment lazily, so importing the package (for its CLI flags, say) does not
import the platform's optional dependencies: ``from glmv_agent.environments.web import WebEnvironment`` loads
Playwright at that moment, and a missing extra raises ModuleNotFoundError there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that imports ``exports[name]`` (a submodule of ``package``) on first use."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
