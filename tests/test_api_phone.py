"""PhoneAgent on the simulated phone (real ADB protocol) with replayed model answers: act opens an app and taps,
query and check read the screen, locate gives the phone's input pixels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("adb_shell")
from api_support import boxed  # noqa: E402
from test_mobile_support import FAST, key_fixture  # noqa: E402

from glmv_agent import Box, NotFound, PhoneAgent  # noqa: E402
from glmv_agent.backends.replay import ReplayBackend  # noqa: E402
from glmv_agent.environments.android.config import MobileConfig  # noqa: E402
from glmv_agent.environments.android.sim.device import SimulatedPhone  # noqa: E402

key = key_fixture()
OPEN = 'Memory: None\nReason: open it\nAction: {"action_type": "open_app", "app_name": "Markor"}'
TAP = 'Memory: None\nReason: tap\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
DONE = 'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}'


def test_phone_agent_on_the_simulated_phone(key: Path, tmp_path: Path) -> None:
    answers = [OPEN, DONE, TAP, DONE, boxed("Markor"), "Markor is open. <|begin_of_box|>false<|end_of_box|>",
               boxed("[[100,200,300,400]]"), boxed("none")]
    config = MobileConfig(adb_key=key, connection=FAST, wait_seconds=0.0)
    with SimulatedPhone((720, 1600)) as phone:
        with PhoneAgent(phone.serial, config=config, backend=ReplayBackend(answers), run_dir=tmp_path / "run") as agent:
            assert agent.act("open Markor").status == "complete"
            assert phone.state.app is not None and phone.state.app.name == "Markor"
            agent.act("tap the first note")
            assert phone.state.taps[-1] == (144, 480)  # the centre of [100,200,300,400] on 720x1600
            assert agent.query("which app is open?") == "Markor"
            assert agent.check("the home screen is showing") is False
            assert agent.locate("the first note") == Box(x=72, y=320, width=144, height=320)
            with pytest.raises(NotFound, match="the settings gear"):
                agent.locate("the settings gear")
    calls = [json.loads(line) for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert [(c["kind"], c["status"]) for c in calls] == [
        ("act", "complete"), ("act", "complete"), ("query", "complete"), ("check", "complete"),
        ("locate", "complete"), ("locate", "failed")]
