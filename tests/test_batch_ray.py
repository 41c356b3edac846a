"""``glmv-agent batch --ray local``: episodes as Ray actors on a local Ray instance, with the local runner's results
file, resume and shards, and every run folder back on the driver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from glmv_agent.batch import EpisodeOutcome
from glmv_agent.cli import main

ray = pytest.importorskip("ray")

CLICK = 'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
DONE = 'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}'


@pytest.fixture(scope="module")
def local_ray() -> Any:
    """One local Ray instance for the module (it takes seconds to start); the CLI joins it instead of starting one."""
    from glmv_agent.batch.ray_runner import connect

    started = connect("local")
    yield
    if started:
        ray.shutdown()


def replay(path: Path, replies: list[str]) -> str:
    path.write_text("\n".join(json.dumps({"content": reply}) for reply in replies), encoding="utf-8")
    return str(path)


def test_batch_on_ray_keeps_results_resume_and_shards(tmp_path: Path, local_ray: Any) -> None:
    good = replay(tmp_path / "good.jsonl", [CLICK, CLICK, DONE])
    dry = replay(tmp_path / "dry.jsonl", [CLICK])  # runs dry at step 2: an endpoint error for this episode only
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n".join(json.dumps({"id": f"t{i}", "task": "tap", "platform": "mobile",
                                           "replay": dry if i == 2 else good}) for i in range(6)), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    earlier = EpisodeOutcome(id="t0", status="complete", success=False, steps=7)  # finished by an earlier run
    (out / "results.jsonl").write_text(earlier.model_dump_json() + "\n", encoding="utf-8")
    command = ["batch", str(tasks), "--fake-screen", "--ray", "local", "--concurrency", "2", "--shard", "0/2",
               "--out", str(out), "--device", "phone-a", "--device", "phone-b"]
    assert main(command) == 4  # t2 ended in an endpoint error: the batch says so
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert sorted(by_id) == ["t0", "t2", "t4"] and len(lines) == 3  # shard 0/2 = t0, t2, t4; t0 not run again
    assert by_id["t0"]["steps"] == 7
    assert (by_id["t2"]["status"], by_id["t4"]["status"]) == ("error", "complete")
    assert {by_id["t2"]["slot"], by_id["t4"]["slot"]} <= {"phone-a", "phone-b"}
    folder = out / "episodes" / "t4"  # the actor's run folder, back on this machine
    assert by_id["t4"]["run_dir"] == str(folder)
    assert json.loads((folder / "summary.json").read_text())["status"] == "complete"
    steps = [json.loads(line) for line in (folder / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == 3
    for step in steps:
        with Image.open(folder / step["screenshot"]) as screenshot:
            assert screenshot.size == (1080, 2400)
    assert json.loads((out / "summary.json").read_text())["episodes"] == 3
    assert main([*command, "--allow-failures"]) == 0  # everything in the shard is finished: nothing runs again
    assert (out / "results.jsonl").read_text().count("\n") == 3


@pytest.mark.browser
def test_eval_on_ray_scores_every_episode_by_its_page(tmp_path: Path, local_ray: Any) -> None:
    script = replay(tmp_path / "replay.jsonl", ["Thought: t\nAction: Click [0]\nMemory_Updated: {}",
                                                "Thought: t\nAction: ANSWER; <content>done</content>\nMemory_Updated: {}"])
    out = tmp_path / "out"
    assert main(["eval", "miniwob", "--tasks", "click-button", "--episodes", "2", "--replay", script, "--out",
                 str(out), "--concurrency", "2", "--ray", "local"]) == 0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == ["click-button-seed0", "click-button-seed1"]
    assert all(line["status"] != "error" and line["verdict"]["source"] == "benchmark" for line in lines), lines
    assert all((out / "episodes" / line["id"] / "steps.jsonl").is_file() for line in lines)
