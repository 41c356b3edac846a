"""What the agent reports is what happened: claimed success without any effect, runs whose folder cannot be written,
termination signals, and --confirm with nobody to confirm. Real files, real signals, real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.openai_server import FakeOpenAIServer, Reply

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.errors import ConfigError
from glmv_agent.oversight.guard import Guard
from glmv_agent.oversight.policy import Policy
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment

CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
DONE = 'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}'
ANSWER = 'Memory: None\nReason: r\nAction: {"action_type": "answer", "text": "42"}'
CLI = [sys.executable, "-m", "glmv_agent.cli"]


def run(tmp_path: Path, replies: list[str], env: FakeEnvironment | None = None, guard: Guard | None = None):
    agent = Agent(get_profile("glm-4.5v/mobile"), ReplayBackend(replies), env or FakeEnvironment(),
                  AgentConfig(run_dir=tmp_path / "run", write_report=False), guard=guard)
    return agent.run("do it")


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def test_success_claimed_after_only_failed_actions_is_failed(tmp_path: Path) -> None:
    result = run(tmp_path, [CLICK, CLICK, DONE], FakeEnvironment(fail_on=frozenset({"click"})))
    assert result.status == "failed" and result.error is not None
    assert result.error.startswith("no action took effect") and "2 failed" in result.error
    assert summary(result.run_dir)["actions"] == {"executed": 0, "refused": 0, "failed": 2}


def test_success_claimed_after_only_refused_actions_is_failed(tmp_path: Path) -> None:
    guard = Guard(Policy.model_validate({"rule": [{"actions": ["click"], "decision": "deny"}]}))
    env = FakeEnvironment()
    result = run(tmp_path, [CLICK, DONE], env, guard)
    assert result.status == "failed" and "1 were refused" in (result.error or "")
    assert env.executed == [] and result.actions.refused == 1


def test_one_executed_action_or_none_attempted_keeps_complete(tmp_path: Path) -> None:
    env = FakeEnvironment(fail_on=frozenset({"click"}))
    assert run(tmp_path / "a", [CLICK, ANSWER, DONE], env).status == "complete"  # the answer took effect
    answered = run(tmp_path / "b", [DONE])
    assert answered.status == "complete" and answered.actions.executed == 0


def test_a_full_disk_mid_run_ends_the_run_with_one_line_and_keeps_what_was_written(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "screenshots").mkdir(parents=True)
    os.symlink("/dev/full", run_dir / "steps.jsonl")  # every write: ENOSPC, as on a full disk
    agent = Agent(get_profile("glm-4.5v/mobile"), ReplayBackend([CLICK, DONE]), FakeEnvironment(),
                  AgentConfig(run_dir=run_dir))
    result = agent.run("do it")
    assert result.status == "error"
    assert result.error == f"cannot write the run folder {run_dir}: No space left on device"
    assert (run_dir / "screenshots" / "step_000.png").is_file()  # written before the disk refused
    assert summary(run_dir)["status"] == "error" and summary(run_dir)["finished_at"]


def test_a_run_folder_that_cannot_be_created_is_a_config_error_before_any_model_call(tmp_path: Path) -> None:
    backend = ReplayBackend([CLICK])
    where = Path("/proc/glmv-agent-cannot-be-here")  # not writable, even for root
    with pytest.raises(ConfigError, match=f"cannot write the run folder {where}"):
        Agent(get_profile("glm-4.5v/mobile"), backend, FakeEnvironment(), AgentConfig(run_dir=where)).run("x")
    completed = subprocess.run([*CLI, "run", "x", "--platform", "mobile", "--fake-screen", "--replay",
                                str(_script(tmp_path, [CLICK])), "--out", str(where)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.strip().splitlines() == [f"error: cannot write the run folder {where}: "
                                                      f"{completed.stderr.split(': ')[-1].strip()}"]


def _script(tmp_path: Path, replies: list[str]) -> Path:
    path = tmp_path / "script.jsonl"
    path.write_text("".join(json.dumps({"content": r}) + "\n" for r in replies), encoding="utf-8")
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_termination_signal_ends_the_run_aborted_with_its_record_finished(tmp_path: Path, signum: int) -> None:
    run_dir = tmp_path / "run"
    with FakeOpenAIServer([Reply(content=CLICK)], default=Reply(content=CLICK, delay_s=60)) as server:
        process = subprocess.Popen(
            [*CLI, "run", "x", "--platform", "mobile", "--fake-screen", "--max-steps", "5", "--out", str(run_dir),
             "--base-url", server.base_url, "--api-model", "m", "--api-key", "k"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(server.chat_requests) < 2 and time.monotonic() < deadline:  # the second call hangs: mid-run
            time.sleep(0.05)
        assert len(server.chat_requests) == 2, process.stderr.read() if process.poll() is not None else ""
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    done = summary(run_dir)
    assert done["status"] == "aborted" and done["finished_at"]
    assert done["error"] == f"terminated by {signal.Signals(signum).name}"
    assert (run_dir / "report.html").is_file() and "status: aborted" in out


def test_confirm_without_a_terminal_stops_before_anything_starts(tmp_path: Path) -> None:
    with FakeOpenAIServer([Reply(content=CLICK)]) as server:
        completed = subprocess.run(
            [*CLI, "run", "x", "--platform", "mobile", "--fake-screen", "--confirm", "--out", str(tmp_path / "run"),
             "--base-url", server.base_url, "--api-model", "m", "--api-key", "k"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert server.chat_requests == []
    assert completed.returncode == 2 and completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1 and "--confirm" in completed.stderr
    assert not (tmp_path / "run").exists()


def test_no_platform_can_show_a_secret_value_to_the_model(tmp_path: Path) -> None:
    """A device that echoes a typed secret back (app name, URL, notes) on any platform: the prompt never holds it."""
    from glmv_agent.oversight.secrets import SecretStore
    from glmv_agent.types import Observation

    class Echoing(FakeEnvironment):
        def observe(self) -> Observation:
            seen = super().observe()
            return seen.model_copy(update={"app": "Bank s3cr3t-Pa55", "url": "https://x.test/?pw=s3cr3t-Pa55",
                                           "notes": ["field now holds s3cr3t-Pa55"]})

    typed = 'Memory: None\nReason: r\nAction: {"action_type": "input_text", "text": "<secret>PW</secret>", ' \
            '"box_2d": [[1,2,3,4]], "override": true}'
    backend = ReplayBackend([typed, DONE])
    env = Echoing()
    agent = Agent(get_profile("glm-4.5v/mobile"), backend, env, AgentConfig(run_dir=tmp_path / "run"),
                  secrets=SecretStore({"PW": "s3cr3t-Pa55"}))
    assert agent.run("log in").status == "complete"
    assert env.executed[0][2]["text"] == "s3cr3t-Pa55"  # the device got the value
    sent = "\n".join(message.text() for request in backend.requests for message in request)
    assert "field now holds" in sent and "s3cr3t-Pa55" not in sent


def test_a_secret_written_into_the_task_becomes_its_placeholder_everywhere(tmp_path: Path) -> None:
    from glmv_agent.oversight.secrets import SecretStore

    backend = ReplayBackend([DONE])
    agent = Agent(get_profile("glm-4.5v/mobile"), backend, FakeEnvironment(),
                  AgentConfig(runs_root=tmp_path), secrets=SecretStore({"PW": "hunter2"}))
    result = agent.run("Log in with password hunter2 please")
    assert result.status == "complete" and "hunter2" not in str(result.run_dir)
    sent = "\n".join(message.text() for request in backend.requests for message in request)
    assert "<secret>PW</secret>" in sent and "hunter2" not in sent
    for path in result.run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html"):
            assert "hunter2" not in path.read_text(encoding="utf-8"), path
