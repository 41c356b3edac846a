"""One episode as a sans-I/O state machine shared by the sync and async agents.

The machine is a generator: it yields requests (:class:`Observe`, :class:`Generate`, :class:`Execute`,
:class:`Settle`) and is sent their results, or has their exceptions thrown into it. All decisions (parsing, re-asks,
policy, notes, recording, statuses) live here once; ``Agent`` and ``AsyncAgent`` only perform the I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from .actions import AGENT_TYPES, Answer, is_terminal, outcome_of
from .errors import (
    ActionNotSupported,
    BackendError,
    ConfigError,
    DeviceError,
    ParseError,
    StepError,
    ThinkingCut,
    UserAbort,
)
from .history import history_item, remember
from .oversight.guard import WAIT_TYPES, Guard, screen_changed
from .oversight.secrets import SecretStore
from .parsing import parse_completion, split_reasoning
from .recording import RunRecorder, StepRecord
from .types import ChatMessage, Completion, Decision, GenerationParams, HistoryItem, Observation, Outcome, Usage

log = logging.getLogger("glmv_agent.agent")
StepHook = Callable[[StepRecord], None]
ActionHook = Callable[[Any, Observation], "bool | None"]  # return False to block the action
PhaseHook = Callable[[int, str], None]  # (step index, "observe" | "generate" | "execute")


class AgentHooks(BaseModel):
    """Callbacks for callers: each finished step, each planned action (may veto), each phase (for live displays)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    on_step: StepHook | None = None
    before_action: ActionHook | None = None
    on_phase: PhaseHook | None = None


@dataclass(frozen=True)
class Observe:
    index: int


@dataclass(frozen=True)
class Generate:
    messages: list[ChatMessage]
    params: GenerationParams


@dataclass(frozen=True)
class Execute:
    action: Any
    observation: Observation
    resent: Any = None  # this step's image the next request sends again (GLM desktop's half-size copy), if any


@dataclass(frozen=True)
class Settle:
    seconds: float


Request = Observe | Generate | Execute | Settle
_NO_GUARD = Guard()
Machine = Generator[Request, Any, None]


class Episode:
    """State of one run plus the generator that drives it."""

    def __init__(self, task: str, recorder: RunRecorder, settings: Any) -> None:
        self.task = task
        self.recorder = recorder
        self.s = settings  # the agent: profile, config, params, hooks, guard, secrets
        self.history: list[HistoryItem] = []
        self.notes: list[str] = []
        self.records: list[StepRecord] = []
        self.answer: str | None = None
        self.status: str | None = None
        self.error: str | None = None

    def end(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error

    @property
    def secrets(self) -> SecretStore:
        return self.s.secrets

    def run(self) -> Machine:
        config = self.s.config
        for index in range(config.max_steps):
            self._phase(index, "observe")
            started = time.perf_counter()
            try:
                observation = yield Observe(index)
            except DeviceError as exc:
                self.end("error", f"device: {self.secrets.redact(str(exc))}")
                return
            observe_s = time.perf_counter() - started
            if self._no_effect(observation):
                return
            yield from self._step(index, observation, observe_s)
            if self.status:
                return
            if config.settle_seconds:
                yield Settle(config.settle_seconds)
        self.end("max_steps", f"stopped after {config.max_steps} steps without finishing")

    def _step(self, index: int, observation: Observation, observe_s: float) -> Machine:
        base = self._base_record(index, observation)
        base.timings = {"observe": observe_s, **base.timings}
        decision, record = yield from self._decide(observation, base)
        if decision is None:
            return
        if is_terminal(decision.action):
            status, answer = outcome_of(decision.action)
            self.answer = self.secrets.redact(answer) or self.answer
            self._emit(record)
            self.end(*self._verified(status))
            return
        yield from self._act(observation, decision, record)

    def _verified(self, status: str) -> tuple[str, str | None]:
        """The model's own status, unless it claims success while every action it attempted was refused or failed
        (a run that answers without acting at all stays complete)."""
        counts = self.recorder.summary.actions
        if status == "complete" and counts.executed == 0 and counts.refused + counts.failed > 0:
            return "failed", (f"no action took effect: the model declared success, but of its actions "
                              f"{counts.refused} were refused and {counts.failed} failed")
        return status, None

    def _decide(self, observation: Observation, base: StepRecord) -> Generator[Request, Any, tuple[Any, StepRecord]]:
        """Ask the model, re-asking with the error on unusable output; (None, record) ends the episode."""
        tries = self.s.config.max_reasks + 1
        for attempt in range(tries):
            record = base.model_copy(update={"attempt": attempt, "timings": dict(base.timings)})
            try:
                completion = yield from self._generate(observation, record)
            except BackendError as exc:
                self._fail(record, "error", f"model backend: {exc}", "backend")
                return None, record
            started = time.perf_counter()
            try:
                decision = parse_completion(self.s.profile, completion)
            except ParseError as exc:
                record.timings["parse"] = time.perf_counter() - started
                record.error, record.error_kind = str(exc), "thinking_cut" if isinstance(exc, ThinkingCut) else "parse"
                self._emit(record)
                self.notes = [f"Your previous reply could not be used ({exc}). Reply again in the required format."]
                continue
            record.timings["parse"] = time.perf_counter() - started
            record.thought, record.memory = decision.thought, decision.memory
            record.action = decision.action.model_dump(mode="json", exclude_none=True)
            self.notes = []
            return decision, record
        self.end("failed", f"no usable action after {tries} tries: {self.records[-1].error}")
        return None, base

    def _generate(self, observation: Observation, record: StepRecord) -> Generator[Request, Any, Completion]:
        self._phase(record.index, "generate")
        started = time.perf_counter()
        standing = [note for note in [self.secrets.prompt_note()] if note]
        # Whatever the device shows back (a field's value, a URL, an app name), no secret value reaches the prompt.
        seen = self.secrets.redact_observation(observation)
        messages = self.s.profile.render(self.task, seen, self.history, [*standing, *self.notes])
        record.timings["render"] = time.perf_counter() - started
        record.prompt_text = "\n".join(m.text() for m in messages)
        record.prompt_images = sum(len(m.images()) for m in messages)
        started = time.perf_counter()
        completion: Completion = yield Generate(messages, self.s.params)
        record.timings["generate"] = time.perf_counter() - started
        record.raw_text, record.reasoning, record.usage = completion.text, completion.reasoning, completion.usage
        record.thinking_cut = completion.thinking_cut
        record.finish_reason = completion.finish_reason
        return completion

    def _act(self, observation: Observation, decision: Decision, record: StepRecord) -> Machine:
        self._phase(record.index, "execute")
        started = time.perf_counter()
        item = history_item(self.s.profile, decision, observation)
        if not self._allowed(decision, observation, record, item):
            return
        try:
            if decision.action.type in AGENT_TYPES:
                outcome: Outcome = yield from self._agent_action(decision.action, observation, record)
            else:
                outcome = yield Execute(self.secrets.reveal(decision.action), observation, item.thumbnail)
        except (ActionNotSupported, StepError, ConfigError) as exc:
            message = self.secrets.redact(str(exc)) or ""
            outcome = Outcome()
            record.error, record.error_kind = message, type(exc).__name__
            item.error = f"Failed: {message}"
            self.notes = [f"The last action failed: {message}"]
            self.recorder.summary.actions.failed += 1
        except DeviceError as exc:
            record.timings["execute"] = time.perf_counter() - started
            self.recorder.summary.actions.failed += 1
            self._fail(record, "error", f"device: {self.secrets.redact(str(exc))}", type(exc).__name__)
            return
        except UserAbort as exc:  # fail-safe corner, stop at a takeover: the step that was running is recorded
            record.error, record.error_kind = self.secrets.redact(str(exc)), "UserAbort"
            self._emit(record)
            raise
        else:
            item.note = self.secrets.redact(outcome.note)
            self.notes = [item.note] if item.note else []
            self.recorder.summary.actions.executed += 1
        record.timings["execute"] = time.perf_counter() - started
        record.pixels, record.note = outcome.pixels, item.note
        record.detail = self.secrets.redact_detail(outcome.detail, decision.action)
        if isinstance(decision.action, Answer):
            self.answer = self.secrets.redact(decision.action.text)
        remember(self.history, item, self.s.profile)
        self._emit(record)

    def _agent_action(self, action: Any, observation: Observation,
                      record: StepRecord) -> Generator[Request, Any, Outcome]:
        """AutoGLM's Note (keep this page: its history item holds the screenshot and the model's thoughts) and
        Call_API (answer the instruction from the noted pages with one more model call); no device is involved."""
        noted = [item for item in self.history
                 if item.decision is not None and item.decision.action.type == "Note" and not item.error]
        if action.type == "Note":
            return Outcome(detail=f"noted this page ({len(noted) + 1} noted)",
                           note=f"This page is noted ({len(noted) + 1} noted so far).")
        render = getattr(self.s.profile, "render_call_api", None)
        if render is None:
            raise ActionNotSupported(f"the {self.s.profile.key} profile cannot answer Call_API")
        started = time.perf_counter()
        try:
            completion: Completion = yield Generate(render(self.task, action.instruction or "", noted, observation),
                                                    self.s.params)
        except BackendError as exc:
            raise StepError(f"Call_API: the model call failed ({exc})") from None
        record.timings["call_api"] = time.perf_counter() - started
        used = completion.usage
        record.usage = Usage(prompt_tokens=record.usage.prompt_tokens + used.prompt_tokens,
                             completion_tokens=record.usage.completion_tokens + used.completion_tokens,
                             requests=record.usage.requests + used.requests)
        try:
            answer = split_reasoning(completion.full_text()).answer
        except ParseError as exc:  # a cut or degenerate answer fails this step, not the run
            raise StepError(f"Call_API: the model's answer was unusable ({exc})") from None
        return Outcome(detail=f"Call_API answered: {answer}", note=f"Call_API result: {answer}")

    def _allowed(self, decision: Decision, observation: Observation, record: StepRecord, item: HistoryItem) -> bool:
        """Policy, confirmation and caller veto; a blocked action is recorded and told to the model."""
        guard: Guard = self.s.guard or _NO_GUARD  # even without one, sensitive taps need a person's yes
        verdict = guard.check(decision.action, observation)
        record.audit.extend(verdict.audit)
        if verdict.stop:
            self._emit(record)
            raise UserAbort("stopped at the confirmation prompt")
        message = None if verdict.allowed else verdict.message
        before = self.s.hooks.before_action
        if message is None and before is not None and before(decision.action, observation) is False:
            message = "The action was blocked by the caller. Choose another way."
            record.audit.append("before_action hook: blocked")
        if message is None:
            return True
        record.error, record.error_kind = message, "blocked"
        self.recorder.summary.actions.refused += 1
        item.error = message
        self.notes = [message]
        remember(self.history, item, self.s.profile)
        self._emit(record)
        return False

    def _base_record(self, index: int, observation: Observation) -> StepRecord:
        started = time.perf_counter()
        shot = self.recorder.save_screenshot(index, observation.screenshot)
        marked = None
        if observation.marked_screenshot is not None:
            marked = self.recorder.save_screenshot(index, observation.marked_screenshot, "_marked")
        return StepRecord(
            index=index, screenshot=shot, marked_screenshot=marked, screen_size=observation.size,
            url=observation.url, app=observation.app, timings={"record": time.perf_counter() - started},
        )

    def _fail(self, record: StepRecord, status: str, error: str, kind: Any) -> None:
        record.error = record.error or error
        record.error_kind = record.error_kind or kind
        self._emit(record)
        self.end(status, error)

    def _emit(self, record: StepRecord) -> None:
        self._scrub(record)
        self.records.append(record)
        self.recorder.add_step(record)
        log.info("step %d: %s %s", record.index, (record.action or {}).get("type"), record.error or "")
        if self.s.hooks.on_step is not None:
            self.recorder.wait_for_images(record)  # a hook may read the step's screenshots from the run folder
            self.s.hooks.on_step(record)

    def _scrub(self, record: StepRecord) -> None:
        """Second line of defence: no text field written anywhere may carry a secret, even partly."""
        if not self.secrets:
            return
        for field in ("raw_text", "reasoning", "thought", "memory", "detail", "note", "error", "url", "prompt_text"):
            value = getattr(record, field)
            if value:
                setattr(record, field, self.secrets.redact(value))
        record.audit = [self.secrets.redact(line) or "" for line in record.audit]
        if record.action is not None:  # what the model wrote as arguments (an answer, a typed text)
            record.action = self.secrets.redact_tree(record.action)

    def _phase(self, index: int, phase: str) -> None:
        if self.s.hooks.on_phase is not None:
            self.s.hooks.on_phase(index, phase)

    def _no_effect(self, observation: Observation) -> bool:
        """Note an action that left the screen unchanged; end the run when the model keeps repeating it."""
        config = self.s.config
        if not (config.detect_no_effect and self.history):
            return False
        last = self.history[-1]
        action = last.decision.action if last.decision else None
        if action is None or last.error or last.screenshot is None or action.type in WAIT_TYPES | AGENT_TYPES:
            return False
        if screen_changed(last.screenshot, observation.screenshot):
            return False
        last.note = "The screen did not change."
        text = last.decision.action_text if last.decision else action.type
        self.notes.append(f"The screen did not change after your last action ({text}). Do not repeat it.")
        recent = self.history[-config.repeat_limit :]
        same = [item.decision.action for item in recent if item.decision is not None and item.note == last.note]
        if len(same) == config.repeat_limit and all(a == action for a in same):
            self.end("looping", f"the model repeated {action.type} {config.repeat_limit} times with no effect")
            return True
        return False
