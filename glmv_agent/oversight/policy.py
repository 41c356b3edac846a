"""Safety policy: rules over platform, action, app, URL/domain and typed text -> allow, confirm or deny.

Checked before every action, whatever the model says. A TOML (or JSON) file::

    default = "allow"            # allow | confirm | deny

    [[rule]]
    decision = "deny"
    actions = ["open_app", "Launch"]
    app = "(?i)play store|com.android.vending"
    reason = "no app installs"

    [[rule]]
    decision = "confirm"
    platform = "web"
    domain = "bank.example.com"

The first rule whose every given condition matches decides; otherwise ``default``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..types import Observation

Decision = Literal["allow", "confirm", "deny"]
_TEXT_FIELDS = ("text", "content", "keys", "key")
_APP_FIELDS = ("app_name", "app")


class Rule(BaseModel):
    decision: Decision
    platform: str | None = None
    actions: list[str] = Field(default_factory=list)
    app: str | None = None  # regex over the current app and an app being opened
    url: str | None = None  # regex over the current URL
    domain: str | None = None  # the URL's host or one of its parent domains
    text: str | None = None  # regex over typed text / keys
    reason: str = ""

    @field_validator("app", "url", "text")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from None
        return value

    def matches(self, action: Any, observation: Observation) -> bool:
        if self.platform and self.platform != observation.platform.value:
            return False
        if self.actions and action.type not in self.actions:
            return False
        checks = [
            (self.app, [observation.app, *(getattr(action, f, None) for f in _APP_FIELDS)]),
            (self.url, [observation.url]),
            (self.text, [getattr(action, f, None) for f in _TEXT_FIELDS]),
        ]
        for pattern, values in checks:
            if pattern and not any(isinstance(v, str) and re.search(pattern, v) for v in values):
                return False
        return not self.domain or _in_domain(observation.url, self.domain)

    def describe(self, index: int) -> str:
        return f"rule {index + 1} ({self.decision}{': ' + self.reason if self.reason else ''})"


def _in_domain(url: str | None, domain: str) -> bool:
    host = urlparse(url or "").hostname or ""
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


class Policy(BaseModel):
    default: Decision = "allow"
    rule: list[Rule] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Policy:
        if not path.is_file():
            raise ConfigError(f"policy file not found: {path}")
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else _toml(text)
            return cls.model_validate(data)
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"policy file {path} is invalid: {exc}") from None

    def decide(self, action: Any, observation: Observation) -> tuple[Decision, str]:
        """The decision for this action and a one-line audit text."""
        for index, rule in enumerate(self.rule):
            if rule.matches(action, observation):
                return rule.decision, f"policy {rule.describe(index)}"
        return self.default, f"policy default ({self.default})"


def _toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)
