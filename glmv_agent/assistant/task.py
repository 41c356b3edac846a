"""One task of the conversation: the agent loop with hooks that show each phase, planned action and step in the
panel, hold actions for the person, and honour Stop.

Stop ends the task through the loop's own abort path (:class:`UserAbort`, which the agent records as ``aborted``
with the trajectory and report saved): before the next screenshot or model call it is raised from the phase hook;
an action the model chose after Stop is not run (the guard blocks it, the step is recorded with the reason, then
the step hook raises); a hold waiting for the person is answered ``stop``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..agent import Agent, AgentConfig, AgentHooks, EpisodeResult
from ..errors import UserAbort
from ..oversight.guard import Answer, Guard, Verdict, describe
from ..oversight.policy import Policy
from ..oversight.secrets import SecretStore
from ..recording import StepRecord
from ..report.draw import annotate
from ..types import Observation
from .events import EventBus, Phase, Planned, Stepped
from .images import ImageStore, shrink

log = logging.getLogger(__name__)
STOPPED = "stopped from the assistant"
STOP_AUDIT = "stop: pressed in the assistant -> not run"
STOP_MESSAGE = "The user stopped the task."


class PanelGuard(Guard):
    """The run's policy and confirmations, plus: show each planned action first, and run none after Stop."""

    def __init__(self, policy: Policy | None, confirm_all: bool, ask: Callable[[str], Answer],
                 stopping: Callable[[], bool], planned: Callable[[Any, Observation], None]) -> None:
        super().__init__(policy, confirm_all=confirm_all, ask=ask)
        self._stopping = stopping
        self._planned = planned

    def check(self, action: Any, observation: Observation) -> Verdict:
        self._planned(action, observation)
        if self._stopping():
            return Verdict(allowed=False, audit=[STOP_AUDIT], message=STOP_MESSAGE)
        return super().check(action, observation)


@dataclass(frozen=True)
class TaskParts:
    """What a task needs from its session (the session owns every part)."""

    profile: Any
    backend: Any
    environment: Any
    config: AgentConfig
    policy: Policy | None
    confirm_all: bool
    secrets: SecretStore
    bus: EventBus
    images: ImageStore
    ask: Callable[[str], Answer]  # hold an action for the person: yes | no | stop
    stopping: Callable[[], bool]  # whether Stop was pressed


class TaskRun:
    """Runs ``task`` as conversation turn ``turn`` into ``run_dir``, publishing what happens on the bus."""

    def __init__(self, parts: TaskParts, turn: int, run_dir: Path) -> None:
        self.parts = parts
        self.turn = turn
        self.run_dir = run_dir
        self._index = 0

    def run(self, task: str) -> EpisodeResult:
        p = self.parts
        guard = PanelGuard(p.policy, p.confirm_all, p.ask, p.stopping, self._on_planned)
        hooks = AgentHooks(on_step=self._on_step, on_phase=self._on_phase)
        config = p.config.model_copy(update={"run_dir": self.run_dir})
        agent = Agent(p.profile, p.backend, p.environment, config, hooks=hooks, guard=guard, secrets=p.secrets)
        return agent.run(task)

    def _on_phase(self, index: int, phase: str) -> None:
        self._index = index
        if self.parts.stopping() and phase in ("observe", "generate"):
            raise UserAbort(STOPPED)
        self.parts.bus.publish(Phase(turn=self.turn, step=index, phase=phase))

    def _on_planned(self, action: Any, observation: Observation) -> None:
        # drawn on the image the model saw: for set-of-marks (web) that one carries the labels the action names
        wire = action.model_dump(mode="json", exclude_none=True)
        record = StepRecord(index=self._index, action=wire, screen_size=observation.size)
        try:
            image = self.parts.images.put(annotate(shrink(observation.model_image), record))
        except Exception as exc:  # noqa: BLE001 - a drawing failure must not stop the run
            log.warning("cannot draw the planned action: %s", exc)
            image = self.parts.images.put(observation.model_image)
        text = self.parts.secrets.redact(describe(action, observation)) or ""
        self.parts.bus.publish(Planned(turn=self.turn, step=self._index, action=text, image=image))

    def _on_step(self, record: StepRecord) -> None:
        action = dict(record.action or {})
        name = str(action.pop("type", ""))
        action.pop("space", None)
        result = "; ".join(part for part in (record.detail, record.note or "") if part)
        event = Stepped(
            turn=self.turn, step=record.index, attempt=record.attempt, thought=record.thought,
            action=f"{name} {json.dumps(action, ensure_ascii=False)}" if name else "", result=result,
            error=record.error, image=self._step_image(record),
        )
        self.parts.bus.publish(event)
        if self.parts.stopping() and STOP_AUDIT in record.audit:
            raise UserAbort(STOPPED)

    def _step_image(self, record: StepRecord) -> str | None:
        names = [record.marked_screenshot, record.screenshot] if "label" in (record.action or {}) else []
        for name in [*names, record.screenshot]:
            if not name:
                continue
            try:
                with Image.open(self.run_dir / name) as image:
                    return self.parts.images.put(annotate(shrink(image), record))
            except (OSError, ValueError) as exc:
                log.warning("step %d: cannot show %s (%s)", record.index, name, exc)
        return None
