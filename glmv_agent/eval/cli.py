"""``glmv-agent eval miniwob``: measure a deployment on MiniWoB++ in Chromium, scored by the pages' own rewards."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ..profiles import MODELS
from .miniwob import DEFAULT_SCALE, DEFAULT_TASKS


def register_commands(sub: Any) -> None:
    from ..batch.cli import add_ray_argument
    from ..cli import add_endpoint_arguments, step_count

    parser = sub.add_parser("eval", help="measure task success on a benchmark scored by its own code (MiniWoB++)")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True)
    miniwob = benchmarks.add_parser(
        "miniwob", help="MiniWoB++ task pages in Chromium, rewards from the pages",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Serves the MiniWoB++ pages of the miniwob package on 127.0.0.1 and runs seeded episodes with "
                    "the web agent; every episode is scored by the reward the page computes.",
    )
    miniwob.add_argument("--tasks", action="append", metavar="NAMES",
                         help=f"task names or globs, comma-separated or repeated (default: the {len(DEFAULT_TASKS)} "
                              "tasks of the default set, see docs/eval.md)")
    miniwob.add_argument("--list", action="store_true", help="list the task pages and the default set, then exit")
    miniwob.add_argument("--episodes", type=int, default=10, help="episodes per task (seeds SEED, SEED+1, ...)")
    miniwob.add_argument("--seed", type=int, default=0, help="seed of each task's first episode")
    miniwob.add_argument("--concurrency", type=int, default=4, help="episodes in flight (one browser each)")
    miniwob.add_argument("--mode", choices=("som", "pixel"), default="som",
                         help="som: numbered labels, web grammar; pixel: coordinates, desktop grammar")
    miniwob.add_argument("--model", choices=[m for m in MODELS if m != "autoglm-phone"], default="glm-4.5v")
    miniwob.add_argument("--max-steps", type=step_count, default=15, help="model steps per episode")
    miniwob.add_argument("--time-limit", type=float, default=300.0, metavar="S",
                         help="seconds per episode, kept by the page's own timer (it scores a timeout as -1)")
    miniwob.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                         help="device pixels per CSS pixel of the 160x210 task area (3: 480x630 screenshots)")
    miniwob.add_argument("--out", type=Path, default=Path("runs/eval-miniwob"), help="results folder (resumes)")
    miniwob.add_argument("--thinking", choices=("on", "off", "default"), default="default")
    miniwob.add_argument("--temperature", type=float, default=0.0)
    miniwob.add_argument("--browser-executable", metavar="PATH", help="Chromium/Chrome binary")
    miniwob.add_argument("--headed", action="store_true", help="show the browsers (needs a display)")
    add_ray_argument(miniwob)
    add_endpoint_arguments(miniwob)
    miniwob.set_defaults(func=cmd_miniwob)


def _endpoint(args: argparse.Namespace) -> str:
    """What answers, for the record (no key): the replay file, or the endpoint's model and URL."""
    import os

    if args.replay:
        return f"replay {args.replay}"
    url = args.base_url or os.environ.get("GLMV_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or ""
    model = args.api_model or os.environ.get("GLMV_MODEL") or os.environ.get("OPENAI_MODEL") or ""
    return f"{model} at {url}".strip()


def _settings(args: argparse.Namespace, tasks: list[str]) -> Any:
    from pydantic import ValidationError

    from ..errors import ConfigError
    from .runner import EvalSettings

    try:
        return EvalSettings(
            tasks=tasks, episodes=args.episodes, seed=args.seed, model=args.model, mode=args.mode, scale=args.scale,
            max_steps=args.max_steps, time_limit_s=args.time_limit, concurrency=args.concurrency,
            endpoint=_endpoint(args), thinking=None if args.thinking == "default" else args.thinking == "on",
            temperature=args.temperature, browser_executable=args.browser_executable, headed=args.headed,
        )
    except ValidationError as exc:
        problems = "; ".join(f"--{'-'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid eval option: {problems}") from None


def cmd_miniwob(args: argparse.Namespace) -> int:
    from ..progress import make_console
    from .miniwob import available_tasks, pages_root, select_tasks

    console = make_console()
    names = available_tasks(pages_root())
    if args.list:
        console.print(" ".join(names), markup=False)
        console.print(f"default set: {' '.join(DEFAULT_TASKS)}", markup=False)
        return 0
    settings = _settings(args, select_tasks(args.tasks, names))
    summary = asyncio.run(_run(args, settings, console))
    _print_table(console, summary, args.out)
    return 0


async def _run(args: argparse.Namespace, settings: Any, console: Any) -> Any:
    """Run the evaluation; one endpoint client for all episodes (closed in this loop), or a fresh replay each."""
    from ..cli import make_backend
    from .runner import run_miniwob

    shared: dict[str, Any] = {}

    def backend() -> Any:
        if args.replay:
            return make_backend(args)
        if "client" not in shared:
            shared["client"] = make_backend(args, asynchronous=True)
        return shared["client"]

    def done(outcome: Any) -> None:
        colour = {"pass": "green", "fail": "red"}.get(outcome.verdict.result, "yellow")
        console.print(f"{outcome.id}: [{colour}]{outcome.verdict.result}[/] reward {outcome.reward:+.2f}, "
                      f"{outcome.steps} steps, {outcome.seconds:.1f}s, agent: {outcome.status}")

    try:
        return await run_miniwob(settings, args.out, backend, on_done=done, ray=args.ray)
    finally:
        client = shared.get("client")
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()


def _print_table(console: Any, summary: Any, out: Path) -> None:
    from rich.table import Table

    table = Table(title=f"MiniWoB++ ({summary.settings.get('model')}, {summary.settings.get('mode')}): {out}")
    table.add_column("task", no_wrap=True)
    for column in ("episodes", "success", "mean reward", "mean steps", "s / episode", "could not run"):
        table.add_column(column)
    rows = [*summary.tasks.items(), ("all episodes", summary.overall)]
    for name, score in rows:
        table.add_row(name, str(score.episodes), f"{score.success_rate:.0%}", f"{score.mean_reward:+.2f}",
                      f"{score.mean_steps:.1f}", f"{score.mean_seconds:.1f}", str(score.errors))
    console.print(table)
    console.print(f"mean of per-task success rates: {summary.mean_task_success_rate:.1%}; success = the page ended "
                  "the episode with reward 1", markup=False)
    console.print(f"results: {out / 'results.jsonl'}  summary: {out / 'summary.json'}  report: {out / 'summary.html'}",
                  markup=False)
