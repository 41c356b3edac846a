"""The offline web demo: the bundled Little Kitchen recipe site served on 127.0.0.1, and a scripted GLM-4.5V episode
(set-of-marks replies, replayed without a model) that picks a cuisine in a <select>, searches, opens a recipe and
answers. Used by ``glmv-agent demo``; also a smoke test of browser + labels + agent loop on a new machine."""

from __future__ import annotations

import logging
from pathlib import Path

from glmv_agent.agent import Agent, AgentConfig, AgentHooks, EpisodeResult
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.profiles import get_profile

from .server import StaticServer

log = logging.getLogger(__name__)
SITE = Path(__file__).with_name("demo_site")
DEMO_PROFILE = "glm-4.5v/web"
DEMO_TASK = "Find a vegetarian Chinese recipe with tofu on Little Kitchen and tell me how long it takes to cook"
DEMO_ANSWER = "Mapo Tofu (vegetarian, Chinese) takes 25 minutes in total."


def _reply(think: str, thought: str, action: str, memory: str = "{}") -> str:
    return f"<think>{think}</think>Thought: {thought}\nAction: {action}\nMemory_Updated: {memory}"


DEMO_SCRIPT: list[str] = [
    _reply("The home page has a search box [1], a cuisine list [2] and a Search button [3]. I should restrict the "
           "cuisine to Chinese first.",
           "I open the cuisine list [2] to choose Chinese.", "Click [2]"),
    _reply("The cuisine list is open; Chinese is option [6].",
           "I choose Chinese [6] in the open list.", "Click [6]"),
    _reply("Cuisine now shows Chinese. Now I search for tofu; typing presses Enter, which submits the form.",
           "I type tofu into the search box [1].", "Type [1]; [tofu]"),
    _reply("One result: Mapo Tofu [1], Chinese, vegetarian, rating 4.7.",
           "Mapo Tofu is a vegetarian Chinese tofu recipe; I open it.", "Click [1]",
           '{"recipe": "Mapo Tofu", "vegetarian": true}'),
    _reply("The recipe page says Total time: 25 minutes, serves 4.",
           "Mapo Tofu takes 25 minutes in total; that answers the task.", f"ANSWER; <content>{DEMO_ANSWER}</content>",
           '{"recipe": "Mapo Tofu", "vegetarian": true, "minutes": 25}'),
]


def run_demo(out_dir: Path, headed: bool = False, *, browser_executable: str | None = None,
             step_delay_s: float | None = None, hooks: AgentHooks | None = None) -> EpisodeResult:
    """Serve the demo site, run the scripted episode against it in Chromium and record it in ``out_dir``.

    ``headed`` shows the browser (it then pauses ``step_delay_s``, default 1 s, between steps so people can follow).
    Raises ConfigError when no browser can be found.
    """
    from .environment import WebEnvironment
    from .options import WebOptions

    delay = step_delay_s if step_delay_s is not None else (1.0 if headed else 0.0)
    with StaticServer(SITE) as server:
        options = WebOptions(
            url=server.url + "index.html", headless=not headed, executable_path=browser_executable,
            allowed_domains=["127.0.0.1"], wait_seconds=1.0,
        )
        with WebEnvironment(options) as environment:
            config = AgentConfig(max_steps=len(DEMO_SCRIPT) + 2, run_dir=Path(out_dir), settle_seconds=delay)
            agent = Agent(get_profile(DEMO_PROFILE), ReplayBackend(DEMO_SCRIPT), environment, config, hooks=hooks)
            result = agent.run(DEMO_TASK)
    log.info("web demo finished: %s (%s)", result.status, result.run_dir)
    return result


__all__ = ["DEMO_ANSWER", "DEMO_SCRIPT", "DEMO_TASK", "SITE", "run_demo"]
