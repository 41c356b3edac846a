"""Phones with two displays (a foldable's cover screen) and screens that are off: the agent captures the display
that is on, `--display` chooses, and a black frame from an off display is never called a secure screen."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_mobile_support import key_fixture, make_env

from glmv_agent.cli import build_parser
from glmv_agent.environments.android import cli as mobile_cli
from glmv_agent.environments.android.displays import choose, parse_displays
from glmv_agent.environments.android.environment import OFF_NOTE, SECURE_NOTE
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.environments.android.sim.displays import physical_id
from glmv_agent.environments.android.sim.traits import PhoneTraits
from glmv_agent.errors import ConfigError

COVER = (904, 2316)
MAIN, SECOND = physical_id(0), physical_id(1)
FOLDED = PhoneTraits(second_display=COVER, folded=True)
key = key_fixture()

# One DisplayDeviceInfo line per AOSP toString layout (Android 10, and Android 13 with the fields it added), plus
# the logical display line of Android 12+.
ANDROID_10 = (
    '  mInfo=DisplayDeviceInfo{"Built-in Screen": uniqueId="local:0", 1080 x 2340, modeId 1, defaultModeId 1, '
    "supportedModes [{id=1, width=1080, height=2340, fps=60.0}], colorMode 0, supportedColorModes [0], "
    "HdrCapabilities android.view.Display$HdrCapabilities@40f16308, density 440, 440.0 x 440.0 dpi, "
    "appVsyncOff 1000000, presDeadline 16666666, touch INTERNAL, rotation 0, type BUILT_IN, state OFF, "
    "FLAG_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, FLAG_SUPPORTS_PROTECTED_BUFFERS}"
)
ANDROID_13 = (
    '  mInfo=DisplayDeviceInfo{"Built-in Screen": uniqueId="local:4619827551948147201", 1080 x 2092, modeId 2, '
    "renderFrameRate 120.0, defaultModeId 1, supportedModes [{id=1, width=1080, height=2092, fps=60.0, "
    "alternativeRefreshRates=[120.0]}], colorMode 0, supportedColorModes [0, 7, 9], hdrCapabilities "
    "HdrCapabilities{mSupportedHdrTypes=[2, 3, 4], mMaxLuminance=1000.0}, allmSupported false, "
    "gameContentTypeSupported false, density 420, 408.0 x 409.0 dpi, appVsyncOff 7500000, presDeadline 12666666, "
    "touch INTERNAL, rotation 0, type INTERNAL, address {port=129, model=0x401cec6a7a2b7b}, deviceProductInfo "
    "DeviceProductInfo{name=, manufacturerPnpId=QCM, productId=1, modelYear=null, manufactureDate="
    "ManufactureDate{week=27, year=2006}, connectionToSinkType=0}, state ON, committedState ON, frameRateOverride , "
    "brightnessMinimum 0.0, brightnessMaximum 1.0, brightnessDefault 0.39763778, hdrSdrRatio NaN, "
    "FLAG_ALLOWED_TO_BE_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, FLAG_SUPPORTS_PROTECTED_BUFFERS}"
)
LOGICAL_13 = (
    '    mBaseDisplayInfo=DisplayInfo{"Built-in Screen", displayId 0", displayGroupId 0, FLAG_SECURE, '
    "FLAG_SUPPORTS_PROTECTED_BUFFERS, FLAG_TRUSTED, real 1080 x 2092, largest app 2092 x 2092, smallest app "
    "1080 x 1080, appVsyncOff 7500000, presDeadline 12666666, mode 2, defaultMode 1, rotation 0, state ON, "
    'committedState ON, type INTERNAL, uniqueId "local:4619827551948147201", app 1080 x 2092, density 420 '
    "(408.0 x 409.0) dpi, layerStack 0}"
)


def test_display_lines_of_real_android_versions_are_read() -> None:
    old, = parse_displays(ANDROID_10)
    assert (old.physical_id, old.size, old.state, old.off, old.logical_id) == (0, (1080, 2340), "OFF", True, None)
    cover, = parse_displays(f"{ANDROID_13}\n{LOGICAL_13}\n{ANDROID_13}")  # listed twice in a dump: counted once
    assert (cover.physical_id, cover.size, cover.on, cover.logical_id) == (4619827551948147201, (1080, 2092), True, 0)
    assert choose([cover]) is None  # one display: plain screencap captures it
    assert choose([old, cover]) == cover  # the one that is on
    assert choose([old, cover], 0) == old  # asked for by its physical id
    with pytest.raises(ConfigError, match=r"--display 7: the phone has no such display; its displays: 0 \("):
        choose([old, cover], 7)


def test_a_folded_phone_is_seen_through_the_display_that_is_on(key: Path) -> None:
    with SimulatedPhone().with_traits(FOLDED) as phone:
        env = make_env(phone, key)
        observation = env.observe()
        env.close()
    assert observation.size == COVER and not observation.secure and observation.notes == []
    assert observation.screenshot.convert("L").getextrema()[1] > 200  # the home screen, not a black frame
    assert f"screencap -p -d {SECOND}" in phone.commands()


def test_the_chosen_display_is_captured_and_when_it_is_off_the_model_is_told_so(key: Path) -> None:
    with SimulatedPhone().with_traits(FOLDED) as phone:
        env = make_env(phone, key, display=MAIN)
        observation = env.observe()
        env.close()
    assert observation.screenshot.getextrema() == ((0, 0), (0, 0), (0, 0))
    assert observation.notes == [OFF_NOTE] and not observation.secure  # off, not a secure window
    assert f"screencap -p -d {MAIN}" in phone.commands()


def test_folding_mid_run_moves_the_capture_to_the_cover_screen(key: Path, caplog: pytest.LogCaptureFixture) -> None:
    with SimulatedPhone().with_traits(PhoneTraits(second_display=COVER)) as phone:
        env = make_env(phone, key)
        assert env.observe().size == (1080, 2400)
        phone.phone.fold()
        with caplog.at_level(logging.WARNING):
            folded = env.observe()
        env.close()
    assert folded.size == COVER and folded.notes == [] and not folded.secure
    assert folded.screenshot.convert("L").getextrema()[1] > 200
    assert any(f"capturing display {SECOND}" in r.getMessage() for r in caplog.records)


def test_a_switched_off_screen_is_not_a_secure_window(key: Path) -> None:
    with SimulatedPhone() as phone:
        env = make_env(phone, key)
        env.input.key(26)  # POWER: the screen goes off
        off = env.observe()
        env.input.key(224)  # WAKEUP
        env.launcher.launch("Wallet")
        secure = env.observe()
        env.close()
    assert off.notes == [OFF_NOTE] and not off.secure
    assert secure.notes == [SECURE_NOTE] and secure.secure


def test_display_and_settle_flags_reach_the_environment(key: Path) -> None:
    with SimulatedPhone().with_traits(FOLDED) as phone:
        args = build_parser().parse_args(["run", "t", "--platform", "mobile", "--device", phone.serial,
                                          "--adb-key", str(key), "--display", str(MAIN), "--settle", "0.25"])
        config = mobile_cli.config_from_args(args)
        assert (config.display, config.settle_s) == (MAIN, 0.25)
        with mobile_cli.create(args) as env:
            assert env.capture == f" -d {MAIN}"
        wrong = build_parser().parse_args(["run", "t", "--platform", "mobile", "--device", phone.serial,
                                           "--adb-key", str(key), "--display", "3"])
        with pytest.raises(ConfigError, match="--display 3: the phone has no such display"):
            mobile_cli.create(wrong)
    defaults = mobile_cli.config_from_args(build_parser().parse_args(["run", "t", "--platform", "mobile"]))
    assert (defaults.display, defaults.settle_s) == (None, 1.0)


def test_settle_flag_defined_by_another_platform_is_shared() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=None)  # as another platform may define it first
    mobile_cli.add_arguments(parser)  # no conflict
    assert mobile_cli.config_from_args(parser.parse_args(["--settle", "2"])).settle_s == 2.0
