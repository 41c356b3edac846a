"""PageAgent on a page the test drives itself (sync Playwright, real Chromium), against the fake OpenAI server:
the step calls click the right element, read typed answers, judge statements and locate elements, and every call
lands in the agent's run folder."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("playwright.sync_api")
from api_support import boxed, thousandths, web_reply  # noqa: E402
from web_support import browser_fixture, playwright_fixture, site_fixture  # noqa: E402, F401

from glmv_agent import ActFailed, Box, PageAgent  # noqa: E402
from glmv_agent.errors import ConfigError, ParseError  # noqa: E402
from tests.support import FakeOpenAIServer  # noqa: E402

pytestmark = pytest.mark.browser
VIEWPORT = (1000, 700)


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]}, device_scale_factor=2)
    tab = context.new_page()
    tab.goto(site + "shop.html")
    yield tab
    context.close()


def test_the_step_calls_on_your_own_page(page, tmp_path) -> None:
    search = thousandths(page.locator("#search").bounding_box(), VIEWPORT)
    script = [
        web_reply("Click [1]", "The Login button is [1]."),
        web_reply("ANSWER; <content>clicked Login</content>", "The page says logged in."),
        boxed("$12.50", "The total reads $12.50."),
        "<think>The cart line says 2 items.</think>The cart shows 2 items, not 3. "
        "<|begin_of_box|>false<|end_of_box|>",
        "The status line reads logged in. <|begin_of_box|>true<|end_of_box|>",
        boxed(str([search])),
    ]
    with FakeOpenAIServer(script) as server:
        with PageAgent(page, base_url=server.base_url, api_model="glm-4.5v", run_dir=tmp_path / "run") as agent:
            result = agent.act("click the Login button")
            assert page.locator("#status").text_content() == "logged in"
            assert result.status == "complete" and result.answer == "clicked Login"
            assert agent.query("the total price", schema=float) == 12.5
            assert agent.check("the cart shows 3 items") is False
            agent.assert_("the page says logged in")
            box = agent.locate("the search box")
        prompt = server.chat_requests[0].body["messages"][0]["content"][1]["text"]
    assert '[1]: <button> "Login"' in prompt  # the model saw the label it used on the Login button
    real = page.locator("#search").bounding_box()
    assert isinstance(box, Box)
    assert box.x == pytest.approx(real["x"], abs=1.5) and box.y == pytest.approx(real["y"], abs=1.5)
    assert box.width == pytest.approx(real["width"], abs=2) and box.height == pytest.approx(real["height"], abs=2)
    page.mouse.click(*box.center)  # CSS pixels of the viewport: what page.mouse takes
    assert page.evaluate("document.activeElement.id") == "search"

    run = tmp_path / "run"
    calls = [json.loads(line) for line in (run / "calls.jsonl").read_text().splitlines()]
    assert [(c["kind"], c["status"]) for c in calls] == [
        ("act", "complete"), ("query", "complete"), ("check", "complete"), ("assert", "complete"),
        ("locate", "complete")]
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    assert [s["index"] for s in steps] == [0, 1, 2, 3, 4, 5]
    assert steps[2]["action"] == {"type": "query", "question": "the total price", "text": "$12.50"}
    assert steps[3]["action"]["verdict"] is False and "2 items" in steps[3]["action"]["reason"]
    assert steps[5]["action"]["box_2d"] == search
    assert all((run / s["screenshot"]).is_file() for s in steps)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["steps"] == 6
    assert (run / "report.html").is_file()


def test_false_assertion_failed_act_and_unusable_answers(page, tmp_path) -> None:
    script = [
        "The status says logged out. <|begin_of_box|>false<|end_of_box|>",
        web_reply("Click [1]"), web_reply("Click [1]"),
        boxed("about twelve"), boxed("maybe"), boxed("a dozen"),
    ]
    with FakeOpenAIServer(script) as server:
        agent = PageAgent(page, base_url=server.base_url, api_model="m", run_dir=tmp_path / "run", act_steps=2)
        with pytest.raises(AssertionError, match="logged in: The status says logged out"):
            agent.assert_("the page says logged in")
        with pytest.raises(ActFailed, match="max_steps") as failed:
            agent.act("log in twice")
        assert failed.value.result.status == "max_steps"
        with pytest.raises(ParseError, match="no usable answer"):
            agent.query("the total", schema=float)
        agent.close()
    calls = [json.loads(line) for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert [c["status"] for c in calls] == ["failed", "max_steps", "failed"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and "3 of 3 calls did not complete" in summary["error"]


def test_no_endpoint_is_one_clear_error(page, monkeypatch) -> None:
    for name in ("GLMV_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="no model endpoint: pass base_url="):
        PageAgent(page)
    with pytest.raises(ConfigError, match="unknown model 'gpt'"):
        PageAgent(page, model="gpt", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="act_stepz"):
        PageAgent(page, base_url="http://127.0.0.1:9/v1", act_stepz=3)
