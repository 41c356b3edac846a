"""DesktopAgent on a real Tk window on Xvfb with replayed model answers: act clicks the widget the model meant,
locate returns the widget's rectangle in screen coordinates (what pyautogui takes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import boxed
from xvfb_support import TkWindow, server_fixture, window_fixture

from glmv_agent import DesktopAgent
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.geometry import pixel_to_model

pytestmark = pytest.mark.xvfb
SIZE = (1280, 800)
server = server_fixture(*SIZE)
window = window_fixture(pointer=(640, 700))


def test_desktop_agent_clicks_and_locates_on_the_screen(window: TkWindow, tmp_path: Path) -> None:
    x, y = pixel_to_model(*window.center("b1"), SIZE)
    left, top, width, height = window.widgets["b2"]
    corners = [*pixel_to_model(left, top, SIZE), *pixel_to_model(left + width, top + height, SIZE)]
    answers = [f"I click B1.\n<|begin_of_box|>left_click(start_box='[{x},{y}]')<|end_of_box|>",
               "Done.\n<|begin_of_box|>DONE()<|end_of_box|>", boxed(str([corners]))]
    with DesktopAgent(backend=ReplayBackend(answers), run_dir=tmp_path / "run") as agent:
        assert agent.act("click B1").status == "complete"
        box = agent.locate("the B2 button")
    presses = [e["widget"] for e in window.settle() if e["event"] == "press"]
    assert presses == ["b1"]
    assert box.x == pytest.approx(left, abs=2) and box.y == pytest.approx(top, abs=2)
    assert box.width == pytest.approx(width, abs=2) and box.height == pytest.approx(height, abs=2)
