"""Checks before an action runs: the policy file, --confirm, and screen-change detection after it ran."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from PIL import Image, ImageChops
from pydantic import BaseModel, Field

from ..types import Observation
from .policy import Policy

Answer = Literal["yes", "no", "stop"]
Asker = Callable[[str], Answer]
WAIT_TYPES = frozenset({"wait", "WAIT", "Wait"})


class Verdict(BaseModel):
    allowed: bool = True
    stop: bool = False
    audit: list[str] = Field(default_factory=list)
    message: str | None = None  # told to the model when the action was not run


def describe(action: Any, observation: Observation) -> str:
    """One line naming an action and where it would happen, for confirmation prompts and audit lines."""
    wire = action.wire()
    name = wire.pop("type")
    where = observation.url or observation.app or observation.platform.value
    return f"{name} {json.dumps(wire, ensure_ascii=False)} on {where}"


class Guard:
    """Applies the policy, then asks the person when the policy (or --confirm) says so."""

    def __init__(self, policy: Policy | None = None, confirm_all: bool = False, ask: Asker | None = None) -> None:
        self.policy = policy
        self.confirm_all = confirm_all
        self.ask = ask

    def check(self, action: Any, observation: Observation) -> Verdict:
        decision, audit = self.policy.decide(action, observation) if self.policy else ("allow", "")
        verdict = Verdict(audit=[audit] if audit else [])
        if decision == "deny":
            verdict.allowed = False
            verdict.message = f"The action was blocked by the user's safety policy ({audit}). Choose another way."
            return verdict
        sensitive = getattr(action, "type", None) == "Tap" and bool(getattr(action, "message", None))
        if sensitive:  # AutoGLM marks payments, purchases and privacy taps with message=...: the person decides
            verdict.audit.append(f"sensitive tap: {action.message}")
        if decision == "confirm" or self.confirm_all or sensitive:
            return self._confirm(action, observation, verdict)
        return verdict

    def _confirm(self, action: Any, observation: Observation, verdict: Verdict) -> Verdict:
        text = describe(action, observation)
        if self.ask is None:
            verdict.allowed = False
            verdict.audit.append("confirm: nobody to ask (non-interactive run) -> not run")
            verdict.message = "The action needs the user's confirmation, which is not available; choose another way."
            return verdict
        answer = self.ask(text)
        verdict.audit.append(f"confirm: {answer}")
        if answer == "yes":
            return verdict
        verdict.allowed = False
        verdict.stop = answer == "stop"
        verdict.message = "The user declined this action. Choose another way."
        return verdict


def screen_changed(before: Image.Image, after: Image.Image, threshold: int = 16) -> bool:
    """Whether two screenshots differ visibly.

    Both are area-averaged to 256x256 grey thumbnails; any cell that moved by more than ``threshold`` grey levels
    counts as a change, so a toggled checkbox or one changed character is seen while identical frames are not.
    """
    if before.size != after.size:
        return True
    small = (256, 256)
    a = before.convert("L").resize(small, Image.Resampling.BOX)
    b = after.convert("L").resize(small, Image.Resampling.BOX)
    return ImageChops.difference(a, b).getextrema()[1] > threshold
