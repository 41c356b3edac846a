"""The screenshot-pixel -> screen mapping: HiDPI scale, offset and negative monitor origins, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glmv_agent.environments.desktop.display import (
    Monitor,
    choose_monitor,
    model_to_screen,
    monitors_from_mss,
    pixel_to_screen,
    scale_of,
)
from glmv_agent.errors import ConfigError, StepError

RETINA = Monitor(index=1, left=0, top=0, width=1440, height=900, primary=True)  # screenshot 2880x1800
LEFT_OF_PRIMARY = Monitor(index=2, left=-1920, top=-200, width=1920, height=1080)
WIN_150 = Monitor(index=1, left=0, top=0, width=2560, height=1440)  # logical size of a 3840x2160 panel at 150 %


def test_retina_screenshot_pixels_map_to_half_as_many_points() -> None:
    assert scale_of((2880, 1800), RETINA) == (2.0, 2.0)
    assert pixel_to_screen((0, 0), (2880, 1800), RETINA) == (0, 0)
    assert pixel_to_screen((2879, 1799), (2880, 1800), RETINA) == (1439, 899)
    assert pixel_to_screen((1001, 601), (2880, 1800), RETINA) == (500, 300)
    # the model's centre of a 2880x1800 screenshot is the centre of the 1440x900 point screen
    point = model_to_screen((500, 500), (2880, 1800), RETINA)
    assert (point.pixel, point.screen) == ((1440, 900), (720, 450))


def test_scaled_windows_display_at_150_percent() -> None:
    point = model_to_screen((250, 750), (3840, 2160), WIN_150)
    assert point.pixel == (960, 1620)
    assert point.screen == (640, 1080)  # 960 / 1.5, 1620 / 1.5


def test_negative_origin_monitor_left_of_and_above_the_primary() -> None:
    assert pixel_to_screen((0, 0), (1920, 1080), LEFT_OF_PRIMARY) == (-1920, -200)
    assert pixel_to_screen((1919, 1079), (1920, 1080), LEFT_OF_PRIMARY) == (-1, 879)
    point = model_to_screen((500, 500), (1920, 1080), LEFT_OF_PRIMARY)
    assert (point.pixel, point.screen) == ((960, 540), (-960, 340))


def test_negative_origin_with_hidpi_scale() -> None:
    monitor = Monitor(index=3, left=-1440, top=0, width=1440, height=900)
    assert model_to_screen((1000, 1000), (2880, 1800), monitor).screen == (-1, 899)
    assert model_to_screen((0, 0), (2880, 1800), monitor).screen == (-1440, 0)


def test_points_off_the_screenshot_are_refused() -> None:
    with pytest.raises(StepError, match="outside the 1920x1080 screenshot"):
        pixel_to_screen((1920, 5), (1920, 1080), LEFT_OF_PRIMARY)
    with pytest.raises(StepError, match="outside"):
        pixel_to_screen((-1, 5), (1920, 1080), LEFT_OF_PRIMARY)


def test_a_screenshot_of_another_shape_is_refused_instead_of_guessing() -> None:
    with pytest.raises(StepError, match="does not match monitor 2"):
        pixel_to_screen((10, 10), (1280, 1024), LEFT_OF_PRIMARY)


@given(
    left=st.integers(-8000, 8000), top=st.integers(-8000, 8000), width=st.integers(200, 8000),
    height=st.integers(200, 8000), scale=st.sampled_from([1.0, 1.25, 1.5, 1.75, 2.0, 3.0]),
    mx=st.integers(0, 1000), my=st.integers(0, 1000),
)
def test_every_model_point_lands_on_the_chosen_monitor(
    left: int, top: int, width: int, height: int, scale: float, mx: int, my: int
) -> None:
    monitor = Monitor(index=1, left=left, top=top, width=width, height=height)
    shot = (round(width * scale), round(height * scale))
    point = model_to_screen((mx, my), shot, monitor)
    assert monitor.contains(*point.screen)
    # the screen point is the logical unit that holds the screenshot pixel
    x, y = point.screen
    assert (x - left) * shot[0] <= point.pixel[0] * width < (x - left + 1) * shot[0]
    assert (y - top) * shot[1] <= point.pixel[1] * height < (y - top + 1) * shot[1]


def test_monitors_from_mss_skip_the_all_monitors_entry_and_default_to_the_primary() -> None:
    raw = [
        {"left": -1920, "top": 0, "width": 3840, "height": 1080},
        {"left": -1920, "top": 0, "width": 1920, "height": 1080, "is_primary": False},
        {"left": 0, "top": 0, "width": 1920, "height": 1080, "is_primary": True},
    ]
    monitors = monitors_from_mss(raw)
    assert [m.index for m in monitors] == [1, 2]
    assert choose_monitor(monitors, None).index == 2
    assert choose_monitor(monitors, 1).left == -1920
    without_primary = monitors_from_mss([raw[0], {**raw[1], "is_primary": False}])
    assert choose_monitor(without_primary, None).index == 1


def test_unknown_monitor_number_lists_the_choices() -> None:
    monitors = monitors_from_mss([{"left": 0, "top": 0, "width": 800, "height": 600}] * 2)
    with pytest.raises(ConfigError, match=r"no monitor 3; choose --monitor from: monitor 1 \(800x600 at 0,0\)"):
        choose_monitor(monitors, 3)
    with pytest.raises(ConfigError, match="no monitor found"):
        choose_monitor([], None)
