"""Command-line glue for the phone: `glmv-agent run --platform mobile` flags and `glmv-agent sim-device`.

Imports of adb-shell and cryptography wait until they are needed, so `glmv-agent` works without the extra."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from glmv_agent.errors import ConfigError

if TYPE_CHECKING:
    from .mobile import MobileConfig, MobileEnvironment

log = logging.getLogger(__name__)
SIM_DEFAULT_PORT = 15555  # outside 5555-5585, which a running adb server scans for emulators


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
    mobile = _load("mobile")
    try:
        return mobile.MobileConfig(
            device=getattr(args, "device", None),
            adb_key=getattr(args, "adb_key", None),
            apps_file=getattr(args, "apps_file", None),
            hide_keyboard=bool(getattr(args, "hide_keyboard", False)),
            use_adb_keyboard=not getattr(args, "no_adb_keyboard", False),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"invalid mobile option {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def create(args: argparse.Namespace, takeover: Callable[[str], object] | None = None) -> MobileEnvironment:
    """The phone environment; ``takeover`` shows AutoGLM's Take_over message and returns when the person is done
    (default: wait for Enter on the terminal)."""
    return _load("mobile").MobileEnvironment(config_from_args(args), takeover=takeover)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1080x2400, got {text!r}") from None
    if not (64 <= width <= 8192 and 64 <= height <= 8192):
        raise argparse.ArgumentTypeError(f"size {text} is out of range (64..8192 per side)")
    return width, height


def register_commands(subparsers: Any) -> None:
    sim = subparsers.add_parser(
        "sim-device", help="run a simulated Android phone that speaks ADB (try the agent without a phone)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (it has no security: keep it local)")
    sim.add_argument("--port", type=int, default=SIM_DEFAULT_PORT, help="TCP port (0: any free port)")
    sim.add_argument("--size", type=_size, default="1080x2400", metavar="WxH",
                     help="screen size, natural orientation")
    sim.add_argument("--rotation", type=int, choices=(0, 1, 2, 3), default=0, help="quarter turns (1: landscape)")
    sim.add_argument("--adb-keyboard", action="store_true", help="pretend ADB Keyboard is installed (not enabled)")
    sim.add_argument("--auth", choices=("none", "accept", "refuse"), default="none",
                     help="ADB authentication: none, accept new keys (as if Allow were tapped), or refuse them")
    sim.add_argument("--command-log", type=Path, metavar="FILE", help="append every command received (JSONL)")
    sim.add_argument("--drop-at", type=int, metavar="N",
                     help="drop the connection instead of running the N-th command (fault injection)")
    sim.add_argument("--down-for", type=float, default=0.0, metavar="S",
                     help="after a drop, refuse connections this long")
    sim.set_defaults(func=cmd_sim_device)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cmd_sim_device(args: argparse.Namespace) -> int:
    simulated = _load("sim_device")
    try:
        phone = simulated.SimulatedPhone(args.size, rotation=args.rotation, host=args.host, port=args.port,
                               adb_keyboard=args.adb_keyboard, auth=args.auth, command_log=args.command_log)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    except OverflowError:
        raise ConfigError(f"--port must be within 0..65535, got {args.port}") from None
    if args.drop_at:
        phone.drop_at(args.drop_at, args.down_for)
    with phone:
        width, height = phone.state.size
        _say(f"simulated phone listening on {phone.serial} ({width}x{height}); Ctrl-C stops it")
        _say(f'try: glmv-agent run "Open Markor" --platform mobile --device {phone.serial}')
        _say(f"or:  adb connect {phone.serial} && adb -s {phone.serial} exec-out screencap -p > screen.png")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            _say("stopped")
    return 0


__all__ = ["add_arguments", "config_from_args", "create", "register_commands"]
