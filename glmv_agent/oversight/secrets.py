"""Secrets: the model writes ``<secret>NAME</secret>``; only the environment ever sees the value.

Values come from ``--secret NAME=VALUE``, ``GLMV_SECRET_NAME`` environment variables or a ``NAME=VALUE`` file. They
are substituted into typed text right before execution and scrubbed from everything written or logged afterwards
(outcome texts, error messages, log records).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError

_PLACEHOLDER = re.compile(r"<secret>\s*([A-Za-z_][A-Za-z0-9_]*)\s*</secret>")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TEXT_FIELDS = ("text", "content")
ENV_PREFIX = "GLMV_SECRET_"


def placeholder(name: str) -> str:
    return f"<secret>{name}</secret>"


MIN_PIECE = 4


def _pieces(value: str) -> list[str]:
    """Substrings of ``value`` long enough to give part of it away, longest first."""
    size = min(len(value), MIN_PIECE)
    found = {value[i : i + n] for n in range(size, len(value)) for i in range(len(value) - n + 1)}
    return sorted((p for p in found if p.strip()), key=len, reverse=True)


class SecretStore:
    """Named secret values with substitution (for typing) and redaction (for everything else)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = {}
        for name, value in (values or {}).items():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        if not _NAME.match(name):
            raise ConfigError(f"secret name {name!r} must be letters, digits and underscores")
        if not value:
            raise ConfigError(f"secret {name} is empty")
        self.values[name] = value

    @classmethod
    def from_sources(
        cls, pairs: list[str] | None = None, file: Path | None = None, environ: dict[str, str] | None = None
    ) -> SecretStore:
        store = cls()
        environ = dict(os.environ) if environ is None else environ
        for key, value in environ.items():
            if key.startswith(ENV_PREFIX) and value:
                store.add(key[len(ENV_PREFIX) :], value)
        if file is not None:
            if not file.is_file():
                raise ConfigError(f"secrets file not found: {file}")
            lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
            pairs = [*(line for line in lines if not line.lstrip().startswith("#")), *(pairs or [])]
        for pair in pairs or []:
            name, sep, value = pair.partition("=")
            if not sep:
                raise ConfigError(f"--secret expects NAME=VALUE, got {name.strip()!r}")
            store.add(name.strip(), value)
        return store

    def __bool__(self) -> bool:
        return bool(self.values)

    def prompt_note(self) -> str | None:
        if not self.values:
            return None
        names = ", ".join(placeholder(name) for name in sorted(self.values))
        return f"Secrets you can type without seeing them: write the placeholder in the text to type: {names}"

    def reveal_text(self, text: str) -> str:
        def swap(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.values:
                raise ConfigError(f"the model used an unknown secret {name!r}; known: {', '.join(self.values)}")
            return self.values[name]

        return _PLACEHOLDER.sub(swap, text)

    def reveal(self, action: Any) -> Any:
        """A copy of ``action`` with placeholders in its typed text replaced by the values."""
        update = {}
        for field in TEXT_FIELDS:
            value = getattr(action, field, None)
            if isinstance(value, str) and _PLACEHOLDER.search(value):
                update[field] = self.reveal_text(value)
        return action.model_copy(update=update) if update else action

    def redact(self, text: str | None) -> str | None:
        """Replace each value, and any piece of 4+ characters of it (a clipped or escaped copy), by its placeholder."""
        if not text or not self.values:
            return text
        for name, value in sorted(self.values.items(), key=lambda item: -len(item[1])):
            text = text.replace(value, placeholder(name))
            for piece in _pieces(value):
                if piece in text:
                    text = text.replace(piece, placeholder(name))
        return text

    def log_filter(self) -> logging.Filter:
        store = self

        class _Redact(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                message = record.getMessage()
                redacted = store.redact(message)
                if redacted != message:
                    record.msg, record.args = redacted, None
                return True

        return _Redact()
