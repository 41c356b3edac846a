"""PhoneAgent and DesktopAgent: the step-level calls on an Android phone (ADB) and on this desktop.

    from glmv_agent import PhoneAgent

    with PhoneAgent(device="192.168.1.23:5555", model="glm-4.5v") as phone:   # endpoint from GLMV_BASE_URL
        phone.act("open Settings")
        assert phone.check("the Wi-Fi switch is on")

Boxes from ``locate``: the phone's input pixels (what ``adb shell input tap`` takes) and, on the desktop, logical
screen coordinates with the monitor's origin (what pyautogui takes).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..errors import ConfigError
from ..types import Observation
from .base import Frame, StepAgent
from .options import load_profile, make_backend, step_options


def _platform(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(f"glmv_agent.environments.{module}")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"this agent needs the {extra} extra ({exc.name} is missing): "
                          f"pip install 'glmv-agent[{extra}]'") from None


class PhoneAgent(StepAgent):
    """Step-level calls on a phone: ``device`` is HOST:PORT (wireless debugging, an emulator, the simulated phone),
    a USB serial, or None for the first USB phone (env ANDROID_SERIAL). ``config`` (a MobileConfig) sets the other
    phone options. Model and endpoint arguments and ``options`` as for PageAgent; ``model`` may also be
    autoglm-phone. Raises DeviceError when the phone cannot be reached."""

    name = "phone-agent"

    def __init__(self, device: str | None = None, model: str = "glm-4.5v", *, config: Any = None,
                 base_url: str | None = None, api_key: str | None = None, api_model: str | None = None,
                 backend: Any = None, **options: Any) -> None:
        settings = step_options(options)
        profile = load_profile(model, "mobile", settings)
        client = backend or make_backend(base_url, api_key, api_model, settings)
        android = _platform("android.environment", "mobile")
        config = config or android.MobileConfig()
        if device is not None:
            config = config.model_copy(update={"device": device})
        super().__init__(android.MobileEnvironment(config), profile, client, settings, owns_environment=True)
        self.owns_backend = backend is None

    def frame(self, observation: Observation) -> Frame:
        display = getattr(observation, "display_size", None) or observation.size
        if not all(display):
            return 1.0, 1.0, 0.0, 0.0
        return observation.size[0] / display[0], observation.size[1] / display[1], 0.0, 0.0


class DesktopAgent(StepAgent):
    """Step-level calls on this desktop (one monitor: ``monitor`` as mss numbers them, None for the primary).
    ``config`` (a DesktopConfig) sets the other options (dry_run, failsafe, ...). Model and endpoint arguments and
    ``options`` as for PageAgent. Raises ConfigError when there is no display to control."""

    name = "desktop-agent"

    def __init__(self, model: str = "glm-4.5v", *, monitor: int | None = None, config: Any = None,
                 base_url: str | None = None, api_key: str | None = None, api_model: str | None = None,
                 backend: Any = None, **options: Any) -> None:
        settings = step_options(options)
        profile = load_profile(model, "desktop", settings)
        client = backend or make_backend(base_url, api_key, api_model, settings)
        desktop = _platform("desktop.environment", "desktop")
        config = config or desktop.DesktopConfig()
        if monitor is not None:
            config = config.model_copy(update={"monitor": monitor})
        super().__init__(desktop.DesktopEnvironment(config), profile, client, settings, owns_environment=True)
        self.owns_backend = backend is None

    def frame(self, observation: Observation) -> Frame:
        monitor = self.environment.monitor
        return (observation.size[0] / monitor.width, observation.size[1] / monitor.height,
                float(monitor.left), float(monitor.top))


__all__ = ["DesktopAgent", "PhoneAgent"]
