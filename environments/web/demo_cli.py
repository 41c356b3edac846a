"""``glmv-agent demo``: a scripted web episode against a bundled site in headless Chromium; no model, no network."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any


def register_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="offline demo: a recorded episode on a bundled web app in headless Chromium")
    demo.add_argument("--out", type=Path, help="run folder (default: runs/<time>-demo)")
    demo.add_argument("--headed", action="store_true", help="show the browser and pause between steps")
    demo.add_argument("--browser-executable", help="Chromium/Chrome to use (env GLMV_BROWSER_EXECUTABLE)")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from glmv_agent.agent import AgentHooks
    from glmv_agent.progress import LiveProgress

    from .demo import DEMO_TASK, run_demo

    out = args.out or Path("runs") / f"{datetime.now():%Y%m%d-%H%M%S}-demo"
    print(f"task: {DEMO_TASK}\n(the model's answers are replayed from a recording; the browser, the page and every "
          "action are real)")
    with LiveProgress() as progress:
        result = run_demo(out, headed=args.headed, browser_executable=args.browser_executable,
                          hooks=AgentHooks(on_step=progress.step, on_phase=progress.phase))
    print(f"status: {result.status}")
    if result.answer:
        print(f"answer: {result.answer}")
    print(f"run folder: {result.run_dir}  (open {result.run_dir / 'report.html'})")
    print("\nWith a real model: glmv-agent run \"<task>\" --platform web --url <site> --model glm-4.5v "
          "--base-url http://localhost:8000/v1 --api-model zai-org/GLM-4.5V   (see docs/web.md)")
    return 0 if result.status == "complete" else 1
