"""The agent loop: observe, render, generate, parse, execute, record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .actions import Answer, is_terminal, outcome_of
from .errors import ActionNotSupported, BackendError, ConfigError, DeviceError, ParseError, StepError, UserAbort
from .guard import WAIT_TYPES, Guard, screen_changed
from .recording import RunRecorder, RunSummary, StepRecord, default_run_dir
from .secrets import SecretStore
from .types import (
    Backend,
    Completion,
    Decision,
    Environment,
    GenerationParams,
    HistoryItem,
    Observation,
    Outcome,
    PromptProfile,
)

log = logging.getLogger(__name__)
StepHook = Callable[[StepRecord], None]
ActionHook = Callable[[Any, Observation], bool | None]  # return False to block the action
PhaseHook = Callable[[int, str], None]  # (step index, "observe" | "generate" | "execute")


class AgentHooks(BaseModel):
    """Callbacks for callers: each finished step, each planned action (may veto), each phase (for live displays)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    on_step: StepHook | None = None
    before_action: ActionHook | None = None
    on_phase: PhaseHook | None = None


class AgentConfig(BaseModel):
    max_steps: int = Field(default=30, ge=1)
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


class _Episode:
    """Mutable state of one run."""

    def __init__(self, task: str, recorder: RunRecorder) -> None:
        self.task = task
        self.recorder = recorder
        self.history: list[HistoryItem] = []
        self.notes: list[str] = []
        self.records: list[StepRecord] = []
        self.answer: str | None = None
        self.status: str | None = None
        self.error: str | None = None

    def end(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error


class Agent:
    """Runs a task with one profile, one backend and one environment."""

    def __init__(
        self,
        profile: PromptProfile,
        backend: Backend,
        environment: Environment,
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

    def run(self, task: str) -> EpisodeResult:
        run_dir = self.config.run_dir or default_run_dir(task, self.config.runs_root)
        summary = RunSummary(task=task, profile=self.profile.key, platform=self.profile.platform.value)
        episode = _Episode(task, RunRecorder(run_dir, summary))
        redactor = self.secrets.log_filter() if self.secrets else None
        handlers = logging.getLogger().handlers if redactor else []
        for handler in handlers:
            handler.addFilter(redactor)  # type: ignore[arg-type]
        try:
            self._loop(episode)
        except (KeyboardInterrupt, UserAbort) as exc:
            episode.end("aborted", self.secrets.redact(str(exc)) or "interrupted by the user")
        finally:
            episode.recorder.finish(episode.status or "aborted", episode.answer, episode.error)
            for handler in handlers:
                handler.removeFilter(redactor)  # type: ignore[arg-type]
            self._report(run_dir)
        return EpisodeResult(
            status=episode.status or "aborted", answer=episode.answer, error=episode.error,
            steps=episode.records, run_dir=run_dir,
        )

    def _report(self, run_dir: Path) -> None:
        if not self.config.write_report:
            return
        try:
            from .report import write_report
        except ImportError:  # pragma: no cover - report module is part of the package
            return
        try:
            write_report(run_dir)
        except Exception as exc:  # noqa: BLE001 - a report failure must never lose the run's result
            log.warning("could not write the run report: %s", exc)

    def _loop(self, episode: _Episode) -> None:
        for index in range(self.config.max_steps):
            self._phase(index, "observe")
            try:
                observation = self.environment.observe()
            except DeviceError as exc:
                episode.end("error", f"device: {exc}")
                return
            if self._no_effect(episode, observation):
                return
            self._step(episode, index, observation)
            if episode.status:
                return
            if self.config.settle_seconds:
                time.sleep(self.config.settle_seconds)
        episode.end("max_steps", f"stopped after {self.config.max_steps} steps without finishing")

    def _step(self, episode: _Episode, index: int, observation: Observation) -> None:
        base = self._base_record(episode, index, observation)
        decision, record = self._decide(episode, observation, base)
        if decision is None:
            return
        if is_terminal(decision.action):
            status, answer = outcome_of(decision.action)
            episode.answer = answer or episode.answer
            self._emit(episode, record)
            episode.end(status)
            return
        self._act(episode, observation, decision, record)

    def _decide(
        self, episode: _Episode, observation: Observation, base: StepRecord
    ) -> tuple[Decision | None, StepRecord]:
        """Ask the model, re-asking with the error on unusable output; None ends the episode."""
        for attempt in range(self.config.max_reasks + 1):
            record = base.model_copy(update={"attempt": attempt, "timings": dict(base.timings)})
            try:
                completion = self._generate(episode, observation, record)
            except BackendError as exc:
                self._fail(episode, record, "error", f"model backend: {exc}", "backend")
                return None, record
            started = time.perf_counter()
            try:
                decision = self.profile.parse(completion.full_text())
            except ParseError as exc:
                record.timings["parse"] = time.perf_counter() - started
                record.error, record.error_kind = str(exc), "parse"
                self._emit(episode, record)
                episode.notes = [f"Your previous reply could not be used ({exc}). Reply again in the required format."]
                continue
            record.timings["parse"] = time.perf_counter() - started
            record.thought, record.memory = decision.thought, decision.memory
            record.action = decision.action.model_dump(mode="json", exclude_none=True)
            episode.notes = []
            return decision, record
        episode.end("failed", f"no usable action after {self.config.max_reasks + 1} tries: {episode.records[-1].error}")
        return None, base

    def _generate(self, episode: _Episode, observation: Observation, record: StepRecord) -> Completion:
        self._phase(record.index, "generate")
        started = time.perf_counter()
        standing = [note for note in [self.secrets.prompt_note()] if note]
        messages = self.profile.render(episode.task, observation, episode.history, [*standing, *episode.notes])
        record.timings["render"] = time.perf_counter() - started
        record.prompt_text = "\n".join(m.text() for m in messages)
        record.prompt_images = sum(len(m.images()) for m in messages)
        started = time.perf_counter()
        completion = self.backend.generate(messages, self.params)
        record.timings["generate"] = time.perf_counter() - started
        record.raw_text, record.reasoning, record.usage = completion.text, completion.reasoning, completion.usage
        return completion

    def _act(self, episode: _Episode, observation: Observation, decision: Decision, record: StepRecord) -> None:
        self._phase(record.index, "execute")
        started = time.perf_counter()
        item = HistoryItem(decision=decision, raw=decision.raw, screenshot=observation.screenshot, app=observation.app)
        if not self._allowed(episode, decision, observation, record, item):
            return
        try:
            outcome = self.environment.execute(self.secrets.reveal(decision.action), observation)
        except (ActionNotSupported, StepError, ConfigError) as exc:
            message = self.secrets.redact(str(exc))
            outcome = Outcome()
            record.error, record.error_kind = message, type(exc).__name__
            item.error = f"Failed: {message}"
            episode.notes = [f"The last action failed: {message}"]
        except DeviceError as exc:
            record.timings["execute"] = time.perf_counter() - started
            self._fail(episode, record, "error", f"device: {self.secrets.redact(str(exc))}", type(exc).__name__)
            return
        else:
            item.note = self.secrets.redact(outcome.note)
            episode.notes = [item.note] if item.note else []
        record.timings["execute"] = time.perf_counter() - started
        record.pixels, record.note = outcome.pixels, item.note
        record.detail = self.secrets.redact(outcome.detail) or ""
        if isinstance(decision.action, Answer):
            episode.answer = decision.action.text
        episode.history.append(item)
        self._emit(episode, record)

    def _allowed(
        self, episode: _Episode, decision: Decision, observation: Observation, record: StepRecord, item: HistoryItem
    ) -> bool:
        """Policy, confirmation and caller veto; a blocked action is recorded and told to the model."""
        verdict = self.guard.check(decision.action, observation) if self.guard else None
        if verdict is not None:
            record.audit.extend(verdict.audit)
            if verdict.stop:
                self._emit(episode, record)
                raise UserAbort("stopped at the confirmation prompt")
        message = verdict.message if verdict is not None and not verdict.allowed else None
        if message is None and self.hooks.before_action is not None:
            if self.hooks.before_action(decision.action, observation) is False:
                message = "The action was blocked by the caller. Choose another way."
                record.audit.append("before_action hook: blocked")
        if message is None:
            return True
        record.error, record.error_kind = message, "blocked"
        item.error = message
        episode.notes = [message]
        episode.history.append(item)
        self._emit(episode, record)
        return False

    def _base_record(self, episode: _Episode, index: int, observation: Observation) -> StepRecord:
        started = time.perf_counter()
        shot = episode.recorder.save_screenshot(index, observation.screenshot)
        marked = None
        if observation.marked_screenshot is not None:
            marked = episode.recorder.save_screenshot(index, observation.marked_screenshot, "_marked")
        return StepRecord(
            index=index, screenshot=shot, marked_screenshot=marked, screen_size=observation.size,
            url=observation.url, app=observation.app, timings={"record": time.perf_counter() - started},
        )

    def _fail(self, episode: _Episode, record: StepRecord, status: str, error: str, kind: Any) -> None:
        record.error = record.error or error
        record.error_kind = record.error_kind or kind
        self._emit(episode, record)
        episode.end(status, error)

    def _emit(self, episode: _Episode, record: StepRecord) -> None:
        episode.records.append(record)
        episode.recorder.add_step(record)
        log.info("step %d: %s %s", record.index, (record.action or {}).get("type"), record.error or "")
        if self.hooks.on_step is not None:
            self.hooks.on_step(record)

    def _phase(self, index: int, phase: str) -> None:
        if self.hooks.on_phase is not None:
            self.hooks.on_phase(index, phase)

    def _no_effect(self, episode: _Episode, observation: Observation) -> bool:
        """Note an action that left the screen unchanged; end the run when the model keeps repeating it."""
        if not (self.config.detect_no_effect and episode.history):
            return False
        last = episode.history[-1]
        action = last.decision.action if last.decision else None
        if action is None or last.error or last.screenshot is None or action.type in WAIT_TYPES:
            return False
        if screen_changed(last.screenshot, observation.screenshot):
            return False
        last.note = "The screen did not change."
        text = last.decision.action_text if last.decision else action.type
        episode.notes.append(f"The screen did not change after your last action ({text}). Do not repeat it.")
        recent = episode.history[-self.config.repeat_limit :]
        same = [item.decision.action for item in recent if item.decision is not None and item.note == last.note]
        if len(same) == self.config.repeat_limit and all(a == action for a in same):
            episode.end("looping", f"the model repeated {action.type} {self.config.repeat_limit} times with no effect")
            return True
        return False
