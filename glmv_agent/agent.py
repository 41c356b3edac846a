"""The agent: ``Agent(...).run(task)`` (sync) and ``AsyncAgent(...).arun(task)``, both driving one Episode machine."""

from __future__ import annotations

import asyncio
import logging
import numbers
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .episode import AgentHooks, Episode, Execute, Generate, Observe, Request, Settle
from .errors import RecordError, UserAbort
from .oversight.guard import Guard
from .oversight.secrets import SecretStore
from .recording import ActionCounts, RunRecorder, RunSummary, StepRecord, default_run_dir
from .types import Backend, Environment, GenerationParams, PromptProfile

log = logging.getLogger(__name__)

__all__ = ["MAX_STEPS", "Agent", "AgentConfig", "AgentHooks", "AsyncAgent", "EpisodeResult", "StepCap", "step_cap"]

MAX_STEPS = 1000  # the largest step cap: AgentConfig, `run`/`mcp --max-steps` and MCP run_task's max_steps


def step_cap(value: object) -> int:
    """``value`` as a step cap: a whole number from 1 to MAX_STEPS (an integral float such as 5.0 counts, and any
    integer type such as numpy's; a bool or a string does not). Raises ValueError saying what is accepted, in one
    line."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS:
        raise ValueError(f"must be a whole number from 1 to {MAX_STEPS} (got {repr(value)[:40]})")
    return value


# A step cap in a pydantic model: step_cap sees the value as given, so "7" or True is refused as the CLI, MCP
# run_task and task lines refuse them (pydantic's lax int would read them as 7 and 1).
StepCap = Annotated[int, BeforeValidator(step_cap)]


class AgentConfig(BaseModel):
    max_steps: StepCap = 30
    max_reasks: int = Field(default=2, ge=0)  # re-asks after unusable output, per step
    run_dir: Path | None = None
    runs_root: Path = Path("runs")
    params: GenerationParams | None = None
    settle_seconds: float = Field(default=0.0, ge=0)  # pause after an action before the next screenshot
    detect_no_effect: bool = True  # tell the model when its action did not change the screen
    repeat_limit: int = Field(default=3, ge=2)  # identical no-effect actions in a row that end the run
    write_report: bool = True  # HTML report + GIF at the end of the run


class EpisodeResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    status: str  # complete | infeasible | failed | max_steps | looping | aborted | error
    answer: str | None = None
    error: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    run_dir: Path
    actions: ActionCounts = Field(default_factory=ActionCounts)  # executed / refused / failed

    @property
    def succeeded(self) -> bool:
        return self.status == "complete"


class _AgentBase:
    def __init__(
        self,
        profile: PromptProfile,
        backend: Any,
        environment: Any,
        config: AgentConfig | None = None,
        *,
        hooks: AgentHooks | None = None,
        guard: Guard | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        self.profile = profile
        self.backend = backend
        self.environment = environment
        self.config = config or AgentConfig()
        self.hooks = hooks or AgentHooks()
        self.guard = guard
        self.secrets = secrets or SecretStore()
        self.params = self.config.params or profile.generation_defaults()
        # Pipelining: a backend that can encode a screenshot ahead of the request (``prefetch``) gets the one an
        # environment is confirming still after an action (``set_prefetch``) and this step's re-sent thumbnail, so
        # the encoding runs during the wait and the action instead of after them. Both methods are optional.
        hook = getattr(backend, "prefetch", None)
        self._prefetch: Callable[[Any], None] | None = hook if callable(hook) else None
        connect = getattr(environment, "set_prefetch", None)
        if self._prefetch is not None and callable(connect):
            connect(self._prefetch)

    def _prefetch_resent(self, request: Execute) -> None:
        """The next request re-sends this step's thumbnail (GLM desktop): encode it while the action runs."""
        if request.resent is not None and self._prefetch is not None:
            self._prefetch(request.resent)

    def _episode(self, task: str) -> Episode:
        """A secret value the user wrote into the task becomes its placeholder everywhere: in the prompt (the model
        can still type it as <secret>NAME</secret>), the folder name, the summary and the report."""
        task = self.secrets.redact(task) or ""
        run_dir = self.config.run_dir or default_run_dir(task, self.config.runs_root)
        summary = RunSummary(task=task, profile=self.profile.key, platform=self.profile.platform.value)
        return Episode(task, RunRecorder(run_dir, summary), self)

    @contextmanager
    def _session(self, episode: Episode) -> Iterator[None]:
        """Scrub secrets from log output, turn interruptions into 'aborted', always finish the record."""
        redactor = self.secrets.log_filter() if self.secrets else None
        handlers = list(logging.getLogger().handlers) if redactor else []
        for handler in handlers:
            handler.addFilter(redactor)  # type: ignore[arg-type]
        try:
            yield
        except (KeyboardInterrupt, asyncio.CancelledError, UserAbort) as exc:
            episode.end("aborted", self.secrets.redact(str(exc)) or "interrupted by the user")
            if isinstance(exc, asyncio.CancelledError):
                self._finish(episode)
                raise
        except RecordError as exc:  # full disk, read-only folder: what was written stays; the summary is tried
            episode.end("error", str(exc))
        except Exception as exc:  # a bug in a driver or hook: keep the trajectory, report one clear line
            log.exception("the run stopped on an unexpected error")
            episode.end("error", f"unexpected {type(exc).__name__}: {self.secrets.redact(str(exc))}")
        finally:
            for handler in handlers:
                handler.removeFilter(redactor)  # type: ignore[arg-type]
        self._finish(episode)

    def _finish(self, episode: Episode) -> None:
        if episode.recorder.summary.finished_at is not None:
            return
        try:
            episode.recorder.finish(episode.status or "aborted", episode.answer, episode.error)
        except RecordError as exc:
            log.warning("%s (the summary could not be written)", exc)
            return
        if self.config.write_report:
            try:
                from .report.writer import write_report

                write_report(episode.recorder.run_dir)
            except Exception as exc:  # noqa: BLE001 - a report failure must never lose the run's result
                log.warning("could not write the run report: %s", exc)

    @staticmethod
    def _result(episode: Episode) -> EpisodeResult:
        return EpisodeResult(
            status=episode.status or "aborted", answer=episode.answer, error=episode.error,
            steps=episode.records, run_dir=episode.recorder.run_dir, actions=episode.recorder.summary.actions,
        )


class Agent(_AgentBase):
    """Runs a task with one profile, one backend (``generate``) and one environment (``observe``/``execute``)."""

    backend: Backend
    environment: Environment

    def run(self, task: str) -> EpisodeResult:
        episode = self._episode(task)
        with self._session(episode):
            drive(episode.run(), self._perform)
        return self._result(episode)

    def _perform(self, request: Request) -> Any:
        if isinstance(request, Observe):
            return self.environment.observe()
        if isinstance(request, Generate):
            return self.backend.generate(request.messages, request.params)
        if isinstance(request, Execute):
            self._prefetch_resent(request)
            return self.environment.execute(request.action, request.observation)
        time.sleep(request.seconds)
        return None


class AsyncAgent(_AgentBase):
    """The same loop for asyncio: an async backend (``agenerate``) and an environment with ``aobserve`` and
    ``aexecute`` (or a sync one, which runs in a worker thread)."""

    async def arun(self, task: str) -> EpisodeResult:
        episode = self._episode(task)
        with self._session(episode):
            await adrive(episode.run(), self._aperform)
        return self._result(episode)

    async def _aperform(self, request: Request) -> Any:
        env, backend = self.environment, self.backend
        if isinstance(request, Observe):
            return await env.aobserve() if hasattr(env, "aobserve") else await asyncio.to_thread(env.observe)
        if isinstance(request, Generate):
            if hasattr(backend, "agenerate"):
                return await backend.agenerate(request.messages, request.params)
            return await asyncio.to_thread(backend.generate, request.messages, request.params)
        if isinstance(request, Execute):
            self._prefetch_resent(request)
            if hasattr(env, "aexecute"):
                return await env.aexecute(request.action, request.observation)
            return await asyncio.to_thread(env.execute, request.action, request.observation)
        assert isinstance(request, Settle)
        await asyncio.sleep(request.seconds)
        return None


def drive(machine: Any, perform: Any) -> Any:
    """Run a sans-I/O machine to its end, performing each request it yields; exceptions go back into it, which
    decides what is fatal. Returns the machine's return value (the episode's: None)."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            request = machine.throw(error) if error is not None else machine.send(result)
        except StopIteration as stop:
            return stop.value
        try:
            result, error = perform(request), None
        except Exception as exc:  # noqa: BLE001 - handed to the machine
            result, error = None, exc


async def adrive(machine: Any, perform: Any) -> Any:
    """:func:`drive` for an async ``perform``."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            request = machine.throw(error) if error is not None else machine.send(result)
        except StopIteration as stop:
            return stop.value
        try:
            result, error = await perform(request), None
        except Exception as exc:  # noqa: BLE001 - handed to the machine
            result, error = None, exc
