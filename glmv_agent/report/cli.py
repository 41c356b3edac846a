"""``glmv-agent report RUN_DIR``: (re)build a run folder's HTML report and GIF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import GlmvError
from .writer import write_report


def register_commands(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="write report.html and report.gif for a run folder")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder (has steps.jsonl)")
    report.add_argument("--no-gif", action="store_true", help="skip the animated GIF")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir
    if not (run_dir / "steps.jsonl").is_file():
        sys.stderr.write(f"error: {run_dir} is not a run folder (no steps.jsonl); pass the folder a run wrote\n")
        return 2
    try:
        page = write_report(run_dir, gif=not args.no_gif)
    except (GlmvError, OSError) as exc:
        sys.stderr.write(f"error: cannot write the report for {run_dir}: {exc}\n")
        return 2
    sys.stdout.write(f"{page}\n")
    return 0
