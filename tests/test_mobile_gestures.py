"""Gestures keep the timings AutoGLM-Phone was trained with (its official client's): on the simulated phone over
real ADB, read from the phone's command log."""

from __future__ import annotations

from pathlib import Path

from test_mobile_support import key_fixture, timed_env

from glmv_agent.actions import DoubleTap, LongPress, LongPressAt
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.environments.android.sim.screen import Gesture

key = key_fixture()


def test_double_tap_sends_two_taps_a_tenth_of_a_second_apart(key: Path) -> None:
    with SimulatedPhone() as phone:
        env = timed_env(phone, key, settle_s=0.0)
        env.execute(DoubleTap(element=(250, 750)), env.observe())
        env.close()
    taps = [r for r in phone.records if r.command.startswith("input tap")]
    assert [t.command.split(";")[0] for t in taps] == ["input tap 270 1800", "input tap 270 1800"]
    gap = taps[1].time - taps[0].time
    assert 0.09 <= gap < 0.6, gap  # about 0.1 s, as the official client sends them (slack for a loaded machine)
    assert phone.state.taps == [(270, 1800), (270, 1800)]


def test_autoglm_long_press_holds_three_seconds_and_glm_keeps_its_own(key: Path) -> None:
    with SimulatedPhone() as phone:
        env = timed_env(phone, key, settle_s=0.0)
        observation = env.observe()
        env.execute(LongPressAt(element=(100, 100)), observation)
        env.execute(LongPress(box_2d=(400, 400, 600, 600)), observation)
        env.close()
    assert phone.state.gestures == [Gesture(108, 240, 108, 240, 3000), Gesture(540, 1200, 540, 1200, 1000)]
    swipes = [r.command.split(";")[0] for r in phone.records if r.command.startswith("input swipe")]
    assert swipes == ["input swipe 108 240 108 240 3000", "input swipe 540 1200 540 1200 1000"]
