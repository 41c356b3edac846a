"""The loop end to end with the replay backend and the in-memory environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.errors import BackendError
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Platform


def mobile(action: str, memory: str = "None") -> str:
    return f"Memory: {memory}\nReason: because\nAction: {action}"


def run(tmp_path: Path, key: str, responses: list[str], env: FakeEnvironment | None = None, **config):
    env = env or FakeEnvironment()
    backend = ReplayBackend(responses)
    agent = Agent(get_profile(key), backend, env, AgentConfig(run_dir=tmp_path / "run", **config))
    return agent.run("do the thing"), env, backend


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_complete_episode_executes_at_exact_pixels_and_records_everything(tmp_path: Path) -> None:
    result, env, _ = run(tmp_path, "glm-4.5v/mobile", [
        mobile('{"action_type": "click", "box_2d": [[100,200,300,400]]}'),
        mobile('{"action_type": "status", "goal_status": "complete"}'),
    ])
    assert result.status == "complete"
    # box centre (200, 300) in thousandths of 1080x2400 -> pixel (216, 720)
    assert env.executed == [("click", [(216, 720)], {"type": "click", "box_2d": [100, 200, 300, 400]})]
    steps = lines(result.run_dir / "steps.jsonl")
    assert [s["action"]["type"] for s in steps] == ["click", "status"]
    assert steps[0]["pixels"] == [[216, 720]]
    assert (result.run_dir / steps[0]["screenshot"]).is_file()
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["steps"] == 2


def test_desktop_fail_is_infeasible(tmp_path: Path) -> None:
    env = FakeEnvironment(platform=Platform.DESKTOP, size=(1920, 1080))
    result, env, _ = run(tmp_path, "glm-4.1v/desktop", ["left_click(start_box='[500,500]')\nMemory:\n[]", "FAIL()"], env)
    assert result.status == "infeasible"
    assert env.executed[0][1] == [(960, 540)]


def test_mobile_answer_is_kept_until_status(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path, "glm-4.1v/mobile", [
        mobile('{"action_type": "answer", "text": "HomeNet"}'),
        mobile('{"action_type": "status", "goal_status": "complete"}'),
    ])
    assert (result.status, result.answer) == ("complete", "HomeNet")


def test_web_answer_ends_with_answer_text(tmp_path: Path) -> None:
    env = FakeEnvironment(platform=Platform.WEB, size=(1280, 800))
    result, _, _ = run(tmp_path, "glm-4.5v/web", [
        "Thought: found it\nAction: ANSWER; <content>Guatemala</content>\nMemory_Updated: {}"], env)
    assert (result.status, result.answer) == ("complete", "Guatemala")


def test_autoglm_finish_message_is_the_answer(tmp_path: Path) -> None:
    result, env, _ = run(tmp_path, "autoglm-phone/mobile", [
        '<think>t</think><answer>do(action="Tap", element=[500,500])</answer>',
        '<think>t</think><answer>finish(message="All set")</answer>',
    ])
    assert (result.status, result.answer) == ("complete", "All set")
    assert env.executed[0][1] == [(540, 1200)]


def test_parse_error_is_fed_back_and_the_model_recovers(tmp_path: Path) -> None:
    result, env, backend = run(tmp_path, "glm-4.5v/mobile", [
        "I am not sure what to do",
        mobile('{"action_type": "navigate_back"}'),
        mobile('{"action_type": "status", "goal_status": "complete"}'),
    ])
    assert result.status == "complete"
    assert [e[0] for e in env.executed] == ["navigate_back"]
    retry_prompt = backend.requests[1][0].text()
    assert "could not be used" in retry_prompt and "no {" in retry_prompt
    assert "could not be used" not in backend.requests[2][0].text()  # the note is dropped once the model recovers
    errors = [s for s in lines(result.run_dir / "steps.jsonl") if s["error"]]
    assert len(errors) == 1 and errors[0]["error_kind"] == "parse" and errors[0]["raw_text"] == "I am not sure what to do"


def test_reasks_exhausted_end_the_episode_as_failed(tmp_path: Path) -> None:
    result, env, backend = run(tmp_path, "glm-4.5v/mobile", ["nope", "still nope", "nope again"], max_reasks=2)
    assert result.status == "failed"
    assert "no usable action after 3 tries" in (result.error or "")
    assert env.executed == [] and len(backend.requests) == 3
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["model_calls"] == 3


def test_max_steps(tmp_path: Path) -> None:
    result, env, _ = run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "wait"}')] * 5, max_steps=3)
    assert result.status == "max_steps" and len(env.executed) == 3


def test_step_error_is_reported_to_the_model_and_the_run_continues(tmp_path: Path) -> None:
    env = FakeEnvironment(fail_on=frozenset({"open_app"}))
    result, env, backend = run(tmp_path, "glm-4.5v/mobile", [
        mobile('{"action_type": "open_app", "app_name": "Nowhere"}'),
        mobile('{"action_type": "status", "goal_status": "infeasible"}'),
    ], env)
    assert result.status == "infeasible"
    assert "The last action failed: open_app failed on the fake screen" in backend.requests[1][0].text()
    assert lines(result.run_dir / "steps.jsonl")[0]["error_kind"] == "StepError"


def test_action_of_another_grammar_is_not_executed(tmp_path: Path) -> None:
    env = FakeEnvironment(platform=Platform.MOBILE)
    result, env, backend = run(tmp_path, "glm-4.5v/desktop", [
        "left_click(start_box='[1,1]')", "DONE()"], env)
    # Nothing ran, so the model's DONE is not taken as success.
    assert env.executed == [] and result.status == "failed" and "no action took effect" in (result.error or "")
    assert "not supported by the mobile environment" in backend.requests[1][0].text()


def test_backend_failure_ends_with_error_and_keeps_the_trajectory(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "wait"}')])
    assert result.status == "error" and "replay script exhausted" in (result.error or "")
    assert len(lines(result.run_dir / "steps.jsonl")) == 2


def test_ctrl_c_ends_cleanly_with_the_trajectory_flushed(tmp_path: Path) -> None:
    class Interrupting(ReplayBackend):
        def generate(self, messages, params):  # noqa: ANN001, ANN201
            if self.position == 1:
                raise KeyboardInterrupt
            return super().generate(messages, params)

    agent = Agent(get_profile("glm-4.5v/mobile"), Interrupting([mobile('{"action_type": "wait"}')]),
                  FakeEnvironment(), AgentConfig(run_dir=tmp_path / "run"))
    result = agent.run("task")
    assert result.status == "aborted"
    assert len(lines(result.run_dir / "steps.jsonl")) == 1
    assert json.loads((result.run_dir / "summary.json").read_text())["status"] == "aborted"


def test_replay_backend_reads_jsonl_and_recorded_runs(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text('{"content": "a"}\n\n{"content": "b"}\n', encoding="utf-8")
    assert ReplayBackend.from_file(script).responses == ["a", "b"]
    result, _, _ = run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "status", "goal_status": "complete"}')])
    again = ReplayBackend.from_file(result.run_dir)
    assert again.responses == [mobile('{"action_type": "status", "goal_status": "complete"}')]
    with pytest.raises(BackendError):
        ReplayBackend([]).generate([], None)  # type: ignore[arg-type]


def test_async_agent_runs_the_same_machine(tmp_path: Path) -> None:
    import asyncio

    from glmv_agent.agent import AsyncAgent

    class AsyncReplay(ReplayBackend):
        async def agenerate(self, messages, params):  # noqa: ANN001, ANN201
            await asyncio.sleep(0)
            return self.generate(messages, params)

    env = FakeEnvironment()
    agent = AsyncAgent(get_profile("glm-4.5v/mobile"), AsyncReplay([
        mobile('{"action_type": "click", "box_2d": [[100,200,300,400]]}'),
        mobile('{"action_type": "status", "goal_status": "complete"}'),
    ]), env, AgentConfig(run_dir=tmp_path / "run"))
    result = asyncio.run(agent.arun("task"))
    assert result.status == "complete" and env.executed[0][1] == [(216, 720)]
    assert len(lines(result.run_dir / "steps.jsonl")) == 2


def test_unexpected_driver_bug_ends_with_error_and_keeps_trajectory(tmp_path: Path) -> None:
    class Buggy(FakeEnvironment):
        def execute(self, action, observation):  # noqa: ANN001, ANN201
            raise RuntimeError("driver bug")

    result, _, _ = run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "navigate_home"}')], Buggy())
    assert result.status == "error" and "unexpected RuntimeError: driver bug" in (result.error or "")
    assert json.loads((result.run_dir / "summary.json").read_text())["status"] == "error"


def test_a_run_folder_is_never_mixed_with_another_run(tmp_path: Path) -> None:
    from glmv_agent.errors import ConfigError

    run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "status", "goal_status": "complete"}')])
    with pytest.raises(ConfigError, match="already holds a run"):
        run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "status", "goal_status": "complete"}')])
