"""Desktop environment: screenshots of one monitor with mss, mouse and keyboard through pyautogui.

Speaks the GLM desktop grammar (``left_click``, ``left_drag``, ``key``, ``type``, ``scroll``, ``WAIT``...). Model
coordinates are thousandths of the screenshot the model saw; :func:`desktop_display.model_to_screen` turns them into
the logical screen coordinates pyautogui uses (HiDPI scale and monitor origin included) and refuses points off the
chosen monitor.

After each executed action the environment waits until the screen has settled (:mod:`.settle`, at most
``settle_seconds``); pyautogui's own 100 ms pause after every call is switched off in its place.

Safety: pyautogui's fail-safe stays on unless disabled; moving the pointer into a corner of the main screen stops
the run with :class:`UserAbort`. In dry-run mode nothing is executed; each Outcome says what would have happened.
pyautogui connects to DISPLAY when imported, so it is imported when a (not dry-run) environment starts: a display
it cannot reach is a ConfigError before the first model call. An X server that goes away later is
:class:`DeviceDisconnected` ("display disconnected"), which ends the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from glmv_agent.actions import DesktopWait, Done, Fail, Key, LeftDrag, PointerAction, Scroll, TypeContent
from glmv_agent.environment import BaseEnvironment
from glmv_agent.errors import ConfigError, DeviceDisconnected, DeviceError, GlmvError, StepError, UserAbort
from glmv_agent.types import Observation, Outcome, Platform

from .display import Monitor, ScreenPoint, choose_monitor, model_to_screen, monitors_from_mss
from .keys import resolve_keys
from .settle import StillFrame, wait_until_still
from .typist import Typist, choose_typist
from .x11 import connection_problem, display_gone, quiet_stdout

log = logging.getLogger(__name__)
ABORT_MESSAGE = (
    "stopped by the fail-safe: the mouse pointer was moved into a corner of the screen "
    "(run with --no-failsafe to disable it)"
)
BUTTONS = {"left_click": "left", "right_click": "right", "middle_click": "middle"}
INSTALL_HINT = "pip install 'glmv-agent[desktop]'"
PILLOW_BLOCKS = 8  # freed 16 MB image blocks Pillow keeps for reuse (see enable_pillow_block_cache)
Runner = Callable[[ModuleType], None]


class DesktopConfig(BaseModel):
    """Options of the desktop environment (the CLI flags map onto these)."""

    model_config = ConfigDict(frozen=True)
    monitor: int | None = Field(default=None, ge=1)  # mss monitor index; None: the primary monitor
    dry_run: bool = False  # plan and describe actions without executing them
    wait_seconds: float = Field(default=5.0, ge=0)  # what WAIT() sleeps (the protocols say 5 seconds)
    failsafe: bool = True  # pointer into a screen corner aborts the run
    drag_seconds: float = Field(default=0.3, ge=0)  # pointer travel time while the button is held
    paste_settle_seconds: float = Field(default=0.3, ge=0)  # macOS/Windows: after the paste keys, before restoring
    settle_seconds: float = Field(default=1.0, ge=0)  # after an action, wait at most this for the screen to settle
    settle_still_seconds: float = Field(default=0.25, gt=0)  # ... i.e. to hold still this long after it changed


@dataclass
class _Plan:
    """One action, resolved: where it lands, what it does (human text), and how to run it."""

    detail: str
    points: list[ScreenPoint] = field(default_factory=list)
    run: Runner | None = None  # None: no device effect (DONE, FAIL) or handled without pyautogui (WAIT)
    wait_s: float = 0.0


def load_pyautogui() -> ModuleType:
    """Import pyautogui now (it connects to the display on import), turning start-up failures into ConfigError.

    Sets ``pyautogui.PAUSE`` to 0: its 100 ms sleep after every call is replaced by waiting for the screen to settle.
    """
    pyautogui = sys.modules.get("pyautogui")
    if pyautogui is None:
        try:
            with quiet_stdout():
                import pyautogui
        except ModuleNotFoundError as exc:
            raise ConfigError(f"the desktop platform needs pyautogui ({exc}): {INSTALL_HINT}") from None
        except Exception as exc:  # noqa: BLE001 - Xlib raises many kinds; all mean "cannot reach the display"
            raise ConfigError(connection_problem(exc)) from None
    pyautogui.PAUSE = 0
    return pyautogui


def enable_pillow_block_cache() -> None:
    """Let Pillow reuse freed image memory instead of returning it to the system after every image.

    Pillow's default (PILLOW_BLOCKS_MAX=0) makes every new full-screen image fault in fresh pages: converting a 4K
    capture took ~60 ms instead of ~9 ms on the benchmark machine. Keeping up to 8 blocks of 16 MB fixes that.
    An explicit PILLOW_BLOCKS_MAX in the environment is left alone.
    """
    if "PILLOW_BLOCKS_MAX" not in os.environ and Image.core.get_blocks_max() < PILLOW_BLOCKS:
        Image.core.set_blocks_max(PILLOW_BLOCKS)


@contextmanager
def _failsafe(pyautogui: ModuleType, enabled: bool) -> Iterator[None]:
    saved = pyautogui.FAILSAFE
    pyautogui.FAILSAFE = enabled
    try:
        yield
    finally:
        pyautogui.FAILSAFE = saved


class DesktopEnvironment(BaseEnvironment):
    """The local desktop, one monitor of it."""

    platform = Platform.DESKTOP
    spaces = frozenset({"desktop"})

    def __init__(self, config: DesktopConfig | None = None, *, typist: Typist | None = None) -> None:
        """``typist`` overrides how text is typed (default: :func:`choose_typist` for this system)."""
        self.config = config or DesktopConfig()
        self._typist = typist
        if not self.config.dry_run:  # setup errors end the run before the first model call
            load_pyautogui()
            self._typist = typist or choose_typist(settle_s=self.config.paste_settle_seconds)
        try:
            import mss
        except ImportError:
            raise ConfigError(f"the desktop platform needs mss and pyautogui: {INSTALL_HINT}") from None
        try:
            self._mss: Any = mss.MSS()
            self.monitors: list[Monitor] = monitors_from_mss(self._mss.monitors)
        except Exception as exc:  # noqa: BLE001 - mss raises ScreenShotError and OS-specific errors
            raise ConfigError(
                f"cannot read the screen: {exc} (on Linux, is DISPLAY set to a running X server?)"
            ) from None
        try:
            self.monitor = choose_monitor(self.monitors, self.config.monitor)
        except ConfigError:
            self.close()
            raise
        enable_pillow_block_cache()
        self._parked: tuple[int, int] | None = None  # where our last action left the pointer
        self._prefetch: Callable[[Image.Image], None] | None = None
        self._still: StillFrame | None = None  # the frame the last settle wait confirmed
        log.info("desktop: %s%s", self.monitor.describe(), " (dry run)" if self.config.dry_run else "")
        if os.environ.get("XDG_SESSION_TYPE") == "wayland":
            log.warning("this is a Wayland session: through XWayland the agent sees and controls X11 windows only; "
                        "log in to an X11 session (e.g. 'GNOME on Xorg') for the whole desktop")

    # --- observing -------------------------------------------------------------------------------------------

    def set_prefetch(self, hook: Callable[[Image.Image], None] | None) -> None:
        """``hook(screenshot)`` receives the screen the settle wait after an action is confirming, once it has
        held still for one poll (50 ms), so the backend can encode it during the rest of the wait (250 ms of
        stillness by default); the next observe() returns that very image when the screen still shows it."""
        self._prefetch = hook

    def observe(self) -> Observation:
        """A fresh capture of the monitor (screenshot pixels = the monitor's physical pixels)."""
        shot = self._grab()
        still, self._still = self._still, None
        image = still.take(shot.raw) if still is not None else None
        if image is None:
            image = self._image(shot)
        return Observation(screenshot=image, platform=Platform.DESKTOP)

    @staticmethod
    def _image(shot: Any) -> Image.Image:
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    def _grab_raw(self) -> tuple[bytes, Any]:
        shot = self._grab()
        return bytes(shot.raw), shot

    def _grab(self) -> Any:
        """One mss capture of the monitor; DeviceDisconnected when the display is gone, else DeviceError."""
        m = self.monitor
        if self._mss is None:
            raise DeviceError("the desktop environment is closed")
        try:
            return self._mss.grab({"left": m.left, "top": m.top, "width": m.width, "height": m.height})
        except Exception as exc:  # noqa: BLE001 - mss.ScreenShotError and platform errors
            reason = str(exc) or type(exc).__name__
            raise self._lost() or DeviceError(f"could not capture {m.describe()}: {reason}") from None

    @staticmethod
    def _lost() -> DeviceDisconnected | None:
        """After a failure: DeviceDisconnected when the X server cannot be reached any more, else None."""
        if not sys.platform.startswith("linux") or not display_gone():
            return None
        return DeviceDisconnected(f"display disconnected: the X server {os.environ.get('DISPLAY')} is gone")

    # --- acting ----------------------------------------------------------------------------------------------

    def execute(self, action: Any, observation: Observation) -> Outcome:
        self.check_space(action)
        plan = self._plan(action, observation)
        pixels = [p.pixel for p in plan.points]
        if self.config.dry_run:
            return Outcome(pixels=pixels, detail=f"dry run, not executed: would {plan.detail}")
        if plan.wait_s:
            time.sleep(plan.wait_s)
        if plan.run is None:
            return Outcome(pixels=pixels, detail=plan.detail)
        if self.config.settle_seconds <= 0:
            self._run(plan)
            return Outcome(pixels=pixels, detail=plan.detail)
        before = bytes(self._grab().raw)
        self._run(plan)
        return Outcome(pixels=pixels, detail="; ".join(filter(None, [plan.detail, self._settle(before)])))

    def _settle(self, before: bytes) -> str:
        """Wait for the screen to settle after an action (see :mod:`.settle`); a note when it had not."""
        cap = self.config.settle_seconds
        self._still = StillFrame(self._grab_raw, self._image, self._prefetch)
        settled = wait_until_still(self._still.grab, before, cap, self.config.settle_still_seconds)
        log.debug("screen settled after %.2f s (changed: %s)", settled.seconds, settled.changed)
        return settled.describe(cap)

    def _plan(self, action: Any, observation: Observation) -> _Plan:
        if isinstance(action, PointerAction):
            return self._plan_pointer(action, observation)
        if isinstance(action, LeftDrag):
            start, end = self._point(action.start_box, observation), self._point(action.end_box, observation)
            return _Plan(
                f"left_drag from {start.screen} to {end.screen}", [start, end],
                lambda pg: self._drag(pg, start.screen, end.screen),
            )
        if isinstance(action, Scroll):
            at = self._point(action.start_box, observation)
            clicks = action.step if action.direction == "up" else -action.step  # up = positive wheel clicks
            return _Plan(
                f"scroll {action.direction} {action.step} wheel clicks at {at.screen}", [at],
                lambda pg: pg.scroll(clicks, x=at.screen[0], y=at.screen[1]),
            )
        if isinstance(action, Key):
            names = resolve_keys(action.keys)
            return _Plan(f"press {'+'.join(names)}", run=lambda pg: self._press(pg, names))
        if isinstance(action, TypeContent):
            return self._plan_type(action.content)
        if isinstance(action, DesktopWait):
            return _Plan(f"wait {self.config.wait_seconds:g} s", wait_s=self.config.wait_seconds)
        if isinstance(action, (Done, Fail)):
            return _Plan(f"{action.type}: no device effect")
        raise StepError(f"the desktop environment cannot perform '{getattr(action, 'type', action)}'")

    def _point(self, point: tuple[int, int], observation: Observation) -> ScreenPoint:
        return model_to_screen(point, observation.size, self.monitor)

    def _plan_pointer(self, action: PointerAction, observation: Observation) -> _Plan:
        at = self._point(action.start_box, observation)
        x, y = at.screen
        detail = f"{action.type} at {at.screen}"
        if action.type == "hover":
            return _Plan(detail, [at], lambda pg: pg.moveTo(x, y))
        if action.type == "left_double_click":
            return _Plan(detail, [at], lambda pg: pg.doubleClick(x, y, button="left"))
        button = BUTTONS[action.type]
        return _Plan(detail, [at], lambda pg: pg.click(x, y, button=button))

    def _plan_type(self, content: str) -> _Plan:
        preview = content if len(content) <= 40 else content[:37] + "..."
        if not content:
            return _Plan("type nothing (empty text)")
        typist = self._typist_for_platform()
        return _Plan(
            f"type {len(content)} characters {preview!r} via {typist.name}",
            run=lambda pg: typist.type(content, lambda keys: pg.hotkey(*keys)),
        )

    def _typist_for_platform(self) -> Typist:
        if self._typist is None:  # dry run: chosen only to name it
            self._typist = choose_typist(settle_s=self.config.paste_settle_seconds)
        return self._typist

    def _press(self, pg: ModuleType, names: list[str]) -> None:
        unknown = [name for name in names if not pg.isValidKey(name)]
        if unknown:
            raise StepError(f"key '{unknown[0]}' cannot be pressed on this system (pyautogui has no mapping for it)")
        pg.hotkey(*names)

    def _drag(self, pg: ModuleType, start: tuple[int, int], end: tuple[int, int]) -> None:
        pg.moveTo(*start)
        pg.mouseDown(button="left")
        try:
            pg.moveTo(*end, duration=self.config.drag_seconds)
        finally:
            with _failsafe(pg, False):  # never leave the button held, even when the fail-safe fired mid-drag
                pg.mouseUp(button="left")

    # --- fail-safe -------------------------------------------------------------------------------------------

    def _run(self, plan: _Plan) -> None:
        """Run the plan through pyautogui; a failure because the X server went away is DeviceDisconnected."""
        try:
            self._run_guarded(plan)
        except GlmvError:
            raise
        except Exception:
            lost = self._lost()
            if lost is None:
                raise
            raise lost from None

    def _run_guarded(self, plan: _Plan) -> None:
        assert plan.run is not None
        pg = load_pyautogui()
        if not self.config.failsafe:
            with _failsafe(pg, False):
                plan.run(pg)
            return
        corners = self._corners(pg)
        here = tuple(pg.position())
        if here in corners and here != self._parked:
            raise UserAbort(ABORT_MESSAGE)
        # A corner we put the pointer in ourselves (the model clicked there) must not abort the next action.
        ours = here in corners or any(p.screen in corners for p in plan.points)
        try:
            with _failsafe(pg, not ours):
                plan.run(pg)
        except pg.FailSafeException:
            raise UserAbort(ABORT_MESSAGE) from None
        finally:
            self._parked = tuple(pg.position())

    @staticmethod
    def _corners(pg: ModuleType) -> list[tuple[int, int]]:
        """pyautogui's fail-safe points, recomputed for the current screen size (pyautogui fixes them at import)."""
        width, height = pg.size()
        corners = [(0, 0), (0, height - 1), (width - 1, 0), (width - 1, height - 1)]
        pg.FAILSAFE_POINTS[:] = corners
        return corners

    def close(self) -> None:
        sct, self._mss = getattr(self, "_mss", None), None
        if sct is not None:
            with contextlib.suppress(Exception):  # the X server may be gone already
                sct.close()


__all__ = ["ABORT_MESSAGE", "DesktopConfig", "DesktopEnvironment", "load_pyautogui"]
