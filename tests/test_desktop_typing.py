"""Typing: the method per system, and real pastes into a Tk entry on Xvfb that arrive byte-exact every time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from xvfb_support import TkWindow, XServer, require_binaries, server_fixture, start_window, window_fixture

from glmv_agent.actions import Key, PointerAction, TypeContent
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.environments.desktop.selection import SelectionServer
from glmv_agent.environments.desktop.typist import (
    CommandClipboard,
    PasteTypist,
    PyperclipClipboard,
    X11PasteTypist,
    XdotoolTypist,
    choose_typist,
)
from glmv_agent.errors import ConfigError, StepError
from glmv_agent.geometry import pixel_to_model

TEXT = "Zürich → 東京 你好 😀 «ok» 'single' \"double\" \\ tab\there\r\nline two"
EXPECTED = TEXT.replace("\r\n", "\n")  # \r\n is one newline
RUNS = 20


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


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """Another process spinning for the whole test: applications answer the paste late, as on a loaded machine."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield
    burner.kill()
    burner.wait()


def focus_entry(env: DesktopEnvironment, window: TkWindow) -> None:
    entry = pixel_to_model(*window.center("entry"), (1024, 768))
    env.execute(PointerAction(type="left_click", start_box=entry), env.observe())
    window.settle()


def typed_texts(events: list[dict[str, object]]) -> list[object]:
    return [e["text"] for e in events if e["event"] == "entry"]


def empty_the_clipboard() -> None:
    """No CLIPBOARD owner at all (a fresh session): the typist has nothing to put back and gives the clipboard up
    as soon as the paste is done."""
    with SelectionServer() as owner:
        owner.own("about to go")  # closing the owner's connection leaves CLIPBOARD without an owner


@pytest.mark.xvfb
@pytest.mark.parametrize(("tool", "kept"), [("xclip", "kept by the user ✓"), ("xsel", "kept by the user ✓"),
                                            ("xclip", None)])
def test_paste_arrives_byte_exact_20_times_under_load_and_restores_the_clipboard(
    tool: str, kept: str | None, server: XServer, window: TkWindow, busy_cpu: None
) -> None:
    require_binaries(tool)
    typist = choose_typist("linux", which=only(tool))
    assert isinstance(typist, X11PasteTypist)
    if kept is None:
        empty_the_clipboard()
    else:
        typist.clipboard.write(kept)
    with DesktopEnvironment(DesktopConfig(settle_seconds=0), typist=typist) as env:
        focus_entry(env, window)
        for run in range(RUNS):
            outcome = env.execute(TypeContent(content=TEXT), env.observe())
            # what the entry holds once the paste is handled: the text exactly, not nothing, not the old clipboard
            arrived = window.take(lambda events: bool(typed_texts(events)))
            assert typed_texts(arrived) == [EXPECTED], f"run {run}"
            env.execute(Key(keys="Escape"), env.observe())  # the test window empties the entry
            window.take(lambda events: typed_texts(events)[-1:] == [""])
    assert f"via clipboard paste ({tool} + ctrl+v)" in outcome.detail
    assert typist.clipboard.read() == kept  # None: no text on the clipboard, as before


@pytest.mark.xvfb
def test_typed_text_does_not_stay_on_an_empty_clipboard(server: XServer, window: TkWindow) -> None:
    require_binaries("xclip")
    typist = choose_typist("linux", which=shutil.which)
    assert isinstance(typist, X11PasteTypist)
    typist.clipboard.write("")
    with DesktopEnvironment(DesktopConfig(), typist=typist) as env:
        focus_entry(env, window)
        env.execute(TypeContent(content="hunter2-password"), env.observe())
    window.wait_for(lambda events: "hunter2-password" in typed_texts(events))
    assert typist.clipboard.read() == ""


@pytest.mark.xvfb
def test_a_paste_nothing_reads_is_an_error_and_the_clipboard_is_restored(server: XServer, window: TkWindow) -> None:
    require_binaries("xclip")
    typist = X11PasteTypist(choose_typist("linux", which=only("xclip")).clipboard, timeout_s=1.0)  # type: ignore
    typist.clipboard.write("kept by the user")
    b5 = pixel_to_model(*window.center("b5"), (1024, 768))
    with DesktopEnvironment(DesktopConfig(), typist=typist) as env:
        env.execute(PointerAction(type="left_click", start_box=b5), env.observe())  # a button, not a text field
        with pytest.raises(StepError, match="nothing read the pasted text within 1 s"):
            env.execute(TypeContent(content="lost words"), env.observe())
    assert typist.clipboard.read() == "kept by the user"
    assert typed_texts(window.settle()) == []


@pytest.mark.xvfb
def test_a_slow_application_gets_the_text_not_the_restored_clipboard(server: XServer, tmp_path: Path) -> None:
    require_binaries("xclip")
    server.move_pointer(900, 700)
    slow = start_window(server, tmp_path / "events.jsonl", "--paste-busy-ms", "1500")
    typist = choose_typist("linux", which=only("xclip"))
    typist.clipboard.write("kept by the user")  # type: ignore[union-attr]
    try:
        with DesktopEnvironment(DesktopConfig(), typist=typist) as env:
            focus_entry(env, slow)
            env.execute(TypeContent(content="你好, slow world"), env.observe())
        assert typed_texts(slow.wait_for(lambda events: bool(typed_texts(events)))) == ["你好, slow world"]
    finally:
        slow.close()
    assert typist.clipboard.read() == "kept by the user"  # type: ignore[union-attr]
