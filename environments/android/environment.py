"""The Android phone environment over ADB (adb-shell): GLM mobile and AutoGLM-Phone action spaces.

    from glmv_agent.environments.android import MobileConfig, MobileEnvironment
    with MobileEnvironment(MobileConfig(device="192.168.1.23:5555")) as env:
        observation = env.observe()

Observation: ``screencap -p`` through ``exec:`` (PNG), the foreground app (its table name, else the package;
None on the home screen), rotation and display size. A black frame is what a secure window (payment, password)
gives screencap; it is reported to the model (Observation.notes) and to the person (log warning).
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, UnidentifiedImageError

from glmv_agent.environment import BaseEnvironment
from glmv_agent.errors import ActionNotSupported, StepError
from glmv_agent.types import Observation, Outcome, Platform

from .actions import HANDLERS
from .apps import AppEntry, AppTable, load_apps_file, user_entries
from .config import MobileConfig
from .connection import AdbClient, parse_target
from .launcher import Launcher
from .text_input import Input

log = logging.getLogger(__name__)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECURE_NOTE = (
    "The screenshot is black because the app in front protects its screen (a secure window such as a payment "
    "or password page), so it does not show the real interface. Do not act on the black image: go back, or "
    "ask the person to take over."
)
Prompt = Callable[[str], Any]


class MobileObservation(Observation):
    """An Observation with the phone's details."""

    package: str | None = None
    activity: str | None = None
    rotation: int = 0  # 0-3, quarter turns
    display_size: tuple[int, int] = (0, 0)  # logical (current orientation) size the input commands use
    secure: bool = False


def default_takeover_prompt(message: str) -> None:
    """Wait for Enter on a terminal; in a non-interactive run there is nobody to hand over to."""
    if not sys.stdin or not sys.stdin.isatty():
        raise StepError("takeover needs a terminal: the model asked the person to take over, but this run is "
                        "not interactive (run from a terminal, or pass a takeover prompt)")
    input(f"\n[glmv-agent] The agent hands the phone to you: {message}\nPress Enter when done to resume... ")


class MobileEnvironment(BaseEnvironment):
    platform = Platform.MOBILE
    spaces = frozenset({"mobile", "autoglm"})

    def __init__(self, config: MobileConfig | None = None, *, takeover: Prompt | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config or MobileConfig()
        self.takeover = takeover or default_takeover_prompt
        self.sleep = sleep
        extra: list[AppEntry] = user_entries(self.config.apps) if self.config.apps else []
        if self.config.apps_file is not None:
            extra = [*extra, *load_apps_file(self.config.apps_file)]
        self.client = AdbClient(parse_target(self.config.device), key=self.config.adb_key,
                                options=self.config.connection)
        self.input = Input(self.client, use_adb_keyboard=self.config.use_adb_keyboard,
                           ime_switch_delay_s=self.config.ime_switch_delay_s, sleep=sleep)
        self.launcher = Launcher(self.client, AppTable(extra))
        self.physical_size = self._physical_size()
        self._black_streak = 0
        self.closed = False

    def _physical_size(self) -> tuple[int, int]:
        output = self.client.shell("wm size")
        sizes = {}
        for line in output.splitlines():
            label, _, value = line.partition(":")
            if "x" in value:
                width, height = value.strip().split("x", 1)
                if width.isdigit() and height.isdigit():
                    sizes[label.strip()] = (int(width), int(height))
        return sizes.get("Override size") or sizes.get("Physical size") or (0, 0)

    # --- observe --------------------------------------------------------------------------------------------
    def observe(self) -> MobileObservation:
        foreground = self.launcher.foreground()
        if self.config.hide_keyboard and self.input.hide_keyboard():
            log.info("closed the soft keyboard before the screenshot")
        screenshot, notes = self._screenshot()
        width, height = self.physical_size
        display = (height, width) if foreground.rotation % 2 else (width, height)
        secure = not notes and self._is_black(screenshot)
        if secure:
            notes.append(SECURE_NOTE)
        return MobileObservation(
            screenshot=screenshot, platform=Platform.MOBILE, app=self.launcher.app_name(foreground.package),
            notes=notes, package=foreground.package, activity=foreground.activity, rotation=foreground.rotation,
            display_size=display if all(display) else screenshot.size, secure=secure,
        )

    def _screenshot(self) -> tuple[Image.Image, list[str]]:
        problem = ""
        for _attempt in range(2):
            data = self.client.data("screencap -p")
            start = data.find(PNG_SIGNATURE)
            if start >= 0:
                try:
                    image = Image.open(io.BytesIO(data[start:]))
                    image.load()
                    return (image if image.mode == "RGB" else image.convert("RGB")), []
                except (UnidentifiedImageError, OSError) as exc:
                    problem = str(exc)
            else:
                problem = data[:200].decode("utf-8", "replace").strip() or "no output"
        log.warning("screencap failed twice (%s); showing the model a black frame", problem)
        width, height = self.physical_size if all(self.physical_size) else (1080, 2400)
        note = f"The screenshot could not be taken (screencap said: {problem}); the image is a placeholder."
        return Image.new("RGB", (width, height)), [note]

    def _is_black(self, image: Image.Image) -> bool:
        low, high = image.convert("L").getextrema()
        black = high <= self.config.black_level
        if black and self._black_streak == 0:
            log.warning("the phone's screen is protected (secure window, e.g. payment or password): the screenshot "
                        "is black; the model is told, and may ask you to take over")
        self._black_streak = self._black_streak + 1 if black else 0
        return black

    # --- execute --------------------------------------------------------------------------------------------
    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.check_space(action)
        handler = HANDLERS.get((action.space, action.type))
        if handler is None:
            raise ActionNotSupported(f"action {action.type!r} is not supported on the phone")
        return handler(self, action, observation)

    def to_device(self, point: tuple[int, int], observation: Observation) -> tuple[int, int]:
        """Screenshot pixel -> input coordinate (they differ only if the screenshot was scaled)."""
        display = getattr(observation, "display_size", None) or observation.size
        width, height = observation.size
        if tuple(display) == (width, height) or not all(display):
            return point
        x = min(display[0] - 1, point[0] * display[0] // width)
        return x, min(display[1] - 1, point[1] * display[1] // height)

    def close(self) -> None:
        if not self.closed:
            self.client.close()
            self.closed = True
