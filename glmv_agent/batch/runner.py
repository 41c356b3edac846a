"""Batch runs: many episodes at once against a served engine, each with its own run folder.

Tasks come from a JSONL file (our format, WebVoyager's or AndroidWorld-style goal lists). Episodes run concurrently
on asyncio (``AsyncAgent``), each environment on its own thread, the model calls under one shared limit. Results are
appended to ``results.jsonl`` as episodes finish, so an interrupted batch resumes where it stopped. Each result
carries a :class:`~glmv_agent.batch.verdicts.Verdict` (benchmark, check or ``unverified``) apart from the model's
status, and ``success`` is that verdict's pass, never the model's own word.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..agent import AgentConfig, AsyncAgent, EpisodeResult
from ..errors import ConfigError
from ..threaded import ThreadedEnvironment
from .tasks import BatchTask, SuccessCheck, check_ids, check_judges, folder_name
from .verdicts import NOTHING_JUDGES, Verdict, combine, run_command, run_function

log = logging.getLogger(__name__)


class EpisodeOutcome(BaseModel):
    """One line of results.jsonl: ``status`` is how the loop ended (the model's word), ``verdict`` whether the task
    was done, ``success`` is ``verdict.result == "pass"``."""

    id: str
    status: str
    success: bool
    verdict: Verdict = Field(default_factory=lambda: NOTHING_JUDGES.model_copy())
    answer: str | None = None
    error: str | None = None
    steps: int = 0
    model_calls: int = 0
    tokens: int = 0
    duration_s: float = 0.0
    run_dir: str | None = None
    slot: str | None = None


# What the caller supplies: for a task and a slot (device serial or None), the agent's parts.
class EpisodeParts(BaseModel):
    """The agent's parts for one episode. ``instruction(env)`` reads the task text from the started environment
    (a benchmark page that states its own task; default: the task line's text). ``judge(env, result)`` is the
    benchmark's verdict, read while the environment is open; it takes precedence over the task's ``check``."""

    model_config = {"arbitrary_types_allowed": True}
    profile: Any
    backend: Any
    make_environment: Callable[[], Any]
    instruction: Callable[[Any], str] | None = None
    judge: Callable[[Any, EpisodeResult], Verdict] | None = None
    params: Any = None  # GenerationParams for this episode (None: the batch config's, else the profile's)
    guard: Any = None  # oversight.Guard
    secrets: Any = None  # oversight.SecretStore


PartsBuilder = Callable[[BatchTask, "str | None"], EpisodeParts]
# The line written for a finished episode: the outcome itself or a subclass with more fields (glmv-agent eval).
LineMaker = Callable[[BatchTask, EpisodeOutcome], EpisodeOutcome]


def read_results(results: Path) -> list[EpisodeOutcome]:
    """The finished episodes in results.jsonl; a line cut off by a killed run is dropped (that task runs again)."""
    if not results.is_file():
        return []
    outcomes = []
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            outcomes.append(EpisodeOutcome.model_validate_json(line))
        except ValidationError:
            continue
    return outcomes


def finished_ids(results: Path) -> set[str]:
    return {outcome.id for outcome in read_results(results)}


def _repair(results: Path) -> None:
    """Rewrite results.jsonl without lines a killed run left unfinished, so appends start on a clean line.
    Good lines are kept byte for byte (with any fields a caller's line maker added)."""
    if not results.is_file():
        return
    text = results.read_text(encoding="utf-8")
    good = [line for line in text.splitlines() if _readable(line)]
    if text != "".join(line + "\n" for line in good):
        results.write_text("".join(line + "\n" for line in good), encoding="utf-8")


def _readable(line: str) -> bool:
    try:
        EpisodeOutcome.model_validate_json(line)
    except ValidationError:
        return False
    return True


class LimitedBackend:
    """Shares one concurrency limit for model calls across episodes (the endpoint's rate limit)."""

    def __init__(self, backend: Any, limit: asyncio.Semaphore) -> None:
        self.backend = backend
        self.limit = limit

    async def agenerate(self, messages: Any, params: Any) -> Any:
        async with self.limit:
            if hasattr(self.backend, "agenerate"):
                return await self.backend.agenerate(messages, params)
            return await asyncio.to_thread(self.backend.generate, messages, params)


class BatchSummary(BaseModel):
    """``succeeded`` / ``failed`` / ``unverified`` count verdicts; ``success_rate`` is passes over judged episodes
    (None when nothing was judged); ``claimed_complete`` counts episodes whose model said it finished. The counts
    cover every result in the folder; ``wall_s`` is the wall time, in seconds, of the run that wrote the summary (a
    resumed run counts only its own)."""

    episodes: int = 0
    succeeded: int = 0
    failed: int = 0
    unverified: int = 0
    success_rate: float | None = None
    claimed_complete: int = 0
    mean_steps: float = 0.0
    tokens: int = 0
    time_per_step_s: float = 0.0
    wall_s: float = 0.0
    by_status: dict[str, int] = Field(default_factory=dict)


def summarize(outcomes: list[EpisodeOutcome], wall_s: float = 0.0) -> BatchSummary:
    if not outcomes:
        return BatchSummary(wall_s=wall_s)
    steps = sum(o.steps for o in outcomes)
    verdicts = Counter(o.verdict.result for o in outcomes)
    judged = verdicts["pass"] + verdicts["fail"]
    return BatchSummary(
        episodes=len(outcomes), succeeded=verdicts["pass"], failed=verdicts["fail"], unverified=verdicts["unverified"],
        success_rate=round(verdicts["pass"] / judged, 4) if judged else None,
        claimed_complete=sum(o.status == "complete" for o in outcomes),
        mean_steps=round(steps / len(outcomes), 2), tokens=sum(o.tokens for o in outcomes),
        time_per_step_s=round(sum(o.duration_s for o in outcomes) / max(1, steps), 3), wall_s=round(wall_s, 3),
        by_status=dict(Counter(o.status for o in outcomes)),
    )


class BatchRunner:
    """Runs tasks with at most ``concurrency`` episodes in flight and ``model_limit`` model calls at once.

    ``slots`` are the devices to share out (one episode per device at a time); None means unlimited slots (each
    episode makes its own browser or screen). ``make_line(task, outcome)`` turns each outcome into the line written
    to results.jsonl (a subclass of EpisodeOutcome with more fields; default: the outcome as is).
    """

    def __init__(
        self,
        build: PartsBuilder,
        out_dir: Path,
        concurrency: int = 4,
        slots: list[str] | None = None,
        model_limit: int | None = None,
        on_done: Callable[[EpisodeOutcome], None] | None = None,
        make_line: LineMaker | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        self.build = build
        self.out_dir = out_dir
        self.concurrency = min(concurrency, len(slots)) if slots else concurrency
        self.slots = slots
        self.model_limit = model_limit or self.concurrency
        self.on_done = on_done
        self.make_line = make_line or (lambda task, outcome: outcome)
        self.results = out_dir / "results.jsonl"

    async def arun(self, tasks: list[BatchTask], config: AgentConfig | None = None) -> list[EpisodeOutcome]:
        """Run the tasks not yet in results.jsonl; return the outcomes of this run."""
        pending = self.pending(tasks)
        if not pending:
            return []
        lanes: asyncio.Queue[Any] = asyncio.Queue()
        for lane in await self._open_lanes():
            lanes.put_nowait(lane)
        limit, gate = asyncio.Semaphore(self.model_limit), asyncio.Semaphore(self.concurrency)
        lock = asyncio.Lock()

        async def one(task: BatchTask) -> EpisodeOutcome:
            async with gate:
                lane = await lanes.get()
                try:
                    outcome = self.make_line(task, await self._run_in(lane, task, limit, config or AgentConfig()))
                finally:
                    lanes.put_nowait(lane)
            async with lock:
                with self.results.open("a", encoding="utf-8") as handle:
                    handle.write(outcome.model_dump_json() + "\n")
            if self.on_done is not None:
                self.on_done(outcome)
            return outcome

        try:
            return list(await asyncio.gather(*(one(task) for task in pending)))
        finally:
            await self._close_lanes()

    def pending(self, tasks: list[BatchTask]) -> list[BatchTask]:
        """Check the tasks, prepare the results folder (repairing a line cut by a kill) and return the tasks not
        finished yet, in order (what resume means). Raises ConfigError for unusable ids or judges."""
        check_ids(tasks)
        check_judges(tasks)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        _repair(self.results)
        done = finished_ids(self.results)
        return [task for task in tasks if task.id not in done]

    async def _open_lanes(self) -> list[Any]:
        """What runs episodes, one at a time each: here the device slots (None: a fresh environment each)."""
        return list(self.slots or [None] * self.concurrency)

    async def _run_in(self, lane: Any, task: BatchTask, limit: asyncio.Semaphore, base: AgentConfig) -> EpisodeOutcome:
        return await self.episode(task, lane, limit, base)

    async def _close_lanes(self) -> None:
        return None

    async def episode(
        self, task: BatchTask, slot: str | None, limit: asyncio.Semaphore, base: AgentConfig
    ) -> EpisodeOutcome:
        """Run one task in ``out_dir/episodes/<id>`` on ``slot`` and judge it; never raises (an episode that cannot
        run is an ``error`` outcome)."""
        started = time.monotonic()
        run_dir = self.out_dir / "episodes" / folder_name(task.id)
        set_aside(run_dir)
        steps = base.max_steps if task.max_steps is None else task.max_steps
        config = base.model_copy(update={"run_dir": run_dir, "max_steps": steps})
        parts: EpisodeParts | None = None
        try:
            parts = self.build(task, slot)
            if parts.params is not None:
                config = config.model_copy(update={"params": parts.params})
            async with ThreadedEnvironment(parts.make_environment, name=task.id) as env:
                text = await env.acall(parts.instruction) if parts.instruction is not None else task.task
                agent = AsyncAgent(parts.profile, LimitedBackend(parts.backend, limit), env, config, guard=parts.guard,
                                   secrets=parts.secrets)
                result = await agent.arun(text)
                verdict = await _judge(task, parts, result, env)
        except Exception as exc:  # noqa: BLE001 - one broken episode never stops the others
            log.warning("task %s failed to run: %s", task.id, exc)
            detail = f"the episode did not run ({type(exc).__name__}), so nothing was judged"
            return EpisodeOutcome(id=task.id, status="error", success=False, error=f"{type(exc).__name__}: {exc}",
                                  verdict=Verdict(detail=detail), duration_s=round(time.monotonic() - started, 3),
                                  slot=slot)
        return EpisodeOutcome(
            id=task.id, status=result.status, success=verdict.passed, verdict=verdict, answer=result.answer,
            error=result.error, steps=len({s.index for s in result.steps}), model_calls=len(result.steps),
            tokens=sum(s.usage.prompt_tokens + s.usage.completion_tokens for s in result.steps),
            duration_s=round(time.monotonic() - started, 3), run_dir=str(result.run_dir), slot=slot,
        )


def set_aside(run_dir: Path) -> None:
    """Keep a folder left by an interrupted earlier run under another name, so the new run starts clean."""
    if not run_dir.exists():
        return
    number = 1
    while run_dir.with_name(f"{run_dir.name}.interrupted-{number}").exists():
        number += 1
    run_dir.rename(run_dir.with_name(f"{run_dir.name}.interrupted-{number}"))


async def _judge(task: BatchTask, parts: EpisodeParts, result: EpisodeResult, env: ThreadedEnvironment) -> Verdict:
    """The benchmark's verdict when the builder gave a judge, else the task's check, else unverified."""
    if parts.judge is not None:
        judge = parts.judge
        try:
            verdict = await env.acall(lambda e: judge(e, result))
        except Exception as exc:  # noqa: BLE001 - an unreadable benchmark leaves the episode unjudged
            return Verdict(source="benchmark", detail=f"the benchmark's result could not be read: {exc}")
        return verdict if isinstance(verdict, Verdict) else Verdict(source="benchmark", detail="judge gave no verdict")
    if task.check is None:
        return NOTHING_JUDGES.model_copy()
    return await _run_check(task.id, task.check, result, env)


async def _run_check(task_id: str, check: SuccessCheck, result: EpisodeResult, env: ThreadedEnvironment) -> Verdict:
    """Every criterion of the check, whatever the model's status said (a claimed success is judged like any run)."""
    parts: list[Verdict] = []
    if check.answer:
        parts.append(_regex("answer", check.answer, result.answer))
    if check.final_url:
        final = await env.acall(lambda e: getattr(e, "current_url", lambda: None)())
        parts.append(_regex("final URL", check.final_url, final or (result.steps[-1].url if result.steps else None)))
    if check.page_text:
        readable = await env.acall(lambda e: hasattr(e, "page_text"))
        text = await env.acall(lambda e: e.page_text()) if readable else None
        parts.append(_regex("page text", check.page_text, text) if readable else
                     Verdict(source="check", detail="this environment cannot read page text"))
    if check.command:
        parts.append(await run_command(check.command, result.run_dir, check.timeout_s, task_id))
    if check.function:
        parts.append(await run_function(check.function, result.run_dir))
    return combine(parts) if parts else NOTHING_JUDGES.model_copy()


def _regex(what: str, pattern: str, value: str | None) -> Verdict:
    matched = re.search(pattern, value or "") is not None
    return Verdict(result="pass" if matched else "fail", source="check",
                   detail=f"{what} {'matches' if matched else 'does not match'} /{pattern}/")
