"""`glmv-agent sim-device`: run the simulated phone on a TCP port (no phone, emulator or adb server needed)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from glmv_agent.errors import ConfigError

from ...cli_common import non_negative_seconds

SIM_DEFAULT_PORT = 15555  # outside 5555-5585, which a running adb server scans for emulators


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
    sim.add_argument("--second-display", type=_size, metavar="WxH",
                     help="a second built-in panel (a foldable's cover screen), used while folded")
    sim.add_argument("--folded", action="store_true",
                     help="start folded: the second display shows everything, the main one is off")
    sim.add_argument("--launch-delay", type=non_negative_seconds, default=0.0, metavar="S",
                     help="how long an app's opening animation runs before the app is drawn")
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
    try:
        from .device import SimulatedPhone
        from .traits import PhoneTraits
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the simulated phone needs the optional extra ({exc.name} is missing): pip install 'glmv-agent[mobile]'"
        ) from None
    if args.folded and args.second_display is None:
        raise ConfigError("--folded needs --second-display WxH (the screen a folded phone uses)")
    traits = PhoneTraits(second_display=args.second_display, folded=args.folded, launch_delay_s=args.launch_delay)
    try:
        phone = SimulatedPhone(args.size, rotation=args.rotation, host=args.host, port=args.port,
                              adb_keyboard=args.adb_keyboard, auth=args.auth,
                              command_log=args.command_log).with_traits(traits)
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


__all__ = ["SIM_DEFAULT_PORT", "register_commands"]
