"""MobileEnvironment against the simulated phone over real ADB: every action lands where and as it should."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
from pathlib import Path

import pytest
from adb_shell.exceptions import UsbDeviceNotFoundError
from test_mobile_support import key_fixture, make_env, phone_and_env

from glmv_agent.actions import (
    Answer,
    Back,
    Click,
    DoubleTap,
    Finish,
    Home,
    KeyboardEnter,
    Launch,
    LongPress,
    LongPressAt,
    NavigateBack,
    NavigateHome,
    Note,
    OpenApp,
    PhoneWait,
    PointerAction,
    Status,
    Swipe,
    SwipeStroke,
    TakeOver,
    Tap,
)
from glmv_agent.environments.android.actions import parse_duration
from glmv_agent.environments.android.connection import AdbClient, Target, usb_message
from glmv_agent.environments.android.environment import SECURE_NOTE, MobileEnvironment
from glmv_agent.environments.android.sim.screen import LAUNCHER, Gesture
from glmv_agent.environments.android.sim.transport import ServiceResult
from glmv_agent.errors import ActionNotSupported, ConfigError, StepError

SETTINGS = "com.android.settings"


key = key_fixture()


@pytest.mark.parametrize(("size", "rotation", "shot", "expected"), [
    ((1080, 2400), 0, (1080, 2400), (216, 720)),
    ((1080, 2400), 1, (2400, 1080), (480, 324)),  # the phone turned to landscape
    ((1920, 1200), 0, (1920, 1200), (384, 360)),  # a landscape tablet
])
def test_click_lands_on_the_exact_pixel(key: Path, size, rotation, shot, expected) -> None:  # noqa: ANN001
    with phone_and_env(key, size=size, rotation=rotation) as (phone, env):
        observation = env.observe()
        assert observation.size == shot and observation.rotation == rotation
        assert observation.display_size == shot
        outcome = env.execute(Click(box_2d=(100, 200, 300, 400)), observation)  # centre (200, 300) thousandths
        assert phone.state.taps == [expected]
        assert outcome.pixels == [expected]
        env.execute(Tap(element=(500, 500)), observation)
        assert phone.state.taps[-1] == (shot[0] // 2, shot[1] // 2)


def test_tapping_an_icon_opens_the_app_and_the_observation_names_it(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        home = env.observe()
        assert home.app is None and home.package == LAUNCHER
        icon = next(e for e in phone.phone.layout() if e.label == "Markor")
        x, y = (icon.rect[0] + icon.rect[2]) // 2, (icon.rect[1] + icon.rect[3]) // 2
        env.execute(Tap(element=(x * 1000 // 1080, y * 1000 // 2400)), home)
        markor = env.observe()
        assert phone.state.foreground == "net.gsantner.markor"
        assert (markor.app, markor.package) == ("Markor", "net.gsantner.markor")
        assert markor.screenshot.tobytes() != home.screenshot.tobytes()


@pytest.mark.parametrize(("direction", "check"), [
    ("up", lambda g: g.x1 == g.x2 and g.y1 > g.y2),
    ("down", lambda g: g.x1 == g.x2 and g.y1 < g.y2),
    ("left", lambda g: g.y1 == g.y2 and g.x1 > g.x2),
    ("right", lambda g: g.y1 == g.y2 and g.x1 < g.x2),
])
def test_swipe_direction_is_the_fingers_movement(key: Path, direction: str, check) -> None:  # noqa: ANN001
    with phone_and_env(key) as (phone, env):
        env.launcher.launch("Settings")
        observation = env.observe()
        outcome = env.execute(Swipe(direction=direction), observation)
        gesture = phone.state.gestures[-1]
        assert check(gesture), gesture
        assert outcome.pixels == [(gesture.x1, gesture.y1), (gesture.x2, gesture.y2)]
        assert gesture.duration_ms == 500
        if direction == "up":  # finger up: the list moves up and reveals items further down
            assert phone.state.scroll[SETTINGS] > 0
            assert env.observe().screenshot.tobytes() != observation.screenshot.tobytes()


def test_swipe_in_a_box_stays_in_the_box_and_down_scrolls_back(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        env.launcher.launch("Settings")
        observation = env.observe()
        box = (0, 300, 1000, 700)  # pixels y 720..1680
        env.execute(Swipe(direction="up", box_2d=box), observation)
        g = phone.state.gestures[-1]
        assert 720 <= g.y2 < g.y1 <= 1680 and g.x1 == g.x2 == 539
        scrolled = phone.state.scroll[SETTINGS]
        env.execute(Swipe(direction="down", box_2d=box), env.observe())
        assert phone.state.scroll[SETTINGS] < scrolled


def test_long_press_keys_and_autoglm_gestures(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        env.launcher.launch("Settings")
        observation = env.observe()
        env.execute(LongPress(box_2d=(400, 400, 600, 600)), observation)
        assert phone.state.gestures[-1] == Gesture(540, 1200, 540, 1200, 1000)
        env.execute(LongPressAt(element=(100, 100)), observation)
        assert phone.state.gestures[-1] == Gesture(108, 240, 108, 240, 3000)  # AutoGLM holds 3 s, as trained
        env.execute(DoubleTap(element=(250, 750)), observation)
        assert phone.state.taps[-2:] == [(270, 1800), (270, 1800)]
        env.execute(SwipeStroke(start=(500, 800), end=(500, 200)), observation)
        assert phone.state.gestures[-1] == Gesture(540, 1920, 540, 480, 2000)
        env.execute(KeyboardEnter(), observation)
        env.execute(NavigateBack(), observation)
        assert phone.state.keys[-2:] == [66, 4] and phone.state.foreground == LAUNCHER  # Back left the app
        env.execute(Launch(app="Settings"), observation)
        env.execute(NavigateHome(), observation)
        env.execute(Back(), observation)
        env.execute(Home(), observation)
        assert phone.state.keys[-3:] == [3, 4, 3] and phone.state.foreground == LAUNCHER


@pytest.mark.parametrize(("name", "package"), [
    ("Markor", "net.gsantner.markor"), ("settings", SETTINGS), ("Google Chrome", "com.android.chrome"),
    ("clock", "com.google.android.deskclock"), ("wallet", "com.example.wallet"), ("微信", "com.tencent.mm"),
    ("com.google.android.contacts", "com.google.android.contacts"),
])
def test_open_app_starts_the_right_package(key: Path, name: str, package: str) -> None:
    with phone_and_env(key) as (phone, env):
        outcome = env.execute(OpenApp(app_name=name), env.observe())
        assert phone.state.foreground == package
        launched = phone.state.launches[-1]
        assert launched.startswith(package + "/")
        assert "started" in outcome.detail


def test_open_app_uses_the_launcher_activity_the_phone_resolves(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        env.execute(OpenApp(app_name="Markor"), env.observe())
        commands = phone.commands()
        assert "cmd package resolve-activity --brief net.gsantner.markor" in commands
        assert any(c.startswith("am start -W -n net.gsantner.markor/.activity.MainActivity") for c in commands)


def test_unknown_app_is_a_step_error_for_the_model(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        with pytest.raises(StepError, match="no installed app matches 'Flight Radar'"):
            env.execute(OpenApp(app_name="Flight Radar"), env.observe())
        with pytest.raises(StepError, match="WhatsApp"):  # known name, app missing: says so
            env.execute(OpenApp(app_name="WhatsApp"), env.observe())
        assert phone.state.foreground == LAUNCHER


def test_user_app_names_from_a_dict_and_from_files(key: Path, tmp_path: Path) -> None:
    json_file = tmp_path / "apps.json"
    json_file.write_text(json.dumps({"My Pay": "com.example.wallet"}), encoding="utf-8")
    toml_file = tmp_path / "apps.toml"
    toml_file.write_text('[apps]\n"Work Notes" = { package = "net.gsantner.markor" }\n', encoding="utf-8")
    with phone_and_env(key, apps={"Browser": "com.android.chrome"}, apps_file=json_file) as (phone, env):
        env.execute(OpenApp(app_name="browser"), env.observe())
        assert phone.state.foreground == "com.android.chrome"
        env.execute(Launch(app="my pay"), env.observe())
        assert phone.state.foreground == "com.example.wallet"
        assert env.observe().app == "My Pay"  # user names also name the app in front
    with phone_and_env(key, apps_file=toml_file) as (phone, env):
        env.execute(OpenApp(app_name="Work Notes"), env.observe())
        assert phone.state.foreground == "net.gsantner.markor"


def test_secure_screen_is_reported_to_model_and_user(key: Path, caplog: pytest.LogCaptureFixture) -> None:
    with phone_and_env(key) as (phone, env):
        env.launcher.launch("Wallet")
        with caplog.at_level(logging.WARNING):
            observation = env.observe()
        assert observation.screenshot.getextrema() == ((0, 0), (0, 0), (0, 0))
        assert observation.secure and SECURE_NOTE in observation.notes
        assert observation.app == "com.example.wallet"  # not in the table: the package
        assert any("secure window" in r.getMessage() for r in caplog.records)
        env.launcher.launch("Markor")
        assert env.observe().notes == []


@pytest.mark.parametrize("hide", [True, False])
def test_hide_keyboard_option(key: Path, hide: bool) -> None:
    with phone_and_env(key, hide_keyboard=hide) as (phone, env):
        env.launcher.launch("Markor")
        env.execute(Click(box_2d=(100, 110, 900, 160)), env.observe())
        assert phone.state.keyboard_shown
        observation = env.observe()
        assert phone.state.keyboard_shown is not hide
        assert phone.state.foreground == "net.gsantner.markor"  # BACK closed the keyboard, not the app
        bottom = observation.screenshot.crop((0, 2300, 1080, 2400)).getcolors(maxcolors=100000)
        assert any(colour == (232, 234, 237) for _, colour in bottom) is not hide  # keyboard drawn or not


def test_take_over_hands_control_to_the_person(key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    with phone_and_env(key) as (phone, _):
        env = make_env(phone, key)
        env.takeover = asked.append
        outcome = env.execute(TakeOver(message="Log in, please"), env.observe())
        assert asked == ["Log in, please"] and outcome.note
        env.close()
        quiet = make_env(phone, key)
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        with pytest.raises(StepError, match="takeover needs a terminal"):
            quiet.execute(TakeOver(message="captcha"), quiet.observe())
        quiet.close()


def test_no_device_effect_actions_send_nothing(key: Path) -> None:
    slept: list[float] = []
    with phone_and_env(key) as (phone, _):
        env = MobileEnvironment(make_env(phone, key).config.model_copy(update={"wait_seconds": 0.25, "settle_s": 0}),
                                sleep=slept.append)
        observation = env.observe()
        before = len(phone.records)
        for action in (Answer(text="HomeNet"), Status(goal_status="complete"), Note(message="price 5"),
                       Finish(message="done")):
            env.execute(action, observation)
        assert len(phone.records) == before
        env.execute(PhoneWait(duration="2 seconds"), observation)
        env.execute(PhoneWait(duration="500 ms"), observation)
        env.execute(PhoneWait(duration="999 seconds"), observation)
        assert slept == [2.0, 0.5, 30.0]
        with pytest.raises(ActionNotSupported):
            env.execute(PointerAction(type="left_click", start_box=(1, 1)), observation)
        env.close()


@pytest.mark.parametrize(("text", "seconds"), [("2 seconds", 2.0), ("1.5s", 1.5), ("3", 3.0), (None, 1.0)])
def test_wait_durations(text: str | None, seconds: float) -> None:
    assert parse_duration(text, default=1.0) == seconds
    with pytest.raises(StepError, match="wait duration"):
        parse_duration("a while", default=1.0)


def test_failed_screencap_is_a_note_not_a_secure_screen(key: Path, caplog: pytest.LogCaptureFixture) -> None:
    with phone_and_env(key) as (phone, env):
        phone.programs.table["screencap"] = lambda args: ServiceResult(b"", b"Capturing failed.\n", 1)
        with caplog.at_level(logging.WARNING):
            observation = env.observe()
        assert observation.size == (1080, 2400) and not observation.secure
        assert observation.notes == [
            "The screenshot could not be taken (screencap said: Capturing failed.); the image is a placeholder."
        ]
        assert sum(r.command == "screencap -p" for r in phone.records) == 2  # retried once


class USBErrorBusy(Exception):  # the name libusb1 gives "resource busy"
    pass


def test_usb_failures_become_one_line_instructions(key: Path) -> None:
    assert "adb kill-server" in usb_message(USBErrorBusy("LIBUSB_ERROR_BUSY [-6]"))
    assert "USB debugging" in usb_message(UsbDeviceNotFoundError("No device available"))
    if importlib.util.find_spec("usb1") is None:
        with pytest.raises(ConfigError, match=r"glmv-agent\[mobile-usb\]"):
            AdbClient(Target(serial="R58M123ABC"), key=key)
