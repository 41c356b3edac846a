"""Text reaches the phone exactly as the model wrote it: through ADB Keyboard for any Unicode, through `input text`
for ASCII, with every shell metacharacter and `%s`. Assertions read the simulated phone's field, not the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_mobile_support import key_fixture, phone_and_env

from glmv_agent.actions import InputText, TypeText
from glmv_agent.environments.android.sim.commands import Programs
from glmv_agent.environments.android.sim.screen import LATIN_IME, Phone
from glmv_agent.environments.android.sim.shell import Shell
from glmv_agent.environments.android.sim.transport import ServiceResult
from glmv_agent.environments.android.text_input import ADB_IME, ascii_commands
from glmv_agent.errors import StepError

METACHARACTERS = "; & | $( ) ` ' \" \\ %s $HOME * ? [x] {a,b} ~ # < > !"
ASCII_HARD = f"ls {METACHARACTERS}\tnext\nline 100%s done %"
UNICODE_HARD = f"你好, café naïve 😀👍🏽 — {METACHARACTERS}\nsecond line"
FIELD = (100, 110, 900, 160)  # the notes app's text field, in thousandths of the screen


key = key_fixture()


def _open_notes(env) -> object:  # noqa: ANN001
    env.launcher.launch("Markor")
    return env.observe()


@pytest.mark.parametrize("text", [UNICODE_HARD, ASCII_HARD, "", "x" * 500])
def test_adb_keyboard_types_any_text_byte_exact_and_gives_the_ime_back(key: Path, text: str) -> None:
    with phone_and_env(key, adb_keyboard=True) as (phone, env):
        observation = _open_notes(env)
        outcome = env.execute(InputText(text=text, box_2d=FIELD, override=False), observation)
        assert phone.state.fields["net.gsantner.markor"] == text + "\n"  # input_text ends with Enter: a new line
        assert phone.state.ime_current == LATIN_IME and ADB_IME in phone.state.ime_enabled
        assert "ADB Keyboard" in outcome.detail


def test_ascii_path_types_every_metacharacter_byte_exact(key: Path) -> None:
    with phone_and_env(key, adb_keyboard=False) as (phone, env):
        observation = _open_notes(env)
        env.execute(InputText(text=ASCII_HARD, box_2d=FIELD, override=False), observation)
        assert phone.state.field_text == ASCII_HARD + "\n"  # newline and tab went as key events
        assert all(not r.command.startswith("am broadcast") for r in phone.records)


@pytest.mark.parametrize("adb_keyboard", [True, False])
def test_enter_submits_a_one_line_field(key: Path, adb_keyboard: bool) -> None:
    with phone_and_env(key, adb_keyboard=adb_keyboard) as (phone, env):
        env.launcher.launch("Chrome")
        observation = env.observe()
        env.execute(InputText(text="weather in 北京" if adb_keyboard else "weather 'today'", box_2d=FIELD,
                              override=True), observation)
        assert phone.state.submitted == ["weather in 北京" if adb_keyboard else "weather 'today'"]


def test_no_adb_keyboard_option_forces_the_ascii_path(key: Path) -> None:
    with phone_and_env(key, adb_keyboard=True, use_adb_keyboard=False) as (phone, env):
        observation = _open_notes(env)
        outcome = env.execute(InputText(text="plain 100%s", box_2d=FIELD, override=False), observation)
        assert phone.state.field_text == "plain 100%s\n" and "input text" in outcome.detail
        assert phone.state.ime_current == LATIN_IME and ADB_IME not in phone.state.ime_enabled
        with pytest.raises(StepError, match="--no-adb-keyboard"):
            env.execute(InputText(text="你好", box_2d=FIELD, override=False), observation)


def test_unicode_without_adb_keyboard_is_a_clear_step_error_and_types_nothing(key: Path) -> None:
    with phone_and_env(key, adb_keyboard=False) as (phone, env):
        observation = _open_notes(env)
        env.execute(InputText(text="keep", box_2d=FIELD, override=False), observation)
        with pytest.raises(StepError, match="ADB Keyboard is not installed"):
            env.execute(TypeText(text="naïve"), observation)
        assert phone.state.field_text == "keep\n"  # not cleared: nothing was sent


@pytest.mark.parametrize("adb_keyboard", [True, False])
def test_override_clears_before_typing_and_append_keeps(key: Path, adb_keyboard: bool) -> None:
    with phone_and_env(key, adb_keyboard=adb_keyboard) as (phone, env):
        observation = _open_notes(env)
        env.execute(InputText(text="old", box_2d=FIELD, override=False), observation)
        env.execute(InputText(text="more", box_2d=FIELD, override=False), observation)
        assert phone.state.field_text == "old\nmore\n"
        env.execute(InputText(text="new", box_2d=FIELD, override=True), observation)
        assert phone.state.field_text == "new\n"
        env.execute(TypeText(text="autoglm replaces"), observation)  # AutoGLM Type: clear, type, no Enter
        assert phone.state.field_text == "autoglm replaces"


def test_ascii_fallback_clear_without_keycombination(key: Path) -> None:
    with phone_and_env(key) as (phone, env):
        observation = _open_notes(env)
        env.execute(InputText(text="x" * 50, box_2d=FIELD, override=False), observation)
        newer_input = phone.programs.input  # older Android: `input keycombination` does not exist

        def old_input(args: list[str]) -> ServiceResult:
            if args and args[0] == "keycombination":
                return ServiceResult(b"Error: Unknown command: keycombination\n", b"", 1)
            return newer_input(args)

        phone.programs.table["input"] = old_input
        env.execute(TypeText(text="fresh"), observation)
        assert phone.state.field_text == "fresh"


def _type_in_process(text: str) -> str:
    phone = Phone()
    phone.launch("net.gsantner.markor")
    phone.state.focused = True
    shell = Shell(Programs(phone))
    for command in ascii_commands(text):
        assert shell.run(command).exit_code == 0, command
    return phone.state.field_text


TRAPS = ["%", "s", "%s", " ", "  ", "\t", "\n", "'", '"', "\\", "$", "`", ";", "&", "|", "(", ")", "*", "~", "#"]
PRINTABLE_WITH_TRAPS = st.lists(
    st.sampled_from(TRAPS) | st.characters(min_codepoint=32, max_codepoint=126), max_size=120
).map("".join)


@settings(max_examples=300, deadline=None)
@given(PRINTABLE_WITH_TRAPS)
def test_ascii_commands_round_trip_any_printable_text(text: str) -> None:
    assert _type_in_process(text) == text
