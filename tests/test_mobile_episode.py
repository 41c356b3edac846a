"""Replayed episodes through the agent loop on the simulated phone (GLM-4.5V and AutoGLM-Phone grammars),
including a phone that drops off mid-episode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_mobile_support import key_fixture, make_env

from glmv_agent.agent import Agent, AgentConfig, EpisodeResult
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.environments.android.environment import MobileEnvironment
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.errors import GlmvError
from glmv_agent.profiles import get_profile

TEXT = "会议 9:00 — naïve 😀 ; & | $(rm -rf /) `id` 'q' \"dq\" \\ 100%s"


key = key_fixture()


def glm(action: dict) -> str:
    return f"Memory: None\nReason: next step\nAction: {json.dumps(action, ensure_ascii=False)}"


def autoglm(call: str) -> str:
    return f"<think>next step</think><answer>{call}</answer>"


def run(env: MobileEnvironment, profile: str, responses: list[str], run_dir: Path) -> EpisodeResult:
    agent = Agent(profile=get_profile(profile), backend=ReplayBackend(responses), environment=env,
                  config=AgentConfig(max_steps=10, run_dir=run_dir, write_report=False))
    return agent.run("write the note and look further down")


def test_glm45v_episode_on_the_simulated_phone(key: Path, tmp_path: Path) -> None:
    with SimulatedPhone(adb_keyboard=True) as phone:
        env = make_env(phone, key, hide_keyboard=True)  # else the keyboard would take the full-screen swipe
        result = run(env, "glm-4.5v/mobile", [
            glm({"action_type": "open_app", "app_name": "Markor"}),
            glm({"action_type": "input_text", "text": TEXT, "box_2d": [[100, 110, 900, 160]], "override": True}),
            glm({"action_type": "click", "box_2d": [[40, 175, 480, 195]]}),  # the Save button
            glm({"action_type": "swipe", "direction": "up"}),
            glm({"action_type": "answer", "text": "saved"}),
            glm({"action_type": "status", "goal_status": "complete"}),
        ], tmp_path / "run")
        env.close()
    assert result.status == "complete" and result.answer == "saved", result.error
    assert phone.state.submitted == [TEXT + "\n"]  # byte-exact, plus the protocol's Enter (a new line here)
    assert phone.state.notes[0] == TEXT + "\n"
    assert phone.state.scroll["net.gsantner.markor"] > 0
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [s["app"] for s in steps[:3]] == [None, "Markor", "Markor"]
    assert steps[2]["pixels"] == [[280, 444]]


def test_autoglm_episode_on_the_simulated_phone(key: Path, tmp_path: Path) -> None:
    with SimulatedPhone(adb_keyboard=True) as phone:
        env = make_env(phone, key)
        backend_text = [
            autoglm('do(action="Launch", app="Chrome")'),
            autoglm('do(action="Tap", element=[500,135])'),
            autoglm(f'do(action="Type", text={json.dumps(TEXT, ensure_ascii=False)})'),
            autoglm('do(action="Back")'),
            autoglm('finish(message="typed it")'),
        ]
        result = run(env, "autoglm-phone/mobile", backend_text, tmp_path / "run")
        env.close()
    assert result.status == "complete" and result.answer == "typed it", result.error
    assert phone.state.fields["com.android.chrome"] == TEXT  # Type replaces the text, no Enter
    assert not phone.state.keyboard_shown  # Back closed the keyboard
    assert phone.state.foreground == "com.android.chrome"


def test_phone_that_drops_briefly_is_reconnected_and_the_episode_finishes(key: Path, tmp_path: Path) -> None:
    with SimulatedPhone() as phone:
        env = make_env(phone, key)
        phone.drop_at(1, down_for=0.1)  # the next command (the first observation) finds the connection gone
        result = run(env, "glm-4.5v/mobile", [
            glm({"action_type": "open_app", "app_name": "Settings"}),
            glm({"action_type": "click", "box_2d": [[0, 110, 1000, 140]]}),  # the Wi-Fi row
            glm({"action_type": "status", "goal_status": "complete"}),
        ], tmp_path / "run")
        env.close()
    assert result.status == "complete", result.error
    assert phone.state.wifi is True
    assert sum(r.dropped for r in phone.records) == 1


def test_dropped_action_is_reported_to_the_model_after_reconnecting(key: Path, tmp_path: Path) -> None:
    with SimulatedPhone() as phone:
        env = make_env(phone, key)

        def drop_before_the_click(action: object, _observation: object) -> None:
            if getattr(action, "type", "") == "click":
                phone.drop_at(1)

        agent = Agent(get_profile("glm-4.5v/mobile"), ReplayBackend([
            glm({"action_type": "click", "box_2d": [[0, 0, 100, 100]]}),
            glm({"action_type": "status", "goal_status": "complete"}),
        ]), env, AgentConfig(max_steps=5, run_dir=tmp_path / "run", write_report=False))
        agent.hooks.before_action = drop_before_the_click
        result = agent.run("tap")
        env.close()
    # The model said "complete", but its only action never ran: the outcome says so.
    assert result.status == "failed" and "no action took effect" in (result.error or "")
    assert result.steps[0].error and "may or may not have happened" in result.steps[0].error
    assert phone.state.taps == []  # the tap never ran on the phone


def test_phone_that_stays_away_ends_the_run_with_a_clear_error_and_keeps_the_steps(key: Path,
                                                                                    tmp_path: Path) -> None:
    with SimulatedPhone() as phone:
        env = make_env(phone, key)
        phone.drop_at(6, down_for=float("inf"))  # after the first step: the phone is gone for good
        result = run(env, "glm-4.5v/mobile", [
            glm({"action_type": "navigate_home"}),
            glm({"action_type": "navigate_home"}),
            glm({"action_type": "status", "goal_status": "complete"}),
        ], tmp_path / "run")
        env.close()
    assert result.status == "error"
    assert "reconnect attempts failed" in (result.error or "")
    steps = (result.run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(steps) >= 1 and json.loads(steps[0])["action"]["type"] == "navigate_home"
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "error"


def test_typed_text_never_reaches_the_log_when_the_connection_drops_mid_typing(
        key: Path, caplog: pytest.LogCaptureFixture) -> None:
    import base64
    import logging

    secret = "Zx9-hunter2-Pässwort"
    with SimulatedPhone(adb_keyboard=True) as phone, caplog.at_level(logging.DEBUG):
        env = make_env(phone, key)
        for _ in range(2):  # the second call shows the command sequence of a warm keyboard
            before = len(phone.records)
            env.input.type_text("warm", clear=True)
        sequence = [record.command for record in phone.records[before:]]
        typing_at = next(n for n, command in enumerate(sequence, start=1) if "ADB_INPUT_B64" in command)
        phone.drop_at(typing_at, down_for=0.1)  # exactly the command that carries the text
        with pytest.raises(GlmvError) as caught:
            env.input.type_text(secret, clear=True)
        env.close()
    assert "may or may not have happened" in str(caught.value)
    assert "ADB connection" in caplog.text  # the drop was logged...
    for form in (secret, base64.b64encode(secret.encode()).decode()):
        assert form not in caplog.text + str(caught.value)  # ...without the text it carried
