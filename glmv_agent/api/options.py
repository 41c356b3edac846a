"""Settings shared by the step agents, and the model endpoint they talk to.

The endpoint is ``backend=`` (any object with ``generate``, e.g. a ReplayBackend), else an OpenAI-compatible server
from ``base_url`` / ``api_key`` / ``api_model`` or the ``GLMV_BASE_URL`` / ``GLMV_API_KEY`` / ``GLMV_MODEL``
environment variables (``OPENAI_*`` as fallbacks). Nothing configured is a ConfigError at once, not a connection
attempt to a default address.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..agent import StepCap
from ..errors import ConfigError
from ..oversight.guard import Guard
from ..oversight.policy import Policy
from ..oversight.secrets import SecretStore
from ..profiles import MODELS, get_profile
from ..types import GenerationParams, PromptProfile

BASE_URL_VARIABLES = ("GLMV_BASE_URL", "OPENAI_BASE_URL")


class StepOptions(BaseModel):
    """Keyword options every step agent takes (after the endpoint arguments)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    run_dir: Path | None = None  # default: runs_root/<time>-<agent name>
    runs_root: Path = Path("runs")
    act_steps: StepCap = 5  # step cap of one act()
    max_steps: StepCap = 30  # step cap of one run()
    max_reasks: int = Field(default=2, ge=0)  # re-asks after an unusable answer, per step or question
    params: GenerationParams | None = None  # default: the profile's
    timeout_s: float = Field(default=120.0, gt=0)  # per model request (endpoint from base_url / env only)
    prompt_dir: Path | None = None
    lang: Literal["zh", "en"] | None = None  # AutoGLM-Phone's prompt language
    secrets: dict[str, str] = Field(default_factory=dict)  # typed as <secret>NAME</secret>, never shown to the model
    policy: Path | None = None  # allow / confirm / deny rules; "confirm" means "not run" (nobody to ask)
    write_report: bool = True  # report.html and report.gif when the agent is closed


def step_options(values: dict[str, Any]) -> StepOptions:
    """``values`` as StepOptions; ConfigError naming the bad or unknown option."""
    try:
        return StepOptions(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid agent option: {problems}") from None


def load_profile(model: str, platform: str, options: StepOptions) -> PromptProfile:
    """The prompt profile of ``model`` (a profile model name) on ``platform``; ConfigError for unknown names."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; the profile model names are: {', '.join(MODELS)}")
    if model == "autoglm-phone" and platform != "mobile":
        raise ConfigError("autoglm-phone speaks only the mobile grammar; use PhoneAgent")
    lang = options.lang if model == "autoglm-phone" else None
    return get_profile(f"{model}/{platform}", options.prompt_dir, lang=lang)


def make_backend(base_url: str | None, api_key: str | None, api_model: str | None, options: StepOptions, *,
                 asynchronous: bool = False) -> Any:
    """An OpenAIBackend (AsyncOpenAIBackend with ``asynchronous``) for the arguments or the environment."""
    if not (base_url or any(os.environ.get(name) for name in BASE_URL_VARIABLES)):
        raise ConfigError("no model endpoint: pass base_url= (or set GLMV_BASE_URL), or backend= "
                          "(for example a ReplayBackend of recorded answers)")
    from ..backends.openai_async import AsyncOpenAIBackend
    from ..backends.openai_backend import EndpointConfig, OpenAIBackend

    config = EndpointConfig.from_env(base_url=base_url, api_key=api_key, model=api_model, timeout_s=options.timeout_s)
    return AsyncOpenAIBackend(config) if asynchronous else OpenAIBackend(config)


def oversight(options: StepOptions) -> tuple[Guard | None, SecretStore]:
    """The policy guard (nobody to ask: "confirm" actions are not run) and the secret store of the options."""
    guard = Guard(Policy.load(options.policy)) if options.policy else None
    return guard, SecretStore(options.secrets)


__all__ = ["StepOptions", "load_profile", "make_backend", "oversight", "step_options"]
