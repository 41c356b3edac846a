"""Desktop episodes against a real Tk window on Xvfb: what the window saw is what the model asked for."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from xvfb_support import Event, TkWindow, XServer, require_binaries, server_fixture, window_fixture

from glmv_agent.actions import Key, PointerAction, TypeContent
from glmv_agent.agent import Agent, AgentConfig, AgentHooks, EpisodeResult
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
from glmv_agent.environments.desktop.keys import NAMED_KEYS
from glmv_agent.environments.desktop.typist import XdotoolTypist
from glmv_agent.errors import StepError
from glmv_agent.geometry import pixel_to_model, point_to_pixels
from glmv_agent.profiles import get_profile

pytestmark = pytest.mark.xvfb
SIZE = (1280, 800)
FAST = {"drag_seconds": 0.2, "paste_settle_seconds": 0.15}


server = server_fixture(*SIZE)
window = window_fixture(pointer=(640, 700))  # below the widgets, away from the fail-safe corners


def model_point(window: TkWindow, name: str, dx: int = 0, dy: int = 0) -> tuple[int, int]:
    x, y = window.center(name)
    return pixel_to_model(x + dx, y + dy, SIZE)


def landing(point: tuple[int, int]) -> list[int]:
    """Where a model point lands on this single 1280x800 monitor at the origin."""
    return list(point_to_pixels(point, SIZE))


def say(call: str, thought: str = "Next step.") -> str:
    return f"{thought}\n<|begin_of_box|>{call}<|end_of_box|>\nMemory:\n[]"


def box(point: tuple[int, int]) -> str:
    return f"'[{point[0]},{point[1]}]'"


def run_episode(
    tmp_path: Path, profile: str, responses: list[str], config: DesktopConfig | None = None, **agent: object
) -> tuple[EpisodeResult, ReplayBackend]:
    backend = ReplayBackend(responses)
    hooks = agent.pop("hooks", None)
    settings = AgentConfig(max_steps=len(responses) + 1, run_dir=tmp_path / "run", write_report=False, **agent)
    with DesktopEnvironment(config or DesktopConfig(**FAST)) as env:
        result = Agent(get_profile(profile), backend, env, settings, hooks=hooks).run("test task")  # type: ignore
    return result, backend


def presses(events: list[Event]) -> list[tuple[str, int, list[int]]]:
    return [(e["widget"], e["button"], [e["x"], e["y"]]) for e in events if e["event"] == "press"]


def test_clicks_land_on_the_exact_pixels_with_the_right_buttons(window: TkWindow, tmp_path: Path) -> None:
    b1, b2, b3, b5, b9 = (model_point(window, n, 7, -5) for n in ("b1", "b2", "b3", "b5", "b9"))
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [
        say(f"left_click(start_box={box(b1)}, element_info='B1')", "I click B1."),
        say(f"right_click(start_box={box(b2)})"),
        say(f"middle_click(start_box={box(b3)})"),
        say(f"left_double_click(start_box={box(b5)})"),
        say(f"hover(start_box={box(b9)})"),
        say("DONE()"),
    ])
    assert result.status == "complete", result.error
    events = window.settle()
    # Tk reports the second press of a double click as the double click itself
    assert presses(events) == [("b1", 1, landing(b1)), ("b2", 3, landing(b2)), ("b3", 2, landing(b3)),
                               ("b5", 1, landing(b5))]
    assert [(e["widget"], [e["x"], e["y"]]) for e in events if e["event"] == "double"] == [("b5", landing(b5))]
    assert [e["widget"] for e in events if e["event"] == "enter"][-1] == "b9"
    assert [s.pixels for s in result.steps[:5]] == [[tuple(landing(p))] for p in (b1, b2, b3, b5, b9)]


def test_typed_chinese_text_and_key_combinations_arrive(server: XServer, window: TkWindow, tmp_path: Path) -> None:
    text = "你好，世界! GLM-4.5V «ok» ✓ 'quotes' \"double\""
    subprocess.run(["xclip", "-selection", "clipboard", "-in"], input=b"what the user had copied",
                   env=server.env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    entry = model_point(window, "entry")
    content = text.replace("\\", "\\\\").replace("'", "\\'")
    result, _ = run_episode(tmp_path, "glm-4.1v/desktop", [
        say(f"left_click(start_box={box(entry)})"),
        say(f"type(content='{content}')"),
        say("key(keys='ctrl+a')"),
        say("key(keys='ctrl+shift+End')"),
        say("key(keys='Return')"),
        say("DONE()"),
    ])
    assert result.status == "complete", result.error
    events = window.settle()
    assert [e["text"] for e in events if e["event"] == "submit"] == [text]
    combos = [(e["mods"], e["keysym"]) for e in events if e["event"] == "key" and e["keysym"] not in MODIFIER_KEYSYMS]
    assert combos == [(["ctrl"], "v"), (["ctrl"], "a"), (["shift", "ctrl"], "End"), ([], "Return")]
    restored = subprocess.run(["xclip", "-selection", "clipboard", "-out"], env=server.env(), capture_output=True)
    assert restored.stdout == b"what the user had copied"


MODIFIER_KEYSYMS = {"Control_L", "Shift_L", "Alt_L", "Super_L"}


def test_drag_and_scroll(window: TkWindow, tmp_path: Path) -> None:
    start, end = model_point(window, "pad", -150, -60), model_point(window, "pad", 140, 50)
    rows = model_point(window, "list")
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [
        say(f"left_drag(start_box={box(start)}, end_box={box(end)})"),
        say(f"scroll(start_box={box(rows)}, direction='down', step=3)"),
        say(f"scroll(start_box={box(rows)}, direction='up', step=1)"),
        say("DONE()"),
    ], DesktopConfig(**FAST, settle_seconds=3.0))  # a generous cap: Tk must have drawn each scroll before the next
    assert result.status == "complete", result.error

    def everything(events: list[Event]) -> bool:  # Tk reports the list's view when idle, after the presses
        views = [e for e in events if e["event"] == "list_view"]
        return any(e["event"] == "drag" for e in events) and len(views) >= 2 and views[-1]["top"] < views[-2]["top"]

    events = window.take(everything)
    drags = [e for e in events if e["event"] == "drag"]
    assert [(d["start"], d["end"]) for d in drags] == [(landing(start), landing(end))]
    assert drags[0]["motions"] >= 2  # the pointer travelled with the button held
    wheel = [(b, at) for widget, b, at in presses(events) if widget == "list"]
    assert wheel == [(5, landing(rows))] * 3 + [(4, landing(rows))]
    # read at each wheel click: Tk may redraw the list (list_view) once for all four when it runs behind
    tops = [e["top"] for e in events if e["event"] == "list_top"]
    assert tops[2] > 0 and tops[3] < tops[2]  # down moved the list, up moved it back a little


def test_dry_run_shows_the_plan_and_touches_nothing(server: XServer, window: TkWindow, tmp_path: Path) -> None:
    b5 = model_point(window, "b5")
    before = server.pointer()
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [
        say(f"left_click(start_box={box(b5)})"),
        say("type(content='secret')"),
        say("key(keys='ctrl+a')"),
        say("WAIT()"),
        say("DONE()"),
    ], DesktopConfig(dry_run=True))
    assert result.status == "complete"
    assert server.pointer() == before
    assert [e for e in window.settle() if e["event"] in ("press", "key", "entry")] == []  # settle: all input so far
    details = [s.detail for s in result.steps[:4]]
    assert details[0] == f"dry run, not executed: would left_click at {tuple(landing(b5))}"
    assert details[1].startswith("dry run, not executed: would type 6 characters 'secret'")
    assert details[2] == "dry run, not executed: would press ctrl+a"
    assert details[3] == "dry run, not executed: would wait 5 s"  # and did not wait: the run was quick
    assert result.steps[0].pixels == [tuple(landing(b5))]
    recorded = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text().splitlines()]
    assert recorded[0]["pixels"] == [landing(b5)]


def test_wait_sleeps_the_configured_time(window: TkWindow, tmp_path: Path) -> None:
    started = time.monotonic()
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [say("WAIT()"), say("DONE()")],
                            DesktopConfig(wait_seconds=0.6))
    assert result.status == "complete"
    assert time.monotonic() - started >= 0.6
    assert result.steps[0].detail == "wait 0.6 s"


def test_a_pointer_pushed_into_a_corner_aborts_the_run(server: XServer, window: TkWindow, tmp_path: Path) -> None:
    b1, b2 = model_point(window, "b1"), model_point(window, "b2")

    def person_grabs_the_mouse(index: int, phase: str) -> None:
        if index == 1 and phase == "execute":
            server.move_pointer(SIZE[0] - 1, SIZE[1] - 1)

    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [
        say(f"left_click(start_box={box(b1)})"), say(f"left_click(start_box={box(b2)})"), say("DONE()"),
    ], hooks=AgentHooks(on_phase=person_grabs_the_mouse))
    assert result.status == "aborted"
    assert "fail-safe" in (result.error or "")
    assert [w for w, _, _ in presses(window.settle())] == ["b1"]  # the second click never happened
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["status"] == "aborted"
    steps = [json.loads(line) for line in (result.run_dir / "steps.jsonl").read_text().splitlines()]
    assert [s["error_kind"] for s in steps] == [None, "UserAbort"]  # the interrupted step is recorded too
    assert "fail-safe" in steps[1]["error"]


def test_the_models_own_corner_click_does_not_trip_the_failsafe(window: TkWindow, tmp_path: Path) -> None:
    b4 = model_point(window, "b4")
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [
        say("left_click(start_box='[0,0]')"), say(f"left_click(start_box={box(b4)})"), say("DONE()"),
    ])
    assert result.status == "complete", result.error
    assert [(b, at) for _, b, at in presses(window.settle())] == [(1, [0, 0]), (1, landing(b4))]


def test_failsafe_can_be_turned_off(server: XServer, window: TkWindow, tmp_path: Path) -> None:
    b6 = model_point(window, "b6")
    server.move_pointer(0, SIZE[1] - 1)
    result, _ = run_episode(tmp_path, "glm-4.5v/desktop", [say(f"left_click(start_box={box(b6)})"), say("DONE()")],
                            DesktopConfig(failsafe=False))
    assert result.status == "complete", result.error
    assert presses(window.settle()) == [("b6", 1, landing(b6))]


def test_an_unknown_key_is_told_to_the_model_and_the_run_goes_on(window: TkWindow, tmp_path: Path) -> None:
    entry = model_point(window, "entry")
    result, backend = run_episode(tmp_path, "glm-4.5v/desktop", [
        say(f"left_click(start_box={box(entry)})"),
        say("key(keys='ctrl+Hyperdrive')"), say("key(keys='Escape')"), say("DONE()"),
    ])
    assert result.status == "complete"
    assert result.steps[1].error_kind == "StepError"
    assert "unknown key 'Hyperdrive'" in (result.steps[1].error or "")
    assert "unknown key 'Hyperdrive'" in backend.requests[2][0].text()
    keys = [e["keysym"] for e in window.settle() if e["event"] == "key"]
    assert keys == ["Escape"]


def test_xdotool_types_the_layouts_characters_exactly_and_refuses_others(window: TkWindow, tmp_path: Path) -> None:
    require_binaries("xdotool")
    entry = model_point(window, "entry")
    ascii_text = "".join(chr(c) for c in range(0x20, 0x7F)) * 3  # every printable ASCII character, with shift
    # what choose_typist picks on a Linux box without xclip/xsel
    with DesktopEnvironment(DesktopConfig(**FAST), typist=XdotoolTypist()) as env:
        observation = env.observe()
        env.execute(PointerAction(type="left_click", start_box=entry), observation)
        outcome = env.execute(TypeContent(content=ascii_text), observation)
        with pytest.raises(StepError, match="cannot type 'ßü你好' exactly: not on the keyboard layout"):
            env.execute(TypeContent(content="Grüße 你好"), observation)  # xdotool would drop some of these
    assert "via xdotool type" in outcome.detail
    window.wait_for(lambda events: any(e.get("text") == ascii_text for e in events))
    assert [e for e in window.settle() if e["event"] == "entry" and e["text"] != ascii_text[: len(e["text"])]] == []


def test_every_key_name_we_resolve_to_is_a_pyautogui_name(server: XServer, window: TkWindow) -> None:
    import pyautogui

    assert NAMED_KEYS | {"win", "command", "option"} <= set(pyautogui.KEY_NAMES)
    entry = model_point(window, "entry")
    with DesktopEnvironment(DesktopConfig(**FAST)) as env:
        observation = env.observe()
        env.execute(PointerAction(type="left_click", start_box=entry), observation)
        with pytest.raises(StepError, match="key 'volumemute' cannot be pressed on this system"):
            env.execute(Key(keys="ctrl+AudioMute"), observation)  # X11 has no mapping for it in pyautogui
        env.execute(Key(keys="Page_Down"), observation)
    keys = [e["keysym"] for e in window.settle() if e["event"] == "key"]
    assert keys == ["Next"]  # X11's name for Page Down; nothing of the refused combination was pressed
