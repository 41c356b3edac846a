"""AutoGLM's Note and Call_API do what they say: Note keeps the page, Call_API answers its instruction from the
noted pages with a model call, and the answer reaches the model's later turns. On the simulated phone, with the
fake OpenAI server as the model."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from test_mobile_support import autoglm_run, key_fixture

from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.profiles import get_profile
from glmv_agent.types import Decision, HistoryItem, Observation, Platform
from tests.support import FakeOpenAIServer, Reply

key = key_fixture()
RESULT = "Settings and Markor"


def turn(call: str) -> str:
    return f"<think>next step</think><answer>{call}</answer>"


def test_note_and_call_api_answer_from_the_noted_pages(key: Path, tmp_path: Path) -> None:
    script: list[str | Reply] = [
        turn('do(action="Launch", app="Settings")'),
        turn('do(action="Note", message="True")'),
        turn('do(action="Launch", app="Markor")'),
        turn('do(action="Note", message="True")'),
        turn('do(action="Call_API", instruction="Which apps did I note?")'),
        Reply(content=f"<think>page 1 is Settings, page 2 is Markor</think><answer>{RESULT}</answer>",
              usage={"prompt_tokens": 900, "completion_tokens": 7}),  # the Call_API model call
        turn('do(action="Back")'),
        turn(f'finish(message="{RESULT}")'),
    ]
    with SimulatedPhone() as phone, FakeOpenAIServer(script) as server:
        result = autoglm_run(phone, key, server.base_url, "Tell me which apps I noted", tmp_path / "run", 10)
    assert result.status == "complete", result.error
    requests = server.chat_requests
    assert len(requests) == 8
    call = requests[5]
    text = "\n".join(part["text"] for message in call.body["messages"] for part in message["content"]
                     if part["type"] == "text")
    assert "Noted page 1 (app: Settings)" in text and "Noted page 2 (app: Markor)" in text
    assert "Instruction: Which apps did I note?" in text and "Tell me which apps I noted" in text
    # the noted pages are the screens the model saw when it noted them, then the current page
    assert call.image_urls() == [requests[1].image_urls()[-1], requests[3].image_urls()[-1],
                                 requests[4].image_urls()[-1]]
    later = [json.dumps(r.body["messages"], ensure_ascii=False) for r in requests[6:]]
    assert all(f"Call_API result: {RESULT}" in body for body in later)  # the next turn and every turn after it
    assert not any("did not change" in json.dumps(r.body, ensure_ascii=False) for r in requests)
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert steps[1]["detail"] == "noted this page (1 noted)" and steps[3]["detail"] == "noted this page (2 noted)"
    assert steps[4]["detail"] == f"Call_API answered: {RESULT}" and steps[4]["usage"]["prompt_tokens"] >= 900
    assert phone.state.keys == [4]  # only Back reached the phone; Note and Call_API sent nothing


def test_call_api_request_speaks_the_prompt_language() -> None:
    page = Image.new("RGB", (108, 240), "white")
    noted = [HistoryItem(decision=Decision(action={"space": "autoglm", "type": "Note", "message": "True"},
                                           thought="a list of settings"), screenshot=page, app="Settings")]
    current = Observation(screenshot=page, platform=Platform.MOBILE, app="Markor")
    zh = get_profile("autoglm-phone/mobile").render_call_api("任务", "总结", noted, current)
    (message,) = zh
    assert "记下的第1页（应用：Settings）。助手当时的想法：a list of settings" in message.text()
    assert "指令：总结" in message.text() and len(message.images()) == 2
