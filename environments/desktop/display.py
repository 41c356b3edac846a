"""Monitor geometry and the one mapping from screenshot pixels to the screen coordinates the pointer uses.

A screenshot of a monitor has ``shot_size`` pixels; the monitor occupies the rectangle ``left, top, width, height``
in the logical coordinates pyautogui moves the pointer in. On a Retina Mac or a scaled Windows display the screenshot
has more pixels than the monitor has logical units (scale = screenshot width / logical width, e.g. 2.0); on a
secondary monitor the origin is offset, possibly negative (a monitor left of or above the primary one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from glmv_agent.errors import ConfigError, StepError
from glmv_agent.geometry import point_to_pixels

ASPECT_TOLERANCE = 0.02  # screenshot and monitor aspect ratios may differ by rounding only


class Monitor(BaseModel):
    """One monitor: its mss index and its rectangle in logical screen coordinates."""

    model_config = ConfigDict(frozen=True)
    index: int = Field(ge=1)
    left: int
    top: int
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    primary: bool = False

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom

    def describe(self) -> str:
        return f"monitor {self.index} ({self.width}x{self.height} at {self.left},{self.top})"


class ScreenPoint(BaseModel):
    """Where one action point lands: in screenshot pixels and in screen coordinates."""

    model_config = ConfigDict(frozen=True)
    pixel: tuple[int, int]
    screen: tuple[int, int]


def monitors_from_mss(raw: Sequence[Mapping[str, Any]]) -> list[Monitor]:
    """The physical monitors of an ``mss`` monitor list (entry 0, all monitors together, is skipped)."""
    return [
        Monitor(
            index=i, left=int(m["left"]), top=int(m["top"]), width=int(m["width"]), height=int(m["height"]),
            primary=bool(m.get("is_primary", False)),
        )
        for i, m in enumerate(raw)
        if i > 0
    ]


def choose_monitor(monitors: Sequence[Monitor], index: int | None) -> Monitor:
    """The monitor with mss index ``index``; None picks the primary one (else mss monitor 1)."""
    if not monitors:
        raise ConfigError("no monitor found: is the display running (on Linux, is DISPLAY set)?")
    if index is None:
        return next((m for m in monitors if m.primary), monitors[0])
    for monitor in monitors:
        if monitor.index == index:
            return monitor
    listing = "; ".join(m.describe() for m in monitors)
    raise ConfigError(f"there is no monitor {index}; choose --monitor from: {listing}")


def scale_of(shot_size: tuple[int, int], monitor: Monitor) -> tuple[float, float]:
    """Screenshot pixels per logical unit, per axis (2.0 on a Retina display, 1.0 on a plain one)."""
    return shot_size[0] / monitor.width, shot_size[1] / monitor.height


def pixel_to_screen(pixel: tuple[int, int], shot_size: tuple[int, int], monitor: Monitor) -> tuple[int, int]:
    """A screenshot pixel of ``monitor`` to the logical screen coordinate the pointer must go to.

    Raises StepError when the pixel is not on the screenshot, the screenshot does not fit the monitor, or the result
    would leave the monitor; nothing outside the chosen monitor is ever acted on.
    """
    px, py = pixel
    width, height = shot_size
    if width <= 0 or height <= 0:
        raise StepError(f"screenshot size {width}x{height} is empty")
    if not (0 <= px < width and 0 <= py < height):
        raise StepError(f"point ({px}, {py}) is outside the {width}x{height} screenshot")
    sx, sy = scale_of(shot_size, monitor)
    if abs(sx - sy) > ASPECT_TOLERANCE * max(sx, sy):
        raise StepError(
            f"the {width}x{height} screenshot does not match {monitor.describe()}; take a new screenshot"
        )
    # floor(px / scale), in integers: exact at scale 1, the logical unit holding the pixel at scale 2
    x = monitor.left + px * monitor.width // width
    y = monitor.top + py * monitor.height // height
    if not monitor.contains(x, y):
        raise StepError(f"point ({x}, {y}) falls outside {monitor.describe()}; not acting there")
    return x, y


def model_to_screen(point: tuple[int, int], shot_size: tuple[int, int], monitor: Monitor) -> ScreenPoint:
    """A model-space point (thousandths of the screenshot) to its screenshot pixel and screen coordinate."""
    pixel = point_to_pixels(point, shot_size)
    return ScreenPoint(pixel=pixel, screen=pixel_to_screen(pixel, shot_size, monitor))


__all__ = [
    "Monitor", "ScreenPoint", "choose_monitor", "model_to_screen", "monitors_from_mss", "pixel_to_screen",
    "scale_of",
]
