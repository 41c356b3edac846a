"""Helpers shared by the assistant tests (no tests here): a session on the in-memory phone screen with replayed
GLM-4.5V replies, served by the real panel server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from glmv_agent.agent import AgentConfig
from glmv_agent.assistant import AssistantSession, SessionSettings
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import ChatMessage, Completion, GenerationParams

PROFILE = "glm-4.5v/mobile"
SCREEN = (540, 1200)  # a small phone screen keeps the tests fast (every step is saved as PNG)


def step(reason: str, action: dict) -> str:
    """One GLM-4.5V mobile reply (the AndroidWorld-style grammar)."""
    return f"Memory: None\nReason: {reason}\nAction: {json.dumps(action)}"


def click(y: int, reason: str = "I tap the row.") -> str:
    return step(reason, {"action_type": "click", "box_2d": [[100, y, 900, y + 40]]})


def answer(text: str) -> str:
    return step("I can answer now.", {"action_type": "answer", "text": text})


COMPLETE = step("The task is done.", {"action_type": "status", "goal_status": "complete"})


class GatedBackend(ReplayBackend):
    """Replays replies, but call number ``hold_at`` (0-based) waits until ``gate`` is set."""

    def __init__(self, responses: list[str], hold_at: int) -> None:
        super().__init__(responses)
        self.hold_at = hold_at
        self.gate = threading.Event()

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        if self.position == self.hold_at:
            assert self.gate.wait(60), "the test never opened the gate"
        return super().generate(messages, params)


@dataclass
class Running:
    session: AssistantSession
    server: object  # PanelServer
    env: FakeEnvironment
    backend: ReplayBackend

    @property
    def url(self) -> str:
        return self.server.url  # type: ignore[attr-defined]

    @property
    def folder(self) -> Path:
        return self.session.conversation.folder


@contextmanager
def running_panel(folder: Path, backend: ReplayBackend, *, confirm: bool = False) -> Iterator[Running]:
    """A started session and panel server; both are shut down at the end."""
    from glmv_agent.assistant.server import PanelServer

    env = FakeEnvironment(size=SCREEN)
    settings = SessionSettings(
        profile=get_profile(PROFILE), backend=backend, make_environment=lambda takeover: env, folder=folder,
        config=AgentConfig(max_steps=8), confirm_all=confirm,
    )
    session = AssistantSession(settings)
    server = PanelServer(session)
    session.start()
    server.start()
    try:
        yield Running(session, server, env, backend)
    finally:
        if isinstance(backend, GatedBackend):
            backend.gate.set()
        server.stop()
        session.close()


def prompt_text(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text() for m in messages)
