"""Batch verdicts: a user's command or function judges the run folder, unjudged runs stay unverified, the model's
"complete" is never counted as success on its own."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from glmv_agent.agent import AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeOutcome, EpisodeParts, read_results, summarize
from glmv_agent.errors import ConfigError
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment

ANSWER = 'Memory: None\nReason: r\nAction: {"action_type": "answer", "text": "%s"}'
DONE = 'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}'

# A judge as a user would write it: reads the run folder's summary, passes when the answer says 42.
JUDGE = """
import json, pathlib, sys
summary = json.loads((pathlib.Path(sys.argv[-1]) / "summary.json").read_text())
print("answer was", summary.get("answer"))
sys.exit(0 if "42" in (summary.get("answer") or "") else 3)
"""
MODULE = """
import json, pathlib
def judge(run_dir):
    answer = json.loads((pathlib.Path(run_dir) / "summary.json").read_text()).get("answer") or ""
    return None if "unsure" in answer else "42" in answer
def broken(run_dir):
    raise RuntimeError("judge crashed")
def chatty(run_dir):
    return "yes"
"""


def _build(task: BatchTask, slot: str | None) -> EpisodeParts:
    answer = task.task  # the tests put the answer the model gives in the task text
    backend = ReplayBackend([ANSWER % answer, DONE])
    return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=backend, make_environment=FakeEnvironment)


def _run(tmp_path: Path, tasks: list[BatchTask], **kwargs) -> dict[str, EpisodeOutcome]:  # noqa: ANN003
    runner = BatchRunner(_build, tmp_path / "out", concurrency=2, **kwargs)
    outcomes = asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
    return {o.id: o for o in outcomes}


def test_a_command_judges_the_run_folder_without_a_shell(tmp_path: Path) -> None:
    judge = tmp_path / "judge.py"
    judge.write_text(JUDGE, encoding="utf-8")
    marker = tmp_path / "pwned"
    appended = {"command": [sys.executable, str(judge)]}  # the run folder comes last
    placed = {"command": [sys.executable, str(judge), f"; touch {marker}", "{run_dir}"]}
    tasks = [BatchTask(id="right", task="It is 42", platform="mobile", check=appended),
             BatchTask(id="wrong", task="It is 41", platform="mobile", check=appended),
             BatchTask(id="placed", task="42 again", platform="mobile", check=placed)]
    by_id = _run(tmp_path, tasks)
    assert all(o.status == "complete" for o in by_id.values())  # every model claims success...
    verdicts = {key: (o.verdict.result, o.success) for key, o in by_id.items()}
    assert verdicts == {"right": ("pass", True), "wrong": ("fail", False), "placed": ("pass", True)}  # ...not all are
    assert "exit 3: answer was It is 41" in by_id["wrong"].verdict.detail
    assert not marker.exists()  # "; touch" was one argument, never a shell command


def test_a_function_judges_and_can_decline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "judges_mod.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    tasks = [BatchTask(id="yes", task="42", platform="mobile", check={"function": "judges_mod:judge"}),
             BatchTask(id="no", task="7", platform="mobile", check={"function": "judges_mod:judge"}),
             BatchTask(id="unsure", task="unsure", platform="mobile", check={"function": "judges_mod:judge"}),
             BatchTask(id="crash", task="42", platform="mobile", check={"function": "judges_mod:broken"}),
             BatchTask(id="chatty", task="42", platform="mobile", check={"function": "judges_mod:chatty"}),
             BatchTask(id="both", task="42", platform="mobile",
                       check={"function": "judges_mod:judge", "answer": "^43$"})]
    by_id = _run(tmp_path, tasks)
    assert {k: o.verdict.result for k, o in by_id.items()} == {
        "yes": "pass", "no": "fail", "unsure": "unverified", "crash": "unverified", "chatty": "unverified",
        "both": "fail"}
    assert "judge crashed" in by_id["crash"].verdict.detail and "not a bool" in by_id["chatty"].verdict.detail
    summary = summarize(list(by_id.values()))
    assert (summary.succeeded, summary.failed, summary.unverified, summary.claimed_complete) == (1, 2, 3, 6)
    assert summary.success_rate == pytest.approx(1 / 3, abs=1e-4)  # passes over judged episodes only


def test_nothing_to_judge_is_unverified_not_success(tmp_path: Path) -> None:
    by_id = _run(tmp_path, [BatchTask(id="goal", task="done it", platform="mobile")])
    outcome = by_id["goal"]
    assert outcome.status == "complete" and not outcome.success
    assert outcome.verdict.result == "unverified" and "only a claim" in outcome.verdict.detail


def test_broken_judges_are_refused_before_anything_runs(tmp_path: Path) -> None:
    for check, message in [({"function": "no_such_module_x:judge"}, "cannot import"),
                           ({"function": "json:no_such_name"}, "has no callable"),
                           ({"command": ["no-such-judge-program-x"]}, "not found")]:
        with pytest.raises(ConfigError, match=message):
            _run(tmp_path, [BatchTask(id="t", task="42", platform="mobile", check=check)])
        assert not (tmp_path / "out" / "episodes").exists()
    with pytest.raises(ValueError, match="package.module:name|not a regular expression"):
        BatchTask(id="t", task="t", check={"answer": "(unclosed"})


def test_a_slow_command_is_stopped_and_leaves_the_episode_unverified(tmp_path: Path) -> None:
    check = {"command": [sys.executable, "-c", "import time; time.sleep(30)"], "timeout_s": 0.5}
    by_id = _run(tmp_path, [BatchTask(id="slow", task="42", platform="mobile", check=check)])
    assert by_id["slow"].verdict.result == "unverified" and "ran past 0.5 s" in by_id["slow"].verdict.detail


class Tagged(EpisodeOutcome):
    extra: str


def test_lines_with_more_fields_survive_resume_and_repair(tmp_path: Path) -> None:
    tasks = [BatchTask(id=f"t{i}", task="42", platform="mobile") for i in range(3)]

    def tag(task: BatchTask, outcome: EpisodeOutcome) -> EpisodeOutcome:
        return Tagged(**outcome.model_dump(), extra=f"for {task.id}")

    _run(tmp_path, tasks[:2], make_line=tag)
    results = tmp_path / "out" / "results.jsonl"
    with results.open("a") as handle:
        handle.write('{"id": "t2", "stat')  # a kill mid-write
    _run(tmp_path, tasks, make_line=tag)
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted((line["id"], line["extra"]) for line in lines) == [("t0", "for t0"), ("t1", "for t1"),
                                                                      ("t2", "for t2")]
    assert [o.id for o in read_results(results)] == [line["id"] for line in lines]


def test_cli_check_flags_judge_goal_lists(tmp_path: Path) -> None:
    (tmp_path / "judges_mod.py").write_text(MODULE, encoding="utf-8")
    script = tmp_path / "replay.jsonl"
    script.write_text("\n".join(json.dumps({"content": c}) for c in [ANSWER % "It is 42", DONE]), encoding="utf-8")
    goals = tmp_path / "goals.jsonl"  # AndroidWorld-style lines carry no check of their own
    goals.write_text("\n".join(json.dumps({"task_name": f"G{i}", "goal": "say 42"}) for i in range(2)))
    out = tmp_path / "out"
    env = {"PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parents[1]}", "PATH": "/usr/bin:/bin"}
    base = [sys.executable, "-m", "glmv_agent.cli", "batch", str(goals), "--fake-screen", "--replay", str(script)]
    done = subprocess.run([*base, "--out", str(out), "--check-function", "judges_mod:judge"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["verdict"]["result"] for line in (out / "results.jsonl").read_text().splitlines()] == [
        "pass", "pass"]
    plain = subprocess.run([*base, "--out", str(tmp_path / "plain")], capture_output=True, text=True, timeout=120,
                           env=env)
    assert plain.returncode == 0 and "2 episodes are unverified" in " ".join(plain.stdout.split())
    summary = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert (summary["succeeded"], summary["unverified"], summary["claimed_complete"]) == (0, 2, 2)
