"""glmv-agent: GUI agents on phones, desktops and browsers driven by the GLM vision-language models."""

from __future__ import annotations

__version__ = "0.1.0"

from .agent import Agent, AgentConfig, EpisodeResult  # noqa: E402
from .errors import GlmvError, ParseError  # noqa: E402
from .profiles import get_profile, profile_keys  # noqa: E402
from .types import Observation, Platform  # noqa: E402

# The step-level agents (glmv_agent.api) load on first use: `import glmv_agent` stays free of platform drivers.
_API = ("PageAgent", "AsyncPageAgent", "PhoneAgent", "DesktopAgent", "Box", "ActFailed", "NotFound")

__all__ = [
    "ActFailed", "Agent", "AgentConfig", "AsyncPageAgent", "Box", "DesktopAgent", "EpisodeResult", "GlmvError",
    "NotFound", "Observation", "PageAgent", "ParseError", "PhoneAgent", "Platform", "__version__", "get_profile",
    "profile_keys",
]


def __getattr__(name: str) -> object:
    if name in _API:
        import importlib

        return getattr(importlib.import_module("glmv_agent.api"), name)
    raise AttributeError(f"module 'glmv_agent' has no attribute {name!r}")
