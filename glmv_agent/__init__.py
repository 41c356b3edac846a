"""glmv-agent: GUI agents on phones, desktops and browsers driven by the GLM vision-language models."""

from __future__ import annotations

__version__ = "0.1.0"

from .agent import Agent, AgentConfig, EpisodeResult  # noqa: E402
from .errors import GlmvError, ParseError  # noqa: E402
from .profiles import get_profile, profile_keys  # noqa: E402
from .types import Observation, Platform  # noqa: E402

__all__ = [
    "Agent", "AgentConfig", "EpisodeResult", "GlmvError", "Observation", "ParseError", "Platform", "__version__",
    "get_profile", "profile_keys",
]
