"""The conversation: its turns, its folder (``conversation.jsonl`` plus one run folder per task), and what the model
is told about earlier turns.

Folder layout (``--out``, default ``runs/<time>-assistant/``)::

    conversation.jsonl        one line per finished turn (a Turn): message, kind, status, answer, routing replies
    questions/turn_NN.png     the screenshot a question was answered from
    NN-<task-slug>/           a task's run folder (steps.jsonl, screenshots/, summary.json, report.html)
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import ConfigError
from ..oversight.secrets import SecretStore
from ..types import ChatMessage, Decision, GenerationParams, HistoryItem, Observation

CONTEXT_TURNS = 10  # earlier turns told to the model
CONTEXT_CHARS = 300  # longest answer or error quoted back, in characters


class Turn(BaseModel):
    """One message and what became of it."""

    number: int
    text: str
    kind: Literal["task", "question"] | None = None
    status: str = "pending"  # a run status for tasks; answered | error for the rest
    answer: str | None = None
    error: str | None = None
    run_dir: str | None = None  # the task's run folder, relative to the conversation folder
    screenshot: str | None = None  # the question's screenshot, relative to the conversation folder
    route_replies: list[str] = Field(default_factory=list)  # the routing call's raw model text
    started_at: str = Field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))

    def context_line(self) -> str:
        """One line for the model: what was asked and how it ended."""
        label = {"task": "task", "question": "question"}.get(self.kind or "", "message")
        line = f"{self.number}. {label} {_quote(self.text)}: "
        if self.kind == "question" and self.answer:
            return line + f"you answered {_quote(self.answer)}"
        line += f"ended {self.status}"
        if self.answer:
            line += f", answer {_quote(self.answer)}"
        if self.error:
            line += f" ({_clip(self.error)})"
        return line


def _clip(text: str) -> str:
    return text if len(text) <= CONTEXT_CHARS else text[: CONTEXT_CHARS - 1] + "…"


def _quote(text: str) -> str:
    return '"' + _clip(" ".join(text.split())) + '"'


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")[:40] or "task"


class Conversation:
    """Turns in order, written to ``folder/conversation.jsonl`` as each one ends. Thread-safe."""

    def __init__(self, folder: Path, secrets: SecretStore | None = None) -> None:
        self.folder = Path(folder)
        if (self.folder / "conversation.jsonl").is_file():
            raise ConfigError(f"{self.folder} already holds a conversation; choose another folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.secrets = secrets or SecretStore()
        self.turns: list[Turn] = []
        self._lock = threading.Lock()

    def begin(self, text: str) -> Turn:
        with self._lock:
            turn = Turn(number=len(self.turns) + 1, text=text)
            self.turns.append(turn)
            return turn

    def finish(self, turn: Turn) -> None:
        """Record a finished turn (secrets redacted) in conversation.jsonl."""
        for name in ("answer", "error"):
            setattr(turn, name, self.secrets.redact(getattr(turn, name)))
        turn.route_replies = [self.secrets.redact(reply) or "" for reply in turn.route_replies]
        with self._lock, (self.folder / "conversation.jsonl").open("a", encoding="utf-8") as out:
            out.write(turn.model_dump_json() + "\n")

    def run_dir(self, turn: Turn) -> Path:
        return self.folder / f"{turn.number:02d}-{slug(turn.text)}"

    def context(self, before: int) -> list[str]:
        """Lines for the model about the finished turns before turn number ``before`` (the latest CONTEXT_TURNS)."""
        with self._lock:
            done = [t for t in self.turns if t.number < before and t.status != "pending"]
        return [t.context_line() for t in done[-CONTEXT_TURNS:]]

    def note(self, before: int) -> str | None:
        """The standing note for a task's prompts: earlier turns and how they ended (None for the first turn)."""
        lines = self.context(before)
        if not lines:
            return None
        return ("Earlier in this conversation with the user (oldest first); the current task may refer to it: "
                + " | ".join(lines))


class ConversationProfile:
    """A prompt profile that also tells the model about the conversation (a note on every step of the task)."""

    def __init__(self, inner: Any, note: str | None) -> None:
        self.inner = inner
        self.note = note
        self.key: str = inner.key
        self.platform = inner.platform

    def render(self, task: str, observation: Observation, history: list[HistoryItem], notes: list[str]
               ) -> list[ChatMessage]:
        standing = [self.note] if self.note else []
        return self.inner.render(task, observation, history, [*standing, *notes])

    def parse(self, text: str) -> Decision:
        return self.inner.parse(text)

    def generation_defaults(self) -> GenerationParams:
        return self.inner.generation_defaults()
