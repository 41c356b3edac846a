"""A set-of-marks action written with more arguments than it takes (``Type [0]; [a]; [b]``) is a parse error the
model is told about, never a shorter action executed in its place: parsed here, and in an episode in real Chromium
where nothing is typed."""

from __future__ import annotations

import pytest
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: F401

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.errors import ParseError
from glmv_agent.profiles import get_profile

SURPLUS = [
    ("Type [3]; [hello]; [world]", "; [world]"),
    ("Type [3]; [hello] [world]", "[world]"),
    ("Click [1]; [2]", "; [2]"),
    ("Click [1] [Search button]", "[Search button]"),
    ("Scroll [WINDOW]; [down]; [3]", "; [3]"),
    ("Key; [Control]; [a]", "; [a]"),
    ("ANSWER; <content>Paris</content>; [France]", "; [France]"),
    ("ANSWER; [Paris]; [France]", "; [France]"),
    ("Wait; [5]", "; [5]"),
    ("GoBack [1]", "[1]"),
    ("Bing; [weather in Paris]", "; [weather in Paris]"),
    ("<|begin_of_box|>Click [1]<|end_of_box|>; [2]", "; [2]"),
]


def web(thought: str, action: str) -> str:
    return f"Thought: {thought}\nAction: {action}\nMemory_Updated: {{}}"


@pytest.mark.parametrize("model", ["glm-4.1v", "glm-4.5v"])
@pytest.mark.parametrize(("action", "extra"), SURPLUS)
def test_an_action_with_a_surplus_argument_is_a_parse_error(model: str, action: str, extra: str) -> None:
    with pytest.raises(ParseError) as info:
        get_profile(f"{model}/web").parse(web("t", action))
    assert "surplus argument" in str(info.value) and extra in str(info.value)


def test_a_surplus_argument_does_not_fall_back_to_an_action_quoted_in_the_thought() -> None:
    with pytest.raises(ParseError, match="surplus argument"):
        get_profile("glm-4.5v/web").parse(web("Action: Click [1] failed before.", "Type [3]; [a]; [b]"))


@pytest.mark.parametrize(("action", "wire"), [
    ("Click [12].", {"type": "Click", "label": 12}),
    ("Type [3]; [Memory: 16GB] not typed", {"type": "Type", "label": 3, "content": "Memory: 16GB"}),
    ("<|begin_of_box|>Scroll [WINDOW]; [down]<|end_of_box|>", {"type": "Scroll", "target": "WINDOW",
                                                               "direction": "down"}),
])
def test_text_after_an_action_that_is_no_argument_still_parses(action: str, wire: dict) -> None:
    assert get_profile("glm-4.1v/web").parse(web("t", action)).action.wire() == wire


@pytest.mark.browser
def test_an_episode_types_nothing_for_a_surplus_argument_and_tells_the_model(browser, site, tmp_path) -> None:
    pytest.importorskip("playwright.sync_api")
    from glmv_agent.environments.web.environment import WebEnvironment
    from glmv_agent.environments.web.options import WebOptions

    replies = [web("type the name", "Type [0]; [Ann]; [Lee]"), web("done", "ANSWER; <content>ok</content>")]
    backend = ReplayBackend(replies)
    config = AgentConfig(max_steps=3, run_dir=tmp_path / "run", write_report=False)
    with WebEnvironment.from_browser(browser, WebOptions(url=site + "form.html", wait_seconds=0)) as env:
        result = Agent(get_profile("glm-4.5v/web"), backend, env, config).run("fill in the name")
        name = env.page.evaluate("() => document.getElementById('name').value")
        status = env.page.evaluate("() => document.getElementById('status').textContent")
    assert (name, status) == ("", "not submitted")
    assert result.steps[0].error_kind == "parse" and "surplus argument" in (result.steps[0].error or "")
    second_prompt = " ".join(m.text() for m in backend.requests[1])
    assert "surplus argument" in second_prompt
