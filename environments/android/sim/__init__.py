"""A simulated Android phone that speaks the real ADB protocol on a TCP port (``glmv-agent sim-device``)."""

from __future__ import annotations

from ... import lazy_exports

_EXPORTS = {"SimulatedPhone": "device", "PhoneTraits": "traits"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
