"""Shared base for environments: context-manager lifecycle and the action-space check."""

from __future__ import annotations

from typing import Any

from .errors import ActionNotSupported
from .types import Observation, Outcome, Platform


class BaseEnvironment:
    """Subclasses set ``platform`` and ``spaces`` and implement observe/execute/close."""

    platform: Platform
    spaces: frozenset[str] = frozenset()

    def observe(self) -> Observation:
        raise NotImplementedError

    def execute(self, action: Any, observation: Observation) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device; safe to call twice."""

    def check_space(self, action: Any) -> None:
        """Raise ActionNotSupported for an action of a grammar this environment does not speak."""
        space = getattr(action, "space", None)
        if space not in self.spaces:
            name = getattr(action, "type", type(action).__name__)
            raise ActionNotSupported(
                f"action '{name}' ({space} grammar) is not supported by the {self.platform.value} environment"
            )

    def __enter__(self) -> BaseEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
