"""``glmv-agent batch tasks.jsonl --concurrency N``: many episodes at once, resumable, shardable."""

from __future__ import annotations

import argparse
import asyncio
import copy
import time
from pathlib import Path
from typing import Any

from ..agent import AgentConfig
from ..errors import ConfigError
from ..oversight.guard import Guard
from ..oversight.policy import Policy
from ..oversight.secrets import SecretStore
from ..profiles import get_profile
from . import (
    BatchRunner,
    BatchTask,
    EpisodeOutcome,
    EpisodeParts,
    finished_ids,
    load_tasks,
    read_results,
    shard,
    summarize,
)


def register_commands(sub: Any) -> None:
    from ..cli import (
        add_endpoint_arguments,
        add_generation_arguments,
        add_oversight_arguments,
        add_platform_arguments,
        step_count,
    )

    batch = sub.add_parser("batch", help="run many tasks concurrently (JSONL, WebVoyager or AndroidWorld lists)",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter, conflict_handler="resolve")
    batch.add_argument("tasks", type=Path, help="task file, one JSON object per line")
    batch.add_argument("--format", choices=("auto", "jsonl", "webvoyager", "androidworld"), default="auto")
    batch.add_argument("--concurrency", type=int, default=4, help="episodes in flight")
    batch.add_argument("--model-limit", type=int, help="model calls in flight (default: --concurrency)")
    batch.add_argument("--out", type=Path, default=Path("runs/batch"), help="results folder (resumes if present)")
    batch.add_argument("--shard", help="i/n: run only every n-th task starting at i (0-based)")
    batch.add_argument("--model", default="glm-4.5v", help="default model for lines that name none")
    batch.add_argument("--max-steps", type=step_count, default=30, help="step cap of a task whose line sets none")
    batch.add_argument("--lang", choices=("zh", "en"), help="AutoGLM-Phone's system prompt language (default zh)")
    batch.add_argument("--fake-screen", action="store_true", help="in-memory screens instead of devices")
    batch.add_argument("--check-command", metavar="CMD",
                       help="judge tasks whose line has no check: a command (split like a shell line, run without "
                            "one) that gets the run folder as its last argument; exit 0 = pass")
    batch.add_argument("--check-function", metavar="MODULE:NAME",
                       help="judge tasks whose line has no check: a Python function called with the run folder, "
                            "returning True (pass), False (fail) or None (cannot judge)")
    batch.add_argument("--allow-failures", action="store_true",
                       help="exit 0 even when some episodes did not complete (default: exit 4 then)")
    add_oversight_arguments(batch)
    add_endpoint_arguments(batch)
    add_generation_arguments(batch)
    add_platform_arguments(batch)
    batch.add_argument("--device", action="append", dest="device_list", metavar="DEVICE",
                       help="a phone to share out (repeat for several); episodes wait for a free one")
    add_ray_argument(batch)
    batch.set_defaults(func=cmd_batch)


def _oversight(args: argparse.Namespace) -> tuple[Guard | None, SecretStore]:
    """The policy (nobody is asked in a batch: "confirm" means "not run") and the secrets of the flags."""
    if args.confirm:
        raise ConfigError("--confirm needs a person answering at a terminal, and a batch runs episodes at once; "
                          "use --policy rules (an action they send to confirmation is not run)")
    guard = Guard(Policy.load(args.policy)) if args.policy else None
    return guard, SecretStore.from_sources(args.secret, args.secrets_file)


def add_ray_argument(parser: Any) -> None:
    parser.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                        help="run the episodes as Ray tasks, one actor per device or browser: 'local' starts Ray on "
                             "this machine, an address joins a cluster, nothing joins this node's (then put --ray "
                             "after the task file); docs/batch.md")


def make_runner(args: argparse.Namespace, build: Any, **options: Any) -> BatchRunner:
    """The local runner, or the Ray one when ``--ray`` was given (same results file, resume and shards)."""
    if getattr(args, "ray", None):
        from .ray_runner import RayBatchRunner

        return RayBatchRunner(build, args.out, args.concurrency, address=args.ray, **options)
    return BatchRunner(build, args.out, args.concurrency, **options)


def _builder(args: argparse.Namespace) -> Any:
    from ..cli import generation_params, make_backend, make_environment, profile_key

    shared: dict[str, Any] = {}
    guard, secrets = _oversight(args)

    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        options = copy.copy(args)
        options.platform, options.replay = task.platform, task.replay or args.replay
        if task.url:
            options.url = task.url
        if slot or task.device:
            options.device = task.device or slot
        key = profile_key(task.model, task.platform, getattr(args, "web_mode", None))
        profile = get_profile(key, lang=args.lang if task.model == "autoglm-phone" else None)
        if options.replay:
            backend = make_backend(options)
        else:  # one endpoint client for the whole batch
            if "backend" not in shared:
                shared["backend"] = make_backend(options, asynchronous=True)
            backend = shared["backend"]
        return EpisodeParts(profile=profile, backend=backend, make_environment=lambda: make_environment(options),
                            params=generation_params(args, profile.generation_defaults()), guard=guard, secrets=secrets)

    return build, shared


def cmd_batch(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from ..cli import require_endpoint
    from ..progress import make_console

    tasks = shard(load_tasks(args.tasks, args.format, _defaults(args)), args.shard)
    if not args.replay and not getattr(args, "local", None) and any(not task.replay for task in tasks):
        require_endpoint(args)
    console = make_console()
    devices = getattr(args, "device_list", None)
    with Progress(console=console) as progress:
        bar = progress.add_task("episodes", total=len(tasks))

        def done(outcome: EpisodeOutcome) -> None:
            progress.advance(bar)
            progress.console.print(f"{outcome.id}: {_mark(outcome)}, model: {outcome.status}, {outcome.steps} steps "
                                   f"({outcome.duration_s:.1f}s)", markup=True)

        build, shared = _builder(args)
        runner = make_runner(args, build, slots=devices, model_limit=args.model_limit, on_done=done)
        done_before = finished_ids(runner.results)
        progress.advance(bar, sum(task.id in done_before for task in tasks))
        config = AgentConfig(max_steps=args.max_steps, write_report=False)
        started = time.monotonic()
        outcomes = asyncio.run(_run(runner, tasks, config, shared))
    _print_summary(console, runner, outcomes, time.monotonic() - started)
    # Not complete, or judged a failure by its benchmark or check: either makes the batch exit 4.
    unfinished = [outcome for outcome in read_results(runner.results)
                  if outcome.status != "complete" or outcome.verdict.result == "fail"]
    if unfinished and not args.allow_failures:
        console.print(f"{len(unfinished)} episodes did not complete or failed their check "
                      "(exit 4; --allow-failures exits 0)")
        return 4
    return 0


def _defaults(args: argparse.Namespace) -> dict[str, Any]:
    """Values for task lines that leave them out: the model, and the check the flags give."""
    import shlex

    defaults: dict[str, Any] = {"model": args.model}
    check: dict[str, Any] = {}
    if args.check_command:
        check["command"] = shlex.split(args.check_command)
    if args.check_function:
        check["function"] = args.check_function
    if check:
        defaults["check"] = check
    return defaults


def _mark(outcome: EpisodeOutcome) -> str:
    colour = {"pass": "green", "fail": "red"}.get(outcome.verdict.result, "yellow")
    return f"[{colour}]{outcome.verdict.result}[/]"


async def _run(
    runner: BatchRunner, tasks: list[BatchTask], config: AgentConfig, shared: dict[str, Any]
) -> list[EpisodeOutcome]:
    """Run the batch, then close the shared async endpoint client inside the same event loop."""
    try:
        return await runner.arun(tasks, config)
    finally:
        backend = shared.get("backend")
        if backend is not None and hasattr(backend, "aclose"):
            await backend.aclose()


def _print_summary(console: Any, runner: BatchRunner, outcomes: list[EpisodeOutcome], wall_s: float) -> None:
    """The table, and summary.json over every result in the folder (earlier runs' too); ``wall_s`` is this run's."""
    import json

    from rich.table import Table

    summary = summarize(read_results(runner.results), wall_s)
    (runner.out_dir / "summary.json").write_text(json.dumps(summary.model_dump(), indent=2), encoding="utf-8")
    table = Table(title=f"batch: {runner.out_dir}")
    for column in ("episodes", "passed", "failed", "unverified", "success rate", "model said done", "mean steps",
                   "tokens", "s / step", "by status"):
        table.add_column(column)
    rate = "n/a" if summary.success_rate is None else f"{summary.success_rate:.0%}"
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(summary.by_status.items()))
    table.add_row(str(summary.episodes), str(summary.succeeded), str(summary.failed), str(summary.unverified), rate,
                  str(summary.claimed_complete), f"{summary.mean_steps:.1f}", str(summary.tokens),
                  f"{summary.time_per_step_s:.2f}", statuses)
    console.print(table)
    if summary.unverified:
        console.print(f"{summary.unverified} episodes are unverified: no benchmark or check could judge them, and "
                      "the model's own status is not counted as success (see docs/batch.md, verdicts)")
    console.print(f"this run: {len(outcomes)} episodes; results: {runner.results}")
