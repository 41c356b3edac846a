"""The agent loop: observe, render, generate, parse, execute, record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .actions import Answer, is_terminal, outcome_of
from .errors import ActionNotSupported, BackendError, DeviceError, ParseError, StepError, UserAbort
from .recording import RunRecorder, RunSummary, StepRecord, default_run_dir
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


class AgentConfig(BaseModel):
    max_steps: int = Field(default=30, ge=1)
    max_reasks: int = Field(default=2, ge=0)  # re-asks after unusable output, per step
    run_dir: Path | None = None
    runs_root: Path = Path("runs")
    params: GenerationParams | None = None
    settle_seconds: float = Field(default=0.0, ge=0)  # pause after an action before the next screenshot


class EpisodeResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    status: str  # complete | infeasible | failed | max_steps | aborted | error
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
        on_step: StepHook | None = None,
    ) -> None:
        self.profile = profile
        self.backend = backend
        self.environment = environment
        self.config = config or AgentConfig()
        self.on_step = on_step
        self.params = self.config.params or profile.generation_defaults()

    def run(self, task: str) -> EpisodeResult:
        run_dir = self.config.run_dir or default_run_dir(task, self.config.runs_root)
        summary = RunSummary(task=task, profile=self.profile.key, platform=self.profile.platform.value)
        episode = _Episode(task, RunRecorder(run_dir, summary))
        try:
            self._loop(episode)
        except (KeyboardInterrupt, UserAbort) as exc:
            episode.end("aborted", str(exc) or "interrupted by the user")
        finally:
            episode.recorder.finish(episode.status or "aborted", episode.answer, episode.error)
        return EpisodeResult(
            status=episode.status or "aborted", answer=episode.answer, error=episode.error,
            steps=episode.records, run_dir=run_dir,
        )

    def _loop(self, episode: _Episode) -> None:
        for index in range(self.config.max_steps):
            try:
                observation = self.environment.observe()
            except DeviceError as exc:
                episode.end("error", f"device: {exc}")
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
        started = time.perf_counter()
        messages = self.profile.render(episode.task, observation, episode.history, episode.notes)
        record.timings["render"] = time.perf_counter() - started
        record.prompt_text = "\n".join(m.text() for m in messages)
        record.prompt_images = sum(len(m.images()) for m in messages)
        started = time.perf_counter()
        completion = self.backend.generate(messages, self.params)
        record.timings["generate"] = time.perf_counter() - started
        record.raw_text, record.reasoning, record.usage = completion.text, completion.reasoning, completion.usage
        return completion

    def _act(self, episode: _Episode, observation: Observation, decision: Decision, record: StepRecord) -> None:
        started = time.perf_counter()
        item = HistoryItem(decision=decision, raw=decision.raw, screenshot=observation.screenshot, app=observation.app)
        try:
            outcome = self.environment.execute(decision.action, observation)
        except (ActionNotSupported, StepError) as exc:
            outcome = Outcome()
            record.error, record.error_kind = str(exc), type(exc).__name__
            item.error = f"Failed: {exc}"
            episode.notes = [f"The last action failed: {exc}"]
        except DeviceError as exc:
            record.timings["execute"] = time.perf_counter() - started
            self._fail(episode, record, "error", f"device: {exc}", type(exc).__name__)
            return
        else:
            item.note = outcome.note
            episode.notes = [outcome.note] if outcome.note else []
        record.timings["execute"] = time.perf_counter() - started
        record.pixels, record.detail, record.note = outcome.pixels, outcome.detail, outcome.note
        if isinstance(decision.action, Answer):
            episode.answer = decision.action.text
        episode.history.append(item)
        self._emit(episode, record)

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
        if self.on_step is not None:
            self.on_step(record)
