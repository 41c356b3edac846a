"""Replay backend: serves recorded model responses in order, so runs reproduce offline and tests need no model."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BackendError, ConfigError
from ..types import ChatMessage, Completion, GenerationParams


class ReplayBackend:
    """Answers each generate() with the next scripted response."""

    def __init__(self, responses: list[str]) -> None:
        self.responses = list(responses)
        self.position = 0
        self.requests: list[list[ChatMessage]] = []

    @classmethod
    def from_file(cls, path: Path | str) -> ReplayBackend:
        """Load a JSONL file of ``{"content": ...}`` lines, or a run folder / its steps.jsonl (raw model text)."""
        path = Path(path)
        if path.is_dir():
            path = path / "steps.jsonl"
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}")
        responses: list[str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from None
            text = item.get("content", item.get("raw_text")) if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise ConfigError(f'{path}:{number}: expected {{"content": "..."}} or a recorded step')
            responses.append(text)
        return cls(responses)

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        self.requests.append(messages)
        if self.position >= len(self.responses):
            raise BackendError(f"replay script exhausted after {len(self.responses)} responses")
        text = self.responses[self.position]
        self.position += 1
        return Completion(text=text, finish_reason="stop")
