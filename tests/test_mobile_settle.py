"""The screen settles before the next look: on the simulated phone over real ADB."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_mobile_support import key_fixture, timed_env

from glmv_agent.actions import Launch, Tap
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.environments.android.sim.render import render
from glmv_agent.environments.android.sim.traits import PhoneTraits

MARKOR = "net.gsantner.markor"
key = key_fixture()


def icon_point(phone: SimulatedPhone, label: str) -> tuple[int, int]:
    """The icon's centre in thousandths of the screen."""
    icon = next(e for e in phone.phone.layout() if e.label == label)
    width, height = phone.state.size
    return ((icon.rect[0] + icon.rect[2]) // 2 * 1000 // width, (icon.rect[1] + icon.rect[3]) // 2 * 1000 // height)


def app_drawn(phone: SimulatedPhone) -> bytes:
    """What the screen shows once the opening animation is over."""
    while phone.phone.launch_progress() is not None:
        time.sleep(0.02)
    return render(phone.phone).tobytes()


@pytest.mark.parametrize("settle", [3.0, 0.0])
def test_after_a_tap_that_opens_a_slow_app_the_next_screenshot_shows_the_app(key: Path, settle: float) -> None:
    with SimulatedPhone().with_traits(PhoneTraits(launch_delay_s=1.0)) as phone:
        env = timed_env(phone, key, settle_s=settle)
        home = env.observe()
        outcome = env.execute(Tap(element=icon_point(phone, "Markor")), home)
        shot = env.observe().screenshot.tobytes()
        env.close()
        final = app_drawn(phone)
    assert phone.state.foreground == MARKOR
    if settle:
        assert shot == final, outcome.detail  # not a frame of the opening animation
        assert "screen still after" in outcome.detail
    else:
        assert shot != final  # without the wait the model would have seen the animation


def test_launch_waits_for_the_apps_first_frame_even_without_settling(key: Path) -> None:
    with SimulatedPhone().with_traits(PhoneTraits(launch_delay_s=0.5)) as phone:
        env = timed_env(phone, key, settle_s=0.0)
        env.execute(Launch(app="Markor"), env.observe())
        shot = env.observe().screenshot.tobytes()
        env.close()
        assert shot == app_drawn(phone)
    started = next(r for r in phone.records if r.command.startswith("am start"))
    assert started.command.startswith("am start -W -n net.gsantner.markor/")


def test_on_a_still_screen_the_wait_costs_one_capture(key: Path) -> None:
    with SimulatedPhone() as phone:
        env = timed_env(phone, key)
        observation = env.observe()
        before = len(phone.records)
        outcome = env.execute(Tap(element=(500, 990)), observation)  # nothing there: the screen stays as it is
        env.observe()
        env.close()
    captures = [r.command for r in phone.records[before:] if r.command.startswith("screencap")]
    assert captures == ["screencap -p", "screencap -p"], captures  # two agreeing captures; the look reuses one
    assert "screen still after" in outcome.detail and "(2 captures)" in outcome.detail


def test_a_screen_that_keeps_changing_is_waited_for_at_most_the_cap(key: Path) -> None:
    slow = PhoneTraits(launch_delay_s=30.0)  # an opening animation that does not end during the test
    with SimulatedPhone().with_traits(slow) as phone:
        env = timed_env(phone, key, settle_s=0.3)
        observation = env.observe()
        started = time.monotonic()
        outcome = env.execute(Tap(element=icon_point(phone, "Markor")), observation)
        took = time.monotonic() - started
        env.close()
    assert "screen still changing after" in outcome.detail
    assert 0.3 <= took < 3.0  # the cap, plus the capture in flight and a loaded machine's slack
