"""Batch runs in real headless Chromium: several browsers at once, each episode on its own thread."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from glmv_agent.agent import AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeParts
from glmv_agent.environments.web.demo import DEMO_ANSWER, DEMO_SCRIPT, SITE
from glmv_agent.environments.web.server import StaticServer
from glmv_agent.profiles import get_profile

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


def test_three_browsers_at_once_each_completes_its_episode(tmp_path: Path) -> None:
    from glmv_agent.environments.web.environment import WebEnvironment
    from glmv_agent.environments.web.options import WebOptions

    broken_script = DEMO_SCRIPT[:2] + ["Thought: hmm\nAction: Click [99]\nMemory_Updated: {}"] * 3
    with StaticServer(SITE) as server:
        def build(task: BatchTask, slot: str | None) -> EpisodeParts:
            options = WebOptions(url=task.url, executable_path=CHROMIUM, wait_seconds=0.0,
                                 allowed_domains=["127.0.0.1"])
            script = broken_script if task.id == "broken" else DEMO_SCRIPT
            return EpisodeParts(profile=get_profile("glm-4.5v/web"), backend=ReplayBackend(script),
                                make_environment=lambda: WebEnvironment(options))

        url = server.url + "index.html"
        tasks = [BatchTask(id=f"t{i}", task="find the tofu recipe", url=url, check={"answer": "25 minutes"})
                 for i in range(3)] + [BatchTask(id="broken", task="find the tofu recipe", url=url, max_steps=4)]
        runner = BatchRunner(build, tmp_path, concurrency=3)
        outcomes = asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
    by_id = {o.id: o for o in outcomes}
    assert all(by_id[f"t{i}"].success and by_id[f"t{i}"].answer == DEMO_ANSWER for i in range(3)), \
        [(o.id, o.status, o.error) for o in outcomes]
    assert by_id["broken"].status == "max_steps" and not by_id["broken"].success  # its failure stays its own
    for outcome in outcomes:  # results agree with each episode's own trajectory
        steps = [json.loads(line) for line in (Path(outcome.run_dir) / "steps.jsonl").read_text().splitlines()]
        assert len(steps) == outcome.model_calls
        assert steps[-1]["url"].startswith(server.url)
