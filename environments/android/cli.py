"""Command-line glue for the phone: the `glmv-agent run --platform mobile` flags.

Imports of adb-shell and cryptography wait until they are needed, so `glmv-agent` works without the extra."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from glmv_agent.errors import ConfigError

from ..cli_common import non_negative_seconds

if TYPE_CHECKING:
    from .environment import MobileConfig, MobileEnvironment

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the phone flags to `glmv-agent run` (a flag another platform already defined is shared)."""
    group = parser.add_argument_group("mobile (--platform mobile)")

    def add(flag: str, **kwargs: Any) -> None:
        if flag not in parser._option_string_actions:  # noqa: SLF001 - argparse has no public lookup
            group.add_argument(flag, **kwargs)

    add("--device", metavar="HOST:PORT|SERIAL",
        help="the phone: HOST:PORT for wireless debugging or an emulator, a USB serial, or nothing for the first "
             "USB phone (env ANDROID_SERIAL)")
    add("--adb-key", type=Path, metavar="PATH",
        help="ADB private key (default: ~/.android/adbkey if present, else ~/.config/glmv-agent/adbkey, created once)")
    add("--apps-file", type=Path, metavar="PATH",
        help='JSON or TOML table of extra app names for open_app/Launch: {"My Bank": "com.example.bank"}')
    add("--hide-keyboard", action="store_true", help="close the soft keyboard before each screenshot")
    add("--no-adb-keyboard", action="store_true",
        help="never type through ADB Keyboard (ASCII text only, with `input text`)")
    add("--display", type=_display_id, metavar="ID",
        help="phones with several displays (foldables, rear screens): the display to capture, by the id "
             "`screencap -d` takes or its logical id (default: the display that is on)")
    add("--settle", type=non_negative_seconds, default=None, metavar="SECONDS",
        help="after each action, wait until the screen stops changing, at most this long; 0: do not wait "
             "(default: 1 s, the official AutoGLM client's pause)")


def _display_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a display id (a number: see `adb shell dumpsys display`)")
    return int(text)


def _load(module: str) -> ModuleType:
    """One of this package's phone modules; a clear ConfigError when the `mobile` extra is missing."""
    import importlib

    try:
        return importlib.import_module(f"{__package__}.{module}")
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the phone needs the optional extra ({exc.name} is missing): pip install 'glmv-agent[mobile]'"
        ) from None


def config_from_args(args: argparse.Namespace) -> MobileConfig:
    mobile = _load("environment")
    settle = getattr(args, "settle", None)  # None: the flag was not given (or another platform defined it)
    try:
        return mobile.MobileConfig(
            device=getattr(args, "device", None),
            adb_key=getattr(args, "adb_key", None),
            apps_file=getattr(args, "apps_file", None),
            hide_keyboard=bool(getattr(args, "hide_keyboard", False)),
            use_adb_keyboard=not getattr(args, "no_adb_keyboard", False),
            display=getattr(args, "display", None),
            **({"settle_s": settle} if settle is not None else {}),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"invalid mobile option {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def create(args: argparse.Namespace, takeover: Callable[[str], object] | None = None) -> MobileEnvironment:
    """The phone environment; ``takeover`` shows AutoGLM's Take_over message and returns when the person is done
    (default: wait for Enter on the terminal)."""
    return _load("environment").MobileEnvironment(config_from_args(args), takeover=takeover)


__all__ = ["add_arguments", "config_from_args", "create"]
