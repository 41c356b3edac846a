"""Batch runs on several simulated phones at once (the real ADB protocol), one phone per episode at a time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from test_mobile_support import make_env

from glmv_agent.agent import AgentConfig
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.batch import BatchRunner, BatchTask, EpisodeParts
from glmv_agent.environments.android.keys import create_key
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.profiles import get_profile


def glm(action: dict) -> str:
    return f"Memory: None\nReason: next\nAction: {json.dumps(action, ensure_ascii=False)}"


def test_episodes_share_out_three_phones_and_each_phone_gets_its_own_text(tmp_path: Path) -> None:
    key = tmp_path / "adbkey"
    create_key(key)
    with SimulatedPhone(adb_keyboard=True) as a, SimulatedPhone(adb_keyboard=True) as b, \
            SimulatedPhone(adb_keyboard=True) as c:
        phones = {p.serial: p for p in (a, b, c)}

        def build(task: BatchTask, slot: str | None) -> EpisodeParts:
            text = f"note {task.id} 你好 $(x)"
            script = [glm({"action_type": "open_app", "app_name": "Markor"}),
                      glm({"action_type": "input_text", "text": text, "box_2d": [[100, 110, 900, 160]],
                           "override": True}),
                      glm({"action_type": "status", "goal_status": "complete"})]
            return EpisodeParts(profile=get_profile("glm-4.5v/mobile"), backend=ReplayBackend(script),
                                make_environment=lambda: make_env(phones[slot], key))

        tasks = [BatchTask(id=f"t{i}", task="write a note", platform="mobile") for i in range(6)]
        runner = BatchRunner(build, tmp_path / "out", concurrency=6, slots=list(phones))
        outcomes = asyncio.run(runner.arun(tasks, AgentConfig(write_report=False)))
        typed = {serial: list(phone.state.typed) for serial, phone in phones.items()}
    assert runner.concurrency == 3
    assert all(o.status == "complete" for o in outcomes), [o.error for o in outcomes]
    by_slot: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_slot.setdefault(outcome.slot or "", []).append(f"note {outcome.id} 你好 $(x)")
    # every phone received exactly the texts of the episodes that ran on it, byte-exact, none interleaved
    assert {serial: sorted(texts) for serial, texts in typed.items()} == \
        {serial: sorted(texts) for serial, texts in by_slot.items()}
    assert sum(len(t) for t in typed.values()) == 6
