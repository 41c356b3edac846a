"""Options of the phone environment (the `--platform mobile` CLI flags map onto these)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .connection import ConnectionOptions


class MobileConfig(BaseModel):
    """Options of the phone environment (the CLI flags map onto these)."""

    model_config = ConfigDict(extra="forbid")
    device: str | None = None  # HOST:PORT, IP, emulator-5554, USB serial; None: first USB phone / ANDROID_SERIAL
    adb_key: Path | None = None
    apps: dict[str, str | dict[str, str]] = Field(default_factory=dict)  # extra name -> package (or table)
    apps_file: Path | None = None  # JSON or TOML of the same
    hide_keyboard: bool = False  # close the soft keyboard before each screenshot (the protocols recommend it)
    use_adb_keyboard: bool = True  # type through ADB Keyboard when installed
    connection: ConnectionOptions = Field(default_factory=ConnectionOptions)
    wait_seconds: float = Field(default=1.0, ge=0)  # GLM `wait`
    max_wait_seconds: float = Field(default=30.0, ge=0)  # cap for AutoGLM Wait(duration=...)
    long_press_ms: int = Field(default=1000, ge=100)  # GLM long_press
    autoglm_long_press_ms: int = Field(default=3000, ge=100)  # AutoGLM Long Press (its official client's hold)
    double_tap_interval_s: float = Field(default=0.1, ge=0)  # AutoGLM Double Tap: between the two taps
    settle_s: float = Field(default=1.0, ge=0)  # after an action: wait until the screen is still, at most this
    settle_poll_s: float = Field(default=0.0, ge=0)  # pause between two captures while settling (a capture itself
    # takes tens of milliseconds on the simulator and a few hundred on a phone)
    display: int | None = Field(default=None, ge=0)  # display to capture (physical or logical id); None: the one on
    swipe_ms: int = Field(default=500, ge=50)
    ime_switch_delay_s: float = Field(default=0.5, ge=0)  # after switching to ADB Keyboard
    focus_delay_s: float = Field(default=0.5, ge=0)  # input_text: between tapping the field and typing
    black_level: int = Field(default=8, ge=0, le=255)  # brightest pixel value still counted as black
