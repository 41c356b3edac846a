"""The model's key names to pyautogui names."""

from __future__ import annotations

import pytest

from glmv_agent.environments.desktop.keys import resolve_keys, split_combo
from glmv_agent.errors import StepError


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("Return", ["enter"]),
        ("enter", ["enter"]),
        ("KP_Enter", ["enter"]),
        ("ctrl+c", ["ctrl", "c"]),
        ("Control_L+C", ["ctrl", "c"]),
        ("ctrl+shift+T", ["ctrl", "shift", "t"]),
        ("esc", ["esc"]),
        ("Escape", ["esc"]),
        ("page_up", ["pageup"]),
        ("Page Down", ["pagedown"]),
        ("pgdn", ["pagedown"]),
        ("Prior", ["pageup"]),
        ("ArrowLeft", ["left"]),
        ("Up", ["up"]),
        ("alt+F4", ["alt", "f4"]),
        ("BackSpace", ["backspace"]),
        ("Delete", ["delete"]),
        ("space", ["space"]),
        ("Tab", ["tab"]),
        ("shift+Tab", ["shift", "tab"]),
        ("ctrl++", ["ctrl", "+"]),
        ("ctrl+plus", ["ctrl", "+"]),
        ("+", ["+"]),
        ("ctrl+minus", ["ctrl", "-"]),
        ("KP_5", ["num5"]),
        ("Shift_R", ["shiftright"]),
        ("A", ["A"]),  # a lone capital letter stays capital: pyautogui presses shift+a
        (" ctrl + a ", ["ctrl", "a"]),
    ],
)
def test_model_key_names_resolve_to_pyautogui_names(keys: str, expected: list[str]) -> None:
    assert resolve_keys(keys, system="linux") == expected


@pytest.mark.parametrize("name", ["cmd", "Super_L", "win", "meta", "Windows", "command"])
def test_the_system_key_is_win_on_linux_and_windows_and_command_on_macos(name: str) -> None:
    assert resolve_keys(f"{name}+space", system="linux") == ["win", "space"]
    assert resolve_keys(f"{name}+space", system="win32") == ["win", "space"]
    assert resolve_keys(f"{name}+space", system="darwin") == ["command", "space"]


def test_option_is_alt_outside_macos() -> None:
    assert resolve_keys("option+left", system="linux") == ["alt", "left"]
    assert resolve_keys("option+left", system="darwin") == ["option", "left"]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("ctrl+Hyperdrive", "unknown key 'Hyperdrive'"),
        ("Foo", "unknown key 'Foo'"),
        ("ctrl+é", "unknown key 'é': only ASCII characters"),
        ("ctrl++a", "empty part"),
        ("", "empty part"),
    ],
)
def test_unknown_keys_are_a_step_error_naming_the_key(keys: str, message: str) -> None:
    with pytest.raises(StepError, match=message):
        resolve_keys(keys, system="linux")


def test_split_combo_keeps_plus_as_a_key() -> None:
    assert split_combo("shift++") == ["shift", "+"]
    assert split_combo("ctrl+shift+esc") == ["ctrl", "shift", "esc"]
