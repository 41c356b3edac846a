"""Typing through the clipboard: the method per system, and real xclip/xsel pastes into a Tk entry on Xvfb."""

from __future__ import annotations

import shutil

import pytest
from xvfb_support import TkWindow, XServer, require_binaries, server_fixture, window_fixture

from glmv_agent.actions import PointerAction, TypeContent
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.environments.desktop.typist import (
    CommandClipboard,
    PasteTypist,
    PyperclipClipboard,
    XdotoolTypist,
    choose_typist,
)
from glmv_agent.errors import ConfigError
from glmv_agent.geometry import pixel_to_model

TEXT = "Zürich → 東京 «ok» 'single' \"double\" \\ tab\there"


def only(*present: str):  # noqa: ANN201 - a fake shutil.which
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_macos_pastes_with_pbcopy_and_command_v() -> None:
    typist = choose_typist("darwin", which=only())
    assert isinstance(typist, PasteTypist) and typist.paste_keys == ("command", "v")
    assert isinstance(typist.clipboard, CommandClipboard)
    assert (typist.clipboard.read_cmd, typist.clipboard.write_cmd) == (["pbpaste"], ["pbcopy"])
    assert typist.clipboard.env["LC_CTYPE"] == "UTF-8"


def test_windows_pastes_through_the_clipboard_with_ctrl_v() -> None:
    typist = choose_typist("win32", which=only())
    assert isinstance(typist, PasteTypist) and typist.paste_keys == ("ctrl", "v")
    assert isinstance(typist.clipboard, PyperclipClipboard)


def test_linux_prefers_xclip_then_xsel_then_xdotool() -> None:
    assert choose_typist("linux", which=only("xclip", "xsel", "xdotool")).clipboard.name == "xclip"  # type: ignore
    assert choose_typist("linux", which=only("xsel", "xdotool")).clipboard.name == "xsel"  # type: ignore
    assert isinstance(choose_typist("linux", which=only("xdotool")), XdotoolTypist)
    with pytest.raises(ConfigError, match="install one"):
        choose_typist("linux", which=only())


server = server_fixture(1024, 768)
window = window_fixture(pointer=(900, 700))


@pytest.mark.xvfb
@pytest.mark.parametrize("tool", ["xclip", "xsel"])
def test_paste_types_unicode_byte_exact_and_restores_the_clipboard(
    tool: str, server: XServer, window: TkWindow
) -> None:
    require_binaries(tool)
    typist = choose_typist("linux", which=only(tool), settle_s=0.15)
    assert isinstance(typist, PasteTypist)
    typist.clipboard.write("kept by the user ✓")
    entry = pixel_to_model(*window.center("entry"), (1024, 768))
    with DesktopEnvironment(DesktopConfig(), typist=typist) as env:
        observation = env.observe()
        env.execute(PointerAction(type="left_click", start_box=entry), observation)
        outcome = env.execute(TypeContent(content=TEXT), observation)
    assert f"via clipboard paste ({tool} + ctrl+v)" in outcome.detail
    window.wait_for(lambda events: any(e.get("text") == TEXT for e in events))
    assert typist.clipboard.read() == "kept by the user ✓"


@pytest.mark.xvfb
def test_typed_text_does_not_stay_on_an_empty_clipboard(server: XServer, window: TkWindow) -> None:
    require_binaries("xclip")
    typist = choose_typist("linux", which=shutil.which, settle_s=0.15)
    assert isinstance(typist, PasteTypist)
    typist.clipboard.write("")
    entry = pixel_to_model(*window.center("entry"), (1024, 768))
    with DesktopEnvironment(DesktopConfig(), typist=typist) as env:
        observation = env.observe()
        env.execute(PointerAction(type="left_click", start_box=entry), observation)
        env.execute(TypeContent(content="hunter2-password"), observation)
    window.wait_for(lambda events: any(e.get("text") == "hunter2-password" for e in events))
    assert typist.clipboard.read() == ""
