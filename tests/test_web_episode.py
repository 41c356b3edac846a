"""Whole episodes through the agent loop (replayed GLM-4.5V replies) against real Chromium; the page's final state
is read back from the DOM."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent.agent import Agent, AgentConfig  # noqa: E402
from glmv_agent.backends.replay import ReplayBackend  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.geometry import pixel_to_model  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402

pytestmark = pytest.mark.browser


def web(thought: str, action: str) -> str:
    return f"<think>{thought}</think>Thought: {thought}\nAction: {action}\nMemory_Updated: {{}}"


def run(env, profile: str, replies: list[str], tmp_path: Path):
    backend = ReplayBackend(replies)
    config = AgentConfig(max_steps=len(replies) + 1, run_dir=tmp_path / "run", write_report=False)
    return Agent(get_profile(profile), backend, env, config).run("fill in the form"), backend


def value(env, script: str):
    return env.page.evaluate(script)


def test_set_of_marks_episode_fills_the_form(browser, site, tmp_path):
    replies = [
        web("type the name", "Type [0]; [张三]"),
        web("open the country list", "Click [2]"),
        web("France is row 12", "Click [12]"),
        web("press the counter", "Click [5]"),
        web("look further in the log", "Scroll [6]; [down]"),
        web("a label that is not there", "Click [99]"),
        web("confirm the deletion", "Click [9]"),
        web("all done", "ANSWER; <content>form filled</content>"),
    ]
    options = WebOptions(url=site + "form.html", wait_seconds=0)
    with WebEnvironment.from_browser(browser, options) as env:
        result, backend = run(env, "glm-4.5v/web", replies, tmp_path)
        assert (result.status, result.answer) == ("complete", "form filled")
        assert value(env, "() => document.getElementById('name').value") == "张三"
        assert value(env, "() => document.getElementById('status').textContent") == "submitted: 张三"
        assert value(env, "() => document.getElementById('country').value") == "fr"
        assert value(env, "() => document.getElementById('picked').textContent") == "fr"
        assert value(env, "() => document.getElementById('counter').textContent") == "Clicked 1"
        assert value(env, "() => document.getElementById('log').scrollTop") > 0
        assert value(env, "() => document.getElementById('answer').textContent") == "confirmed"
    errors = [step.error for step in result.steps]
    assert errors[:5] == [None] * 5 and errors[6:] == [None, None]
    assert "no label [99]" in errors[5] and result.steps[5].error_kind == "StepError"
    prompts = [" ".join(m.text() for m in request) for request in backend.requests]
    assert '[0]: <input> "Your name";' in prompts[0]
    assert '[12]: "France";' in prompts[2]  # the open list's rows are listed for the model
    assert 'A confirm dialog said "Delete everything?"; it was accepted.' in prompts[7]
    first_image = backend.requests[0][0].images()[0]
    assert first_image.size == (1280, 800)
    marked = result.steps[0].marked_screenshot
    assert marked is not None and (result.run_dir / marked).is_file()


def test_pixel_mode_episode_at_a_hidpi_scale(browser, site, tmp_path):
    options = WebOptions(url=site + "form.html", mode="pixel", device_scale_factor=2.0, wait_seconds=0)
    with WebEnvironment.from_browser(browser, options) as env:
        box = value(env, "() => { const r = document.getElementById('name').getBoundingClientRect();"
                         " return [(r.left + r.right) / 2, (r.top + r.bottom) / 2]; }")
        x, y = pixel_to_model(box[0] * 2, box[1] * 2, (2560, 1600))
        replies = [
            f"I click the name field.\n<|begin_of_box|>left_click(start_box='[{x},{y}]')<|end_of_box|>\nMemory:\n[]",
            "I type the name.\n<|begin_of_box|>type(content='Zoë 佐伊')<|end_of_box|>\nMemory:\n[]",
            "I submit.\n<|begin_of_box|>key(keys='Return')<|end_of_box|>\nMemory:\n[]",
            "Done.\n<|begin_of_box|>DONE()<|end_of_box|>\nMemory:\n[]",
        ]
        result, _ = run(env, "glm-4.5v/desktop", replies, tmp_path)
        assert result.status == "complete", result.error
        assert value(env, "() => document.getElementById('name').value") == "Zoë 佐伊"
        assert value(env, "() => document.getElementById('status').textContent") == "submitted: Zoë 佐伊"
    assert result.steps[0].screen_size == (2560, 1600)
    assert result.steps[0].pixels == [(int(x * 2560 / 1000), int(y * 1600 / 1000))]
