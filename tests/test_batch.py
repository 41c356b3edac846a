"""Batch runs of replayed episodes: concurrency, device slots, failures isolated, resume after a kill, task formats."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from glmv_agent.agent import AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeParts, load_tasks, shard, summarize
from glmv_agent.errors import ConfigError
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment

CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
WAIT = 'Memory: None\nReason: r\nAction: {"action_type": "wait"}'
DONE = 'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}'


class SlowReplay(ReplayBackend):
    delay = 0.0

    def generate(self, messages, params):  # noqa: ANN001, ANN201
        time.sleep(self.delay)
        return super().generate(messages, params)


def builder(scripts: dict[str, list[str]], broken: set[str] = frozenset(), delay: float = 0.0, seen=None):  # noqa: ANN001, ANN201
    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        backend = SlowReplay(scripts[task.id])
        backend.delay = delay

        def make() -> FakeEnvironment:
            if task.id in broken:
                raise RuntimeError("device unplugged")
            if seen is not None:
                seen.append((task.id, slot, threading.current_thread().name))
            return FakeEnvironment()

        return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=backend, make_environment=make)

    return build


def test_batch_isolates_failures_and_results_match_trajectories(tmp_path: Path) -> None:
    tasks = [BatchTask(id=f"t{i}", task=f"task {i}", platform="mobile") for i in range(6)]
    scripts = {f"t{i}": [CLICK, DONE] for i in range(6)}
    scripts["t2"] = [CLICK]  # replay runs dry: an endpoint error for this episode only
    runner = BatchRunner(builder(scripts, broken={"t4"}), tmp_path, concurrency=3)
    outcomes = asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
    status = {o.id: o.status for o in outcomes}
    assert status == {"t0": "complete", "t1": "complete", "t2": "error", "t3": "complete", "t4": "error",
                      "t5": "complete"}
    by_id = {o.id: o for o in outcomes}
    assert "device unplugged" in (by_id["t4"].error or "")
    for outcome in outcomes:
        if outcome.run_dir:
            summary = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
            assert summary["status"] == outcome.status and summary["model_calls"] == outcome.model_calls
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == [f"t{i}" for i in range(6)]
    summary = summarize(outcomes)
    # no check judges these tasks: four claims of "complete", no success counted on the model's word
    assert summary.claimed_complete == 4 and summary.by_status == {"complete": 4, "error": 2}
    assert (summary.succeeded, summary.unverified, summary.success_rate) == (0, 6, None)


class MeetingReplay(ReplayBackend):
    """Each episode's first model call waits at ``meeting`` until every episode's first call has arrived: it passes
    only when all are in flight at once (serial episodes break the barrier after its timeout instead)."""

    meeting: threading.Barrier

    def generate(self, messages, params):  # noqa: ANN001, ANN201
        if self.position == 0:
            self.meeting.wait()
        return super().generate(messages, params)


def test_episodes_really_overlap(tmp_path: Path) -> None:
    tasks = [BatchTask(id=f"t{i}", task="t", platform="mobile") for i in range(4)]
    meeting = threading.Barrier(len(tasks), timeout=30)  # generous: the suite runs on a loaded 2-core machine

    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        backend = MeetingReplay([CLICK, DONE])
        backend.meeting = meeting
        return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=backend, make_environment=FakeEnvironment)

    outcomes = asyncio.run(BatchRunner(build, tmp_path, concurrency=4).arun(tasks, AgentConfig(write_report=False)))
    assert {o.id: (o.status, o.error) for o in outcomes} == {t.id: ("complete", None) for t in tasks}
    assert not meeting.broken  # all four episodes were waiting on the model at the same moment


def test_device_slots_are_never_shared(tmp_path: Path) -> None:
    tasks = [BatchTask(id=f"t{i}", task="t", platform="mobile") for i in range(6)]
    scripts = {t.id: [CLICK, DONE] for t in tasks}
    seen: list[tuple[str, str | None, str]] = []
    runner = BatchRunner(builder(scripts, delay=0.05, seen=seen), tmp_path, concurrency=8, slots=["phoneA", "phoneB"])
    outcomes = asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
    assert runner.concurrency == 2
    assert {o.slot for o in outcomes} == {"phoneA", "phoneB"}
    assert all(o.status == "complete" for o in outcomes)


def test_task_formats_and_shards(tmp_path: Path) -> None:
    web = tmp_path / "webvoyager.jsonl"
    web.write_text(json.dumps({"web_name": "Allrecipes", "id": "Allrecipes--0", "ques": "Find a recipe",
                               "web": "https://www.allrecipes.com/"}) + "\n", encoding="utf-8")
    (task,) = load_tasks(web)
    assert (task.id, task.task, task.platform, task.url) == ("Allrecipes--0", "Find a recipe", "web",
                                                             "https://www.allrecipes.com/")
    android = tmp_path / "aw.jsonl"
    android.write_text(json.dumps({"task_name": "ContactsAddContact", "goal": "Add a contact"}) + "\n")
    assert load_tasks(android, defaults={"model": "glm-4.1v"})[0].model_dump(include={"id", "platform", "model"}) == {
        "id": "ContactsAddContact", "platform": "mobile", "model": "glm-4.1v"}
    ours = tmp_path / "ours.jsonl"
    ours.write_text("\n".join(json.dumps({"id": f"x{i}", "task": "t", "check": {"answer": "42"}}) for i in range(5)))
    tasks = load_tasks(ours)
    assert [t.id for t in shard(tasks, "1/2")] == ["x1", "x3"] and tasks[0].check.answer == "42"
    with pytest.raises(ConfigError, match="i/n"):
        shard(tasks, "2/2")
    ours.write_text('{"id": "a", "task": "t"}\n{"id": "a", "task": "u"}\n')
    with pytest.raises(ConfigError, match="duplicate task ids"):
        load_tasks(ours)
    ours.write_text('{"id": "a"}\n')
    with pytest.raises(ConfigError, match=":1: not a valid task line"):
        load_tasks(ours)


def test_answer_check_decides_success(tmp_path: Path) -> None:
    answer = 'Memory: None\nReason: r\nAction: {"action_type": "answer", "text": "It is 42"}'
    tasks = [BatchTask(id="good", task="t", platform="mobile", check={"answer": r"\b42\b"}),
             BatchTask(id="bad", task="t", platform="mobile", check={"answer": r"\b43\b"})]
    scripts = {"good": [answer, DONE], "bad": [answer, DONE]}
    outcomes = asyncio.run(BatchRunner(builder(scripts), tmp_path).arun(tasks, AgentConfig(write_report=False)))
    assert {o.id: o.success for o in outcomes} == {"good": True, "bad": False}


def test_cli_batch_resumes_after_being_killed(tmp_path: Path) -> None:
    script = tmp_path / "slow.jsonl"
    script.write_text("\n".join(json.dumps({"content": c}) for c in [WAIT] * 60 + [DONE]), encoding="utf-8")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n".join(json.dumps({"id": f"t{i}", "task": "wait a lot", "platform": "mobile",
                                           "replay": str(script), "max_steps": 100}) for i in range(5)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "glmv_agent.cli", "batch", str(tasks), "--concurrency", "1", "--out", str(out),
               "--fake-screen"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    results = out / "results.jsonl"
    third = out / "episodes" / "t2" / "steps.jsonl"  # concurrency 1: t0 and t1 are done once t2 is under way
    deadline = time.monotonic() + 120
    while not (third.is_file() and third.stat().st_size > 0):
        assert time.monotonic() < deadline and proc.poll() is None, "batch did not progress"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {json.loads(line)["id"] for line in results.read_text().splitlines() if line.strip()}
    assert first == {"t0", "t1"}
    resumed = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    resumed = time.monotonic() - resumed
    assert done.returncode == 0, done.stderr
    final = [json.loads(line) for line in results.read_text().splitlines()]
    ids = [line["id"] for line in final]
    assert sorted(set(ids)) == [f"t{i}" for i in range(5)] and len(ids) == len(set(ids))  # none ran twice
    assert all(line["status"] == "complete" for line in final)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 5 and 0 < summary["wall_s"] < resumed  # the counts are all results', the time this run's
    assert list((out / "episodes").glob("*.interrupted-1"))  # the killed episode's partial run, set aside


def test_a_results_line_cut_off_by_a_kill_is_repaired(tmp_path: Path) -> None:
    tasks = [BatchTask(id=f"t{i}", task="t", platform="mobile") for i in range(3)]
    scripts = {t.id: [DONE] for t in tasks}
    runner = BatchRunner(builder(scripts), tmp_path, concurrency=1)
    asyncio.run(runner.arun(tasks[:1], AgentConfig(write_report=False)))
    with (tmp_path / "results.jsonl").open("a") as handle:
        handle.write('{"id": "t1", "status": "compl')  # SIGKILL mid-write
    asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == ["t0", "t1", "t2"]


def test_task_ids_that_clash_as_folders_are_refused(tmp_path: Path) -> None:
    tasks = [BatchTask(id="a b", task="t"), BatchTask(id="a/b", task="t")]
    with pytest.raises(ConfigError, match="duplicate task ids"):
        asyncio.run(BatchRunner(builder({}), tmp_path).arun(tasks))
    with pytest.raises(ConfigError, match="cannot name a folder"):
        asyncio.run(BatchRunner(builder({}), tmp_path).arun([BatchTask(id="..", task="t")]))
