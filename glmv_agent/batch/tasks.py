"""Task lists for batch runs: our JSONL lines, WebVoyager's and AndroidWorld-style goal lists; sharding."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..agent import StepCap
from ..errors import ConfigError
from .verdicts import check_command_exists, resolve_function


class SuccessCheck(BaseModel):
    """How a task is judged; every criterion given must pass (see :mod:`glmv_agent.batch.verdicts`).

    Regular expressions on the final ``answer``, the last page's URL (``final_url``) or text (``page_text``); a
    ``command`` (argv list, no shell; gets the run folder) or a ``function`` (``"package.module:name"``, called with
    the run folder) that decides pass or fail. ``timeout_s`` bounds the command.
    """

    model_config = ConfigDict(extra="forbid")
    final_url: str | None = None
    page_text: str | None = None
    answer: str | None = None
    command: list[str] | None = None
    function: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("final_url", "page_text", "answer")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {value!r} ({exc})") from None
        return value

    @field_validator("command")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("command must be a non-empty argv list")
        return value


class BatchTask(BaseModel):
    id: str
    task: str
    platform: Literal["mobile", "desktop", "web"] = "web"
    model: str = "glm-4.5v"
    url: str | None = None
    device: str | None = None
    max_steps: StepCap | None = None  # None: the run's --max-steps
    check: SuccessCheck | None = None
    replay: Path | None = None  # recorded responses for this task (offline runs and tests)


def load_tasks(path: Path, fmt: str = "auto", defaults: dict[str, Any] | None = None) -> list[BatchTask]:
    """Read tasks; ``fmt`` is ``jsonl`` (our lines), ``webvoyager``, ``androidworld`` or ``auto`` (by keys)."""
    if not path.is_file():
        raise ConfigError(f"task file not found: {path}")
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            tasks.append(_task_from(raw, fmt, number, defaults or {}))
        except (json.JSONDecodeError, ValidationError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: not a valid task line ({_short(exc)})") from None
    check_ids(tasks, str(path))
    return tasks


def folder_name(task_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", task_id)


def check_ids(tasks: list[BatchTask], where: str = "tasks") -> None:
    """Task ids must be unique even as folder names, and usable as one."""
    bad = [t.id for t in tasks if folder_name(t.id).strip(".") == ""]
    if bad:
        raise ConfigError(f"{where}: task id {bad[0]!r} cannot name a folder; use letters, digits, '.', '_' or '-'")
    names = Counter(folder_name(t.id) for t in tasks)
    clashes = [t.id for t in tasks if names[folder_name(t.id)] > 1]
    if clashes:
        raise ConfigError(f"{where}: duplicate task ids (as folder names): {', '.join(clashes[:5])}")


def check_judges(tasks: list[BatchTask]) -> None:
    """Every check function imports and every check command exists, before any episode runs (ConfigError)."""
    for task in tasks:
        if task.check is None:
            continue
        if task.check.function:
            resolve_function(task.check.function)
        if task.check.command:
            check_command_exists(task.check.command)


def _task_from(raw: dict[str, Any], fmt: str, number: int, defaults: dict[str, Any]) -> BatchTask:
    if fmt == "webvoyager" or (fmt == "auto" and "ques" in raw):
        data = {"id": raw.get("id", f"task-{number}"), "task": raw["ques"], "platform": "web", "url": raw.get("web")}
    elif fmt == "androidworld" or (fmt == "auto" and "goal" in raw and "task" not in raw):
        name = raw.get("task_name") or raw.get("id") or f"task-{number}"
        data = {"id": str(name), "task": raw["goal"], "platform": "mobile"}
    else:
        data = {"id": f"task-{number}", **raw}
    return BatchTask.model_validate({**defaults, **data})


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):  # the field and what is wrong with it, not pydantic's headline
        first = exc.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"[:200]
    return str(exc).splitlines()[0][:200]


def shard(tasks: list[BatchTask], spec: str | None) -> list[BatchTask]:
    """Keep shard ``i/n`` (0-based i): every n-th task starting at i."""
    if not spec:
        return tasks
    match = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not match or not 0 <= int(match.group(1)) < int(match.group(2)):
        raise ConfigError(f"--shard expects i/n with 0 <= i < n, got {spec!r}")
    index, count = int(match.group(1)), int(match.group(2))
    return tasks[index::count]
