"""PageAgent and AsyncPageAgent: the step-level calls on a Playwright page you already drive.

    from playwright.sync_api import sync_playwright
    from glmv_agent import PageAgent

    with sync_playwright() as p:
        page = p.chromium.launch().new_page()
        page.goto("https://example.com")
        with PageAgent(page, model="glm-4.5v", base_url="http://localhost:8000/v1") as agent:
            agent.act("click the More information link")

Web agents default to set-of-marks mode (numbered labels, the GLM web grammar), as the GLM web protocol does;
``mode="pixel"`` uses coordinates and the desktop grammar. Boxes from ``locate`` are in CSS pixels of the viewport,
which is what ``page.mouse`` takes. Your page stays open when the agent closes.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Literal

from ..errors import ConfigError
from ..types import Observation
from .base import AsyncStepAgent, Frame, StepAgent
from .options import load_profile, make_backend, step_options

Mode = Literal["som", "pixel"]


def _web(module: str) -> ModuleType:
    try:
        return importlib.import_module(f"glmv_agent.environments.web.{module}")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the web agents need Playwright ({exc.name} is missing): "
                          "pip install 'glmv-agent[web]'") from None


def _parts(model: str, mode: Mode, options: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(step options, prompt profile, web options) for a web agent."""
    settings = step_options(options)
    if mode not in ("som", "pixel"):
        raise ConfigError(f"mode must be 'som' or 'pixel', got {mode!r}")
    profile = load_profile(model, "web" if mode == "som" else "desktop", settings)
    return settings, profile, _web("options").WebOptions(mode=mode)


class PageAgent(StepAgent):
    """Step-level calls on a ``playwright.sync_api`` Page (see the module docs for an example).

    ``model``: a profile model name (glm-4.1v, glm-4.5v). The endpoint: ``backend`` (any Backend, e.g. a
    ReplayBackend), else ``base_url`` / ``api_key`` / ``api_model`` or the GLMV_* variables. ``options``: the
    StepOptions fields (run_dir, act_steps, max_steps, params, secrets, policy, ...). Raises ConfigError for
    unknown names, a missing endpoint or a missing Playwright.
    """

    name = "page-agent"

    def __init__(self, page: Any, model: str = "glm-4.5v", *, mode: Mode = "som", base_url: str | None = None,
                 api_key: str | None = None, api_model: str | None = None, backend: Any = None,
                 **options: Any) -> None:
        settings, profile, web = _parts(model, mode, options)
        client = backend or make_backend(base_url, api_key, api_model, settings)
        environment = _web("environment").WebEnvironment.from_page(page, web)
        super().__init__(environment, profile, client, settings, owns_environment=True)
        self.owns_backend = backend is None

    @property
    def page(self) -> Any:
        """The tab the agent is looking at (a tab the page opened, after such a step)."""
        return self.environment.page

    def frame(self, observation: Observation) -> Frame:
        width, height, _ = self.environment.page.evaluate(_web("js").VIEWPORT_JS)
        return observation.size[0] / width, observation.size[1] / height, 0.0, 0.0


class AsyncPageAgent(AsyncStepAgent):
    """The same calls, awaited, on a ``playwright.async_api`` Page, on your event loop without threads.

    Arguments as for :class:`PageAgent`. Use ``async with AsyncPageAgent(page, ...) as agent:`` or ``await
    agent.aclose()`` to write the report.
    """

    name = "page-agent"

    def __init__(self, page: Any, model: str = "glm-4.5v", *, mode: Mode = "som", base_url: str | None = None,
                 api_key: str | None = None, api_model: str | None = None, backend: Any = None,
                 **options: Any) -> None:
        settings, profile, web = _parts(model, mode, options)
        client = backend or make_backend(base_url, api_key, api_model, settings, asynchronous=True)
        environment = _web("async_page").AsyncPageEnvironment(page, web)
        super().__init__(environment, profile, client, settings, owns_environment=True)
        self.owns_backend = backend is None

    @property
    def page(self) -> Any:
        """The tab the agent is looking at."""
        return self.environment.page

    async def aframe(self, observation: Observation) -> Frame:
        sx, sy = self.environment.scale_of(observation)
        return sx, sy, 0.0, 0.0


__all__ = ["AsyncPageAgent", "PageAgent"]
