"""``glmv-agent run --platform desktop`` options and the environment they build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from glmv_agent.errors import ConfigError

from ..cli_common import non_negative_seconds
from .environment import DesktopConfig, DesktopEnvironment


def _monitor(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a monitor number (1 is the first monitor)")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the desktop flags; a flag another platform already defined (same name, same meaning) is shared."""
    group = parser.add_argument_group("desktop (--platform desktop)")

    def add(flag: str, **kwargs: object) -> None:
        if flag not in parser._option_string_actions:  # noqa: SLF001 - argparse has no public lookup
            group.add_argument(flag, **kwargs)  # type: ignore[arg-type]

    add(
        "--monitor", type=_monitor, default=None, metavar="N",
        help="monitor to see and act on, numbered as mss numbers them (1, 2, ...); default: the primary monitor",
    )
    add(
        "--dry-run", action="store_true",
        help="plan every action and record where it would land, but do not move the mouse or press keys",
    )
    add(
        "--wait-seconds", type=non_negative_seconds, default=5.0, metavar="S",
        help="how long the model's WAIT() sleeps",
    )
    add(
        "--settle", type=non_negative_seconds, default=1.0, metavar="SECONDS",
        help="after each action, wait until the screen stops changing, at most this long (0: do not wait)",
    )
    add(
        "--no-failsafe", action="store_true",
        help="do not stop the run when the mouse pointer is moved into a screen corner (not recommended)",
    )


def config_from_args(args: argparse.Namespace) -> DesktopConfig:
    return DesktopConfig(
        monitor=getattr(args, "monitor", None),
        dry_run=bool(getattr(args, "dry_run", False)),
        wait_seconds=getattr(args, "wait_seconds", 5.0),
        failsafe=not getattr(args, "no_failsafe", False),
        settle_seconds=_or_default(getattr(args, "settle", None), 1.0),
    )


def _or_default(value: float | None, default: float) -> float:
    """A shared flag another platform defined may default to None ("the platform's own default")."""
    return default if value is None else value


def create(args: argparse.Namespace) -> DesktopEnvironment:
    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise ConfigError(f"invalid desktop option: {exc}") from None
    return DesktopEnvironment(config)


def register_commands(subparsers: Any) -> None:
    monitors = subparsers.add_parser(
        "monitors", help="list the monitors the desktop platform can use (the numbers --monitor takes)",
    )
    monitors.add_argument("--screenshots", type=Path, metavar="DIR",
                          help="also save a screenshot of each monitor as DIR/monitor-N.png, to tell them apart")
    monitors.set_defaults(func=cmd_monitors)


def cmd_monitors(args: argparse.Namespace) -> int:
    with DesktopEnvironment(DesktopConfig(dry_run=True)) as env:
        default = env.monitor.index
        for monitor in env.monitors:
            marks = [m for m, on in (("primary", monitor.primary), ("default", monitor.index == default)) if on]
            line = f"{monitor.index}: {monitor.width}x{monitor.height} at {monitor.left},{monitor.top}"
            sys.stdout.write(line + (f"  ({', '.join(marks)})" if marks else "") + "\n")
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            for monitor in env.monitors:
                env.monitor = monitor
                path = args.screenshots / f"monitor-{monitor.index}.png"
                env.observe().screenshot.save(path)
                sys.stdout.write(f"saved {path}\n")
    return 0


__all__ = ["add_arguments", "cmd_monitors", "config_from_args", "create", "register_commands"]
