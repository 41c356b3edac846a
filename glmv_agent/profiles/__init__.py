"""Prompt profiles: one per (model, platform), each rendering the model's documented prompt and parsing its answer."""

from . import autoglm, desktop, mobile, web  # noqa: F401  (registration side effect)
from .base import MODELS, get_profile, profile_keys

__all__ = ["MODELS", "get_profile", "profile_keys"]
