"""The Android phone environment over ADB (adb-shell): GLM mobile and AutoGLM-Phone action spaces.

    from glmv_agent.environments.android import MobileConfig, MobileEnvironment
    with MobileEnvironment(MobileConfig(device="192.168.1.23:5555")) as env:
        observation = env.observe()

Observation: ``screencap -p`` through ``exec:`` (PNG) of the display that is on (phones with two displays: see
displays.py; ``MobileConfig.display`` chooses), the foreground app (its table name, else the package; None on the
home screen), rotation and display size. A black frame is either a display that is off (the model is told the
screen is off) or a secure window (payment, password); both are reported to the model (Observation.notes) and to
the person (log warning). After each action that reaches the phone, ``execute`` waits until the screen is still
(settle.py), at most ``MobileConfig.settle_s``; the capture it ended on is the next observation's screenshot.
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

from .actions import HANDLERS, QUIET
from .apps import AppEntry, AppTable, load_apps_file, user_entries
from .config import MobileConfig
from .connection import AdbClient, parse_target
from .displays import DISPLAY_QUERY, Display, choose, parse_displays
from .launcher import Launcher
from .settle import ScreenSettler
from .text_input import Input

log = logging.getLogger(__name__)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECURE_NOTE = (
    "The screenshot is black because the app in front protects its screen (a secure window such as a payment "
    "or password page), so it does not show the real interface. Do not act on the black image: go back, or "
    "ask the person to take over."
)
OFF_NOTE = (
    "The screenshot is black because the phone's screen is switched off, not because of the app. Nothing on it "
    "can be seen or tapped until the person turns the screen on: wait, or ask the person to take over."
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
        self.closed = False
        self.input = Input(self.client, use_adb_keyboard=self.config.use_adb_keyboard,
                           ime_switch_delay_s=self.config.ime_switch_delay_s, sleep=sleep)
        self.launcher = Launcher(self.client, AppTable(extra))
        self.settler = ScreenSettler(self._capture_png, cap_s=self.config.settle_s,
                                     poll_s=self.config.settle_poll_s, sleep=sleep)
        self.display: Display | None = None
        self.capture = ""  # the `screencap` display argument: '' or ' -d ID'
        self._black_streak = 0
        self._problem = ""  # what screencap said when its output held no PNG
        try:
            self._use(choose(self._displays(), self.config.display))
        except BaseException:
            self.close()
            raise

    # --- displays -------------------------------------------------------------------------------------------
    def _displays(self) -> list[Display]:
        return parse_displays(self.client.shell(DISPLAY_QUERY))

    def _use(self, display: Display | None) -> None:
        """Capture (and touch) ``display``; None: the phone's default display (a phone with one display)."""
        self.display = display
        wanted = display.physical_id if display is not None else self.config.display
        self.capture = f" -d {wanted}" if wanted is not None else ""
        logical = display.logical_id if display is not None else None
        self.input.touch = f"input -d {logical}" if logical else "input"
        self.physical_size = self._physical_size(logical)
        if display is not None:
            log.info("capturing display %s", display.describe())

    def _physical_size(self, logical: int | None = None) -> tuple[int, int]:
        output = self.client.shell(f"wm size -d {logical}" if logical else "wm size")
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
        settled = self.settler.take_fresh()  # the capture the wait after the last action ended on
        foreground = self.launcher.foreground()
        if self.config.hide_keyboard and self.input.hide_keyboard():
            log.info("closed the soft keyboard before the screenshot")
            settled = None
        screenshot, notes = self._screenshot(settled)
        black = not notes and self._is_black(screenshot)
        if black:
            screenshot, notes = self._black_frame(screenshot)
        self._black_streak = self._black_streak + 1 if black else 0
        secure = SECURE_NOTE in notes
        width, height = self.physical_size
        display = (height, width) if foreground.rotation % 2 else (width, height)
        return MobileObservation(
            screenshot=screenshot, platform=Platform.MOBILE, app=self.launcher.app_name(foreground.package),
            notes=notes, package=foreground.package, activity=foreground.activity, rotation=foreground.rotation,
            display_size=display if all(display) else screenshot.size, secure=secure,
        )

    def _capture_png(self) -> bytes | None:
        """One ``screencap -p`` of the display in use: the PNG bytes, or None when there is no PNG."""
        data = self.client.data(f"screencap -p{self.capture}")
        start = data.find(PNG_SIGNATURE)  # anything before it is a warning on stderr
        if start < 0:
            self._problem = data[:200].decode("utf-8", "replace").strip() or "no output"
            return None
        return data[start:]

    def _screenshot(self, png: bytes | None = None) -> tuple[Image.Image, list[str]]:
        """The screen as RGB, from ``png`` when given (a fresh capture), else captured now (two tries)."""
        problem = ""
        for _attempt in range(2):
            png = png or self._capture_png()
            if png is not None:
                try:
                    image = Image.open(io.BytesIO(png))
                    image.load()
                    return (image if image.mode == "RGB" else image.convert("RGB")), []
                except (UnidentifiedImageError, OSError) as exc:
                    problem = str(exc)
            else:
                problem = self._problem
            png = None
        log.warning("screencap failed twice (%s); showing the model a black frame", problem)
        width, height = self.physical_size if all(self.physical_size) else (1080, 2400)
        note = f"The screenshot could not be taken (screencap said: {problem}); the image is a placeholder."
        return Image.new("RGB", (width, height)), [note]

    def _is_black(self, image: Image.Image) -> bool:
        _low, high = image.convert("L").getextrema()
        return high <= self.config.black_level

    def _black_frame(self, screenshot: Image.Image) -> tuple[Image.Image, list[str]]:
        """Why the frame is black: the display is off (when another one is on, capture that one instead), or a
        secure window hides the app. Returns the frame to show and the note for the model."""
        displays = self._displays()
        now = self._current(displays)
        if self.config.display is None:
            better = choose(displays)
            if better is not None and better.on and not (now is not None and now.on):
                log.warning("display %s is off; capturing display %s",
                            now.describe() if now else "(the default)", better.describe())
                self._use(better)
                screenshot, notes = self._screenshot()
                if notes or not self._is_black(screenshot):
                    return screenshot, notes
                now = better
        first = self._black_streak == 0
        if now is not None and now.off:
            if first:
                log.warning("the phone's screen is off (display %s): turn it on and unlock it", now.describe())
            return screenshot, [OFF_NOTE]
        if first:
            log.warning("the phone's screen is protected (secure window, e.g. payment or password): the screenshot "
                        "is black; the model is told, and may ask you to take over")
        return screenshot, [SECURE_NOTE]

    def _current(self, displays: list[Display]) -> Display | None:
        """The display being captured, as ``displays`` (a fresh reading) describes it."""
        if self.display is not None:
            return next((d for d in displays if d.physical_id == self.display.physical_id), None)
        if self.config.display is not None:
            return None
        return next((d for d in displays if d.logical_id == 0), displays[0] if len(displays) == 1 else None)

    # --- execute --------------------------------------------------------------------------------------------
    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.check_space(action)
        handler = HANDLERS.get((action.space, action.type))
        if handler is None:
            raise ActionNotSupported(f"action {action.type!r} is not supported on the phone")
        outcome = handler(self, action, observation)
        if self.config.settle_s > 0 and (action.space, action.type) not in QUIET:
            outcome.detail = f"{outcome.detail}; {self.settler.wait().describe()}"
        return outcome

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
