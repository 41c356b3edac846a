"""One doctor check (ok / warn / fail, with its fix), the endpoint check every platform shares, and the report.

Platform checks live with their platforms (``glmv_agent.environments.<platform>.doctor``) and return these.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel

Status = Literal["ok", "warn", "fail"]
BASE_URL_VARIABLES = ("GLMV_BASE_URL", "OPENAI_BASE_URL")


class Check(BaseModel):
    """One line of the doctor's report."""

    name: str  # what was checked, e.g. "ADB Keyboard"
    status: Status
    detail: str = ""  # what was found
    fix: str = ""  # what to do about a warn or fail

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name}: {self.detail}"
        return f"{text}\n      fix: {self.fix}" if self.fix and self.status != "ok" else text


def ok(name: str, detail: str) -> Check:
    return Check(name=name, status="ok", detail=detail)


def warn(name: str, detail: str, fix: str = "") -> Check:
    return Check(name=name, status="warn", detail=detail, fix=fix)


def fail(name: str, detail: str, fix: str = "") -> Check:
    return Check(name=name, status="fail", detail=detail, fix=fix)


def endpoint_check(base_url: str | None, api_key: str | None, api_model: str | None, timeout_s: float = 10.0) -> Check:
    """Whether the model endpoint answers /models, and which model it serves (or whether it serves ``api_model``)."""
    name = "model endpoint"
    if not (base_url or any(os.environ.get(v) for v in BASE_URL_VARIABLES)):
        return warn(name, "none configured", "pass --base-url URL (or set GLMV_BASE_URL); --replay FILE runs "
                                             "recorded answers without a model")
    import openai

    from ..backends.openai_backend import NO_KEY, EndpointConfig
    from ..errors import ConfigError

    try:
        config = EndpointConfig.from_env(base_url=base_url, api_key=api_key, model=api_model, timeout_s=timeout_s)
    except ConfigError as exc:
        return fail(name, str(exc), "pass a URL like http://localhost:8000/v1")
    key = config.api_key.get_secret_value() if config.api_key else NO_KEY
    try:
        with openai.OpenAI(base_url=config.base_url, api_key=key, timeout=timeout_s, max_retries=0) as client:
            served = [model.id for model in client.models.list().data]
    except openai.APIStatusError as exc:
        return fail(name, f"{config.base_url} answered HTTP {exc.status_code}", "check the URL and --api-key")
    except openai.APIError as exc:
        return fail(name, f"{config.base_url} is not reachable ({type(exc).__name__})",
                    "start the server (docs/endpoints.md) or fix --base-url")
    if config.model and config.model not in served:
        return fail(name, f"{config.base_url} serves {', '.join(served) or 'no model'}, not {config.model}",
                    "pass --api-model with one of the served names")
    return ok(name, f"{config.base_url} serves {config.model or ', '.join(served) or 'no model'}")


def report(checks: list[Check]) -> tuple[list[str], int]:
    """The report's lines and the exit code: 0 when nothing failed, else 1."""
    lines = [check.line() for check in checks]
    failed = sum(check.status == "fail" for check in checks)
    warned = sum(check.status == "warn" for check in checks)
    lines.append(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return lines, 1 if failed else 0


__all__ = ["Check", "endpoint_check", "fail", "ok", "report", "warn"]
