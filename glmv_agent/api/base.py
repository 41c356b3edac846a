"""Step-level calls on one environment: ``act``, ``query``, ``check``, ``assert_``, ``locate`` and ``run``.

:class:`StepAgent` (sync) and :class:`AsyncStepAgent` (asyncio) take any environment (``observe``/``execute``, or
``aobserve``/``aexecute`` for the async one), a prompt profile and a backend. ``act`` and ``run`` are the agent loop
(:class:`~glmv_agent.agent.Agent` / ``AsyncAgent``) with the instruction as the task; ``query``, ``check`` and
``locate`` are one screenshot and one question each (:mod:`.calls`). Every call is recorded in the agent's run
folder (:mod:`.session`); closing the agent writes its report. PageAgent, PhoneAgent and DesktopAgent build these
for a Playwright page, a phone and the desktop.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from ..agent import Agent, AgentConfig, AgentHooks, AsyncAgent, EpisodeResult, adrive, drive, step_cap
from ..episode import Episode, Generate, Observe, Request
from ..errors import ConfigError, ParseError
from ..recording import default_run_dir
from ..types import Observation, PromptProfile
from .asking import box_in_pixels, check_prompt, locate_prompt, query_prompt, read_box, read_check, read_query
from .calls import Question, ask
from .options import StepOptions, oversight
from .results import ActFailed, Box, NotFound
from .session import CallRecorder, SessionRecorder

T = TypeVar("T")
Frame = tuple[float, float, float, float]  # screenshot pixels per Box unit (x, y), then the units' origin (x, y)
IDENTITY: Frame = (1.0, 1.0, 0.0, 0.0)


def _steps(max_steps: int | None, default: int) -> int:
    """``max_steps`` as a step cap, None meaning ``default``; ConfigError in one line (the bounds and words of
    ``--max-steps`` and MCP run_task) for anything else than a whole number from 1 to MAX_STEPS, 0 included."""
    if max_steps is None:
        return default
    try:
        return step_cap(max_steps)
    except ValueError as exc:
        raise ConfigError(f"max_steps {exc}") from None


class _InSession:
    """Makes an Agent record its episode into a step agent's run folder instead of a folder of its own."""

    call: CallRecorder

    def _episode(self, task: str) -> Episode:
        return Episode(task, self.call, self)  # type: ignore[arg-type]


class _CallAgent(_InSession, Agent):
    pass


class _AsyncCallAgent(_InSession, AsyncAgent):
    pass


class _StepCore:
    """State and every decision shared by the sync and async step agents (no I/O here)."""

    name = "step-agent"

    def __init__(self, environment: Any, profile: PromptProfile, backend: Any, options: StepOptions | None = None, *,
                 owns_environment: bool = False, name: str | None = None) -> None:
        self.name = name or self.name
        self.environment = environment
        self.profile = profile
        self.backend = backend
        self.options = options or StepOptions()
        self.params = self.options.params or profile.generation_defaults()
        self.guard, self.secrets = oversight(self.options)
        self.hooks = AgentHooks()  # on_step / on_phase / before_action for act and run
        self.owns_environment = owns_environment
        self.owns_backend = False
        run_dir = self.options.run_dir or default_run_dir(self.name, self.options.runs_root)
        self.session = SessionRecorder(run_dir, self.name, profile.key, profile.platform.value)

    @property
    def run_dir(self) -> Any:
        """The agent's run folder (steps.jsonl, calls.jsonl, screenshots/, summary.json, report.html)."""
        return self.session.run_dir

    def _config(self, max_steps: int) -> AgentConfig:
        return AgentConfig(max_steps=max_steps, max_reasks=self.options.max_reasks, run_dir=self.run_dir,
                           params=self.params, write_report=False)

    def _agent_parts(self, kind: str, task: str) -> tuple[CallRecorder, dict[str, Any]]:
        call = self.session.call(kind, self.secrets.redact(task) or "")
        return call, {"hooks": self.hooks, "guard": self.guard, "secrets": self.secrets}

    @staticmethod
    def _acted(instruction: str, result: EpisodeResult) -> EpisodeResult:
        if not result.succeeded:
            raise ActFailed(instruction, result)
        return result

    # --- questions --------------------------------------------------------------------------------------------

    @staticmethod
    def _query(question: str, schema: Any) -> Question:
        return Question("query", question, query_prompt(question, schema), lambda text: read_query(text, schema),
                        lambda r: {"question": question, "text": r.text})

    @staticmethod
    def _check(statement: str, kind: str = "check") -> Question:
        return Question(kind, statement, check_prompt(statement), read_check,
                        lambda r: {"statement": statement, "verdict": r.value, "reason": r.reason})

    @staticmethod
    def _locate(description: str) -> Question:
        def record(reading: Any) -> dict[str, Any]:
            found = {"box_2d": list(reading.value)} if reading.value is not None else {"found": False}
            return {"description": description, **found}

        return Question("locate", description, locate_prompt(description), read_box, record)

    @staticmethod
    def _box(box: tuple[int, int, int, int], observation: Observation, frame: Frame) -> Box:
        """A 0..1000 box as a Box in the agent's units: screenshot pixels divided by the frame's pixels per unit,
        plus its origin."""
        left, top, right, bottom = box_in_pixels(box, observation.size)
        sx, sy, ox, oy = frame
        return Box(x=ox + left / sx, y=oy + top / sy, width=(right - left) / sx, height=(bottom - top) / sy)

    def _question(self, question: Question) -> tuple[CallRecorder, Any]:
        call = self.session.call(question.kind, self.secrets.redact(question.text) or "")
        return call, ask(call, question, self.params, self.options.max_reasks + 1)

    @staticmethod
    def _answered(call: CallRecorder, question: Question, reading: Any) -> None:
        if question.kind == "assert" and not reading.value:
            call.finish("failed", reading.text, reading.reason or "the statement is false")
        elif question.kind == "locate" and reading.value is None:
            call.finish("failed", "none", f"{question.text} is not on the screen")
        else:
            call.finish("complete", reading.text)

    @staticmethod
    def _failed(call: CallRecorder, exc: BaseException) -> None:
        status = "failed" if isinstance(exc, ParseError) else "error"
        call.finish(status, None, f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _verdict(question: Question, reading: Any, message: str | None) -> bool:
        if question.kind == "assert" and not reading.value:
            reason = reading.reason or "the model judged it false"
            raise AssertionError(f"{message or question.text}: {reason}")
        return bool(reading.value)

    def _located(self, question: Question, reading: Any) -> tuple[int, int, int, int]:
        if reading.value is None:
            raise NotFound(f"{question.text!r} is not on the screen (the model answered {reading.text!r})")
        return reading.value

    def _closing(self) -> None:
        self.session.close(self.options.write_report)


class StepAgent(_StepCore):
    """The step-level calls, synchronous. Use as a context manager (or call close()) to finish the report."""

    def act(self, instruction: str, *, max_steps: int | None = None) -> EpisodeResult:
        """Grounded actions until ``instruction`` is done (at most ``max_steps``, default ``act_steps`` = 5).

        Returns the call's EpisodeResult; raises ActFailed (with ``.result``) when it did not complete, ConfigError
        when ``max_steps`` is not a whole number from 1 to 1000 (nothing runs)."""
        return self._acted(instruction, self._loop("act", instruction, _steps(max_steps, self.options.act_steps)))

    def run(self, task: str, *, max_steps: int | None = None) -> EpisodeResult:
        """The whole agent loop on ``task`` (default ``max_steps`` 30); never raises for the task's outcome.

        Raises ConfigError when ``max_steps`` is not a whole number from 1 to 1000 (nothing runs)."""
        return self._loop("run", task, _steps(max_steps, self.options.max_steps))

    def query(self, question: str, schema: type[T] | Any = str) -> T:
        """An answer read from the screen, validated as ``schema`` (str, int, float, bool, a pydantic model, ...).

        Raises ParseError when the model gives no answer of that shape after the re-asks."""
        return self._ask(self._query(question, schema))[0].value

    def check(self, statement: str) -> bool:
        """Whether ``statement`` is true of the screen, in the model's judgement."""
        question = self._check(statement)
        return self._verdict(question, self._ask(question)[0], None)

    def assert_(self, statement: str, message: str | None = None) -> None:
        """Raise AssertionError with the model's reason when ``statement`` is not true of the screen."""
        question = self._check(statement, "assert")
        self._verdict(question, self._ask(question)[0], message)

    def locate(self, description: str) -> Box:
        """The box of the described element (units: see Box); NotFound when the model says it is not there."""
        question = self._locate(description)
        reading, observation = self._ask(question)
        return self._box(self._located(question, reading), observation, self.frame(observation))

    def frame(self, observation: Observation) -> Frame:
        """How screenshot pixels map to Box units; 1:1 here, the platform agents override it."""
        return IDENTITY

    def _loop(self, kind: str, task: str, max_steps: int) -> EpisodeResult:
        call, parts = self._agent_parts(kind, task)
        agent = _CallAgent(self.profile, self.backend, self.environment, self._config(max_steps), **parts)
        agent.call = call
        return agent.run(task)

    def _ask(self, question: Question) -> tuple[Any, Observation]:
        call, machine = self._question(question)
        try:
            reading, observation = drive(machine, self._perform)
        except Exception as exc:
            self._failed(call, exc)
            raise
        self._answered(call, question, reading)
        return reading, observation

    def _perform(self, request: Request) -> Any:
        if isinstance(request, Observe):
            return self.environment.observe()
        assert isinstance(request, Generate)
        return self.backend.generate(request.messages, request.params)

    def close(self) -> None:
        """Write the summary and report; close the environment and endpoint client when the agent made them."""
        if self.session.closed:
            return
        self._closing()
        if self.owns_environment:
            self.environment.close()
        if self.owns_backend and hasattr(self.backend, "close"):
            self.backend.close()

    def __enter__(self) -> StepAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStepAgent(_StepCore):
    """The step-level calls for asyncio; the environment needs ``aobserve``/``aexecute`` (no threads are used)."""

    async def act(self, instruction: str, *, max_steps: int | None = None) -> EpisodeResult:
        """See :meth:`StepAgent.act`."""
        steps = _steps(max_steps, self.options.act_steps)
        return self._acted(instruction, await self._loop("act", instruction, steps))

    async def run(self, task: str, *, max_steps: int | None = None) -> EpisodeResult:
        """See :meth:`StepAgent.run`."""
        return await self._loop("run", task, _steps(max_steps, self.options.max_steps))

    async def query(self, question: str, schema: type[T] | Any = str) -> T:
        """See :meth:`StepAgent.query`."""
        return (await self._ask(self._query(question, schema)))[0].value

    async def check(self, statement: str) -> bool:
        """See :meth:`StepAgent.check`."""
        question = self._check(statement)
        return self._verdict(question, (await self._ask(question))[0], None)

    async def assert_(self, statement: str, message: str | None = None) -> None:
        """See :meth:`StepAgent.assert_`."""
        question = self._check(statement, "assert")
        self._verdict(question, (await self._ask(question))[0], message)

    async def locate(self, description: str) -> Box:
        """See :meth:`StepAgent.locate`."""
        question = self._locate(description)
        reading, observation = await self._ask(question)
        return self._box(self._located(question, reading), observation, await self.aframe(observation))

    async def aframe(self, observation: Observation) -> Frame:
        """How screenshot pixels map to Box units; 1:1 here, the platform agents override it."""
        return IDENTITY

    async def _loop(self, kind: str, task: str, max_steps: int) -> EpisodeResult:
        call, parts = self._agent_parts(kind, task)
        agent = _AsyncCallAgent(self.profile, self.backend, self.environment, self._config(max_steps), **parts)
        agent.call = call
        return await agent.arun(task)

    async def _ask(self, question: Question) -> tuple[Any, Observation]:
        call, machine = self._question(question)
        try:
            reading, observation = await adrive(machine, self._aperform)
        except Exception as exc:
            self._failed(call, exc)
            raise
        self._answered(call, question, reading)
        return reading, observation

    async def _aperform(self, request: Request) -> Any:
        env, backend = self.environment, self.backend
        if isinstance(request, Observe):
            return await env.aobserve()
        assert isinstance(request, Generate)
        if hasattr(backend, "agenerate"):
            return await backend.agenerate(request.messages, request.params)
        return await asyncio.to_thread(backend.generate, request.messages, request.params)

    async def aclose(self) -> None:
        """See :meth:`StepAgent.close`."""
        if self.session.closed:
            return
        self._closing()
        if self.owns_environment and hasattr(self.environment, "aclose"):
            await self.environment.aclose()
        if self.owns_backend and hasattr(self.backend, "aclose"):
            await self.backend.aclose()

    async def __aenter__(self) -> AsyncStepAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["AsyncStepAgent", "StepAgent"]
