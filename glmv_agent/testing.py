"""In-memory environment for tests, demos and offline replays (no device needed)."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from .environment import BaseEnvironment
from .errors import StepError
from .geometry import box_center, point_to_pixels
from .types import Observation, Outcome, Platform


class FakeEnvironment(BaseEnvironment):
    """A screen of a given size that records every action it executes (in pixels) and changes after each one.

    ``fail_on`` names action types that raise StepError, to exercise error paths.
    """

    def __init__(
        self,
        platform: Platform = Platform.MOBILE,
        size: tuple[int, int] = (1080, 2400),
        fail_on: frozenset[str] = frozenset(),
        app: str | None = None,
    ) -> None:
        self.platform = platform
        self.spaces = frozenset({"mobile", "autoglm"} if platform is Platform.MOBILE else {platform.value, "desktop"})
        self.size = size
        self.fail_on = fail_on
        self.app = app
        self.executed: list[tuple[str, list[tuple[int, int]], dict[str, Any]]] = []
        self.closed = False

    def observe(self) -> Observation:
        image = Image.new("RGB", self.size, (250, 250, 250))
        draw = ImageDraw.Draw(image)
        draw.text((20, 20), f"actions so far: {len(self.executed)}", fill=(0, 0, 0))
        return Observation(screenshot=image, platform=self.platform, app=self.app)

    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.check_space(action)
        if action.type in self.fail_on:
            raise StepError(f"{action.type} failed on the fake screen")
        points = [point_to_pixels(p, observation.size) for p in _points(action)]
        self.executed.append((action.type, points, action.wire()))
        return Outcome(pixels=points, detail=f"{action.type} at {points}" if points else action.type)

    def close(self) -> None:
        self.closed = True


def _points(action: Any) -> list[tuple[int, int]]:
    box = getattr(action, "box_2d", None)
    if box is not None:
        return [box_center(box)]
    points = []
    for name in ("start_box", "end_box", "element", "start", "end"):
        value = getattr(action, name, None)
        if value is not None:
            points.append(tuple(value))
    return points
