"""The assistant panel in real headless Chromium against the real server: send a task, ask a question, Stop a
task, Approve and Deny held actions. The phone is the in-memory screen; the model's answers are replayed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")
from assistant_support import COMPLETE, GatedBackend, answer, click, prompt_text, running_panel  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402
from web_support import browser_fixture, playwright_fixture  # noqa: E402, F401

from glmv_agent.assistant.task import STOP_AUDIT  # noqa: E402
from glmv_agent.backends.replay import ReplayBackend  # noqa: E402

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # generous: the suite runs on a shared 2-core machine


@pytest.fixture(name="page")
def page_fixture(browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def send(page: Page, text: str) -> None:
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def steps_of(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def test_a_task_streams_its_steps_then_a_question_is_answered_without_acting(page, tmp_path):
    replies = [
        "TASK", click(180, "The Wi-Fi row is at the top."), answer("HomeNet"), COMPLETE,  # message 1: a task
        "<think>The person asks about the last result.</think>ANSWER: The network is HomeNet.",  # 2: a question
        "<|begin_of_box|>TASK<|end_of_box|>", COMPLETE,  # message 3: a task that refers back
    ]
    with running_panel(tmp_path / "conv", ReplayBackend(replies)) as run:
        page.goto(run.url)
        send(page, "Tell me the Wi-Fi name")
        first = page.locator("#turn-1")
        expect(first).to_have_attribute("data-status", "complete")
        expect(first).to_have_attribute("data-kind", "task")
        expect(first.locator(".steps > li.step")).to_have_count(3)
        expect(first.locator(".steps > li.step").first).to_contain_text("The Wi-Fi row is at the top.")
        expect(first.locator(".steps > li.step").first.locator(".action")).to_contain_text("click")
        expect(first.locator(".answer")).to_have_text("HomeNet")
        expect(page.locator("#screen")).to_be_visible()
        report = first.locator("a.report")
        shown = page.request.get(run.server.base + report.get_attribute("href"))  # with the panel's cookie
        assert shown.status == 200 and "Tell me the Wi-Fi name" in shown.text()
        assert [name for name, _, _ in run.env.executed] == ["click", "answer"]

        send(page, "Which network did you find?")
        second = page.locator("#turn-2")
        expect(second).to_have_attribute("data-status", "answered")
        expect(second).to_have_attribute("data-kind", "question")
        expect(second.locator(".answer")).to_have_text("The network is HomeNet.")
        expect(second.locator(".steps > li")).to_have_count(0)
        assert len(run.env.executed) == 2  # the question ran nothing

        send(page, "Now do the same again")
        expect(page.locator("#turn-3")).to_have_attribute("data-status", "complete")
    requests = run.backend.requests
    earlier = '1. task "Tell me the Wi-Fi name": ended complete, answer "HomeNet"'
    assert earlier in prompt_text(requests[4])  # the question's routing call knows the first task
    task_prompt = prompt_text(requests[6])  # the third message's first agent step
    assert "Earlier in this conversation" in task_prompt and earlier in task_prompt
    assert '2. question "Which network did you find?": you answered "The network is HomeNet."' in task_prompt
    folders = sorted(p.name for p in run.folder.iterdir() if p.is_dir())
    assert folders == ["01-tell-me-the-wi-fi-name", "03-now-do-the-same-again", "questions"]
    turns = [json.loads(line) for line in (run.folder / "conversation.jsonl").read_text().splitlines()]
    assert [(t["kind"], t["status"]) for t in turns] == [("task", "complete"), ("question", "answered"),
                                                         ("task", "complete")]


def test_stop_mid_task_aborts_it_and_keeps_its_run_folder(page, tmp_path):
    replies = ["TASK", click(180), click(400), COMPLETE]
    backend = GatedBackend(replies, hold_at=2)  # the second step's model call waits for the test
    with running_panel(tmp_path / "conv", backend) as run:
        page.goto(run.url)
        send(page, "Open the second row")
        expect(page.locator("#status")).to_contain_text("step 1: waiting for the model")
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#status")).to_have_attribute("data-state", "stopping")
        backend.gate.set()  # the model now answers with a click, which must not run
        turn = page.locator("#turn-1")
        expect(turn).to_have_attribute("data-status", "aborted")
        expect(turn.locator(".end")).to_contain_text("stopped from the assistant")
        assert [name for name, _, _ in run.env.executed] == ["click"]
        run_dir = run.folder / "01-open-the-second-row"
    assert summary_of(run_dir)["status"] == "aborted"
    records = steps_of(run_dir)
    assert len(records) == 2 and records[1]["error_kind"] == "blocked" and STOP_AUDIT in records[1]["audit"]
    assert (run_dir / "report.html").is_file()


def test_held_actions_run_when_approved_and_not_when_denied(page, tmp_path):
    replies = ["TASK", click(180, "First row."), click(600, "Now the lower row."), COMPLETE]
    with running_panel(tmp_path / "conv", ReplayBackend(replies), confirm=True) as run:
        page.goto(run.url)
        send(page, "Tap two rows")
        hold = page.get_by_role("alertdialog")
        expect(hold).to_be_visible()
        expect(page.locator("#caption")).to_contain_text("planned (step 0): click")
        assert run.env.executed == []  # held: nothing ran yet
        page.get_by_role("button", name="Approve").click()
        turn = page.locator("#turn-1")
        expect(turn.locator(".decision")).to_have_count(1)
        expect(page.locator("#caption")).to_contain_text("planned (step 1): click")
        expect(hold).to_be_visible()
        page.get_by_role("button", name="Deny").click()
        expect(turn).to_have_attribute("data-status", "complete")
        expect(turn.locator(".decision")).to_have_text(["you approved the held action",
                                                        "you denied the held action"])
        expect(hold).to_be_hidden()
        executed = run.env.executed
        run_dir = run.folder / "01-tap-two-rows"
    # only the approved one ran: the box's centre (500, 200) in thousandths of the 540x1200 screen
    assert [(name, points) for name, points, _ in executed] == [("click", [(270, 240)])]
    records = steps_of(run_dir)
    assert records[0]["audit"][-1] == "confirm: yes" and records[0]["pixels"] == [[270, 240]]
    assert records[1]["audit"][-1] == "confirm: no" and records[1]["error_kind"] == "blocked"
    assert records[1]["pixels"] == []


def test_the_panel_without_its_token_is_refused(page, tmp_path):
    with running_panel(tmp_path / "conv", ReplayBackend(["TASK"])) as run:
        response = page.goto(run.url.split("?")[0])
        assert response is not None and response.status == 403
        expect(page.get_by_role("button", name="Send")).to_have_count(0)
        assert run.session.conversation.turns == []
