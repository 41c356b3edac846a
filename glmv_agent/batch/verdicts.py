"""Verdicts: whether an episode did its task, judged by something other than the model's own status.

A verdict comes, in this order, from the benchmark (a judge the episode's builder supplies, e.g. the MiniWoB++ page's
reward), from the task's ``check`` (regular expressions, a command, a Python function), or it is ``unverified``:
nothing could judge the run, so the model saying "done" is reported as a claim, never as a success.

A check ``command`` is an argv list run without a shell; ``{run_dir}`` in an item is replaced by the run folder, and
without that placeholder the folder is appended as the last argument. Exit status 0 is a pass, any other a fail; a
command that cannot start or runs past ``timeout_s`` leaves the episode unverified. A check ``function`` is
``"package.module:name"``, called with the run folder (a ``Path``) on a worker thread; it returns True (pass), False
(fail) or None (cannot judge: unverified). Both run after the agent stops, while the device is still open, and after
the run folder's ``summary.json`` is written.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import ConfigError

Result = Literal["pass", "fail", "unverified"]
Source = Literal["benchmark", "check", "none"]
RUN_DIR_PLACEHOLDER = "{run_dir}"
_FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class Verdict(BaseModel):
    """The judgement of one episode. ``reward`` is the benchmark's own score where it gives one; ``facts`` are what
    the judge read (benchmark-specific, e.g. MiniWoB's raw and time-scaled reward and its reason)."""

    result: Result = "unverified"
    source: Source = "none"
    detail: str = ""
    reward: float | None = None
    facts: dict[str, Any] = Field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.result == "pass"


NOTHING_JUDGES = Verdict(detail="no benchmark reward and no check for this task: the model's status is only a claim")


def resolve_function(spec: str) -> Callable[[Path], Any]:
    """The callable named ``"package.module:name"``; ConfigError (one line) when it cannot be imported."""
    if not _FUNCTION.match(spec):
        raise ConfigError(f"check function {spec!r} is not 'package.module:name'")
    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"check function {spec}: cannot import {module_name} ({exc})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(f"check function {spec}: {module_name} has no callable {name}")
    return function


def check_command_exists(argv: list[str]) -> None:
    """ConfigError when the command's program is neither on PATH nor an existing file."""
    if not argv or not argv[0]:
        raise ConfigError("check command is empty; give an argv list such as [\"python\", \"judge.py\"]")
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        raise ConfigError(f"check command {argv[0]!r} not found (it runs without a shell: give a program, not a line)")


def command_argv(argv: list[str], run_dir: Path) -> list[str]:
    """The argv with ``{run_dir}`` filled in, or the run folder appended when no item names it."""
    if any(RUN_DIR_PLACEHOLDER in item for item in argv):
        return [item.replace(RUN_DIR_PLACEHOLDER, str(run_dir)) for item in argv]
    return [*argv, str(run_dir)]


async def run_command(argv: list[str], run_dir: Path, timeout_s: float, task_id: str) -> Verdict:
    """Run a check command (no shell) and read its exit status as the verdict."""
    env = {**os.environ, "GLMV_RUN_DIR": str(run_dir), "GLMV_TASK_ID": task_id}
    try:
        proc = await asyncio.create_subprocess_exec(
            *command_argv(argv, run_dir), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
        )
    except OSError as exc:
        return Verdict(source="check", detail=f"check command could not start: {exc}")
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return Verdict(source="check", detail=f"check command ran past {timeout_s:g} s and was stopped")
    last = next((line for line in reversed(output.decode("utf-8", "replace").splitlines()) if line.strip()), "")
    result: Result = "pass" if proc.returncode == 0 else "fail"
    return Verdict(result=result, source="check", detail=f"check command exit {proc.returncode}: {last[:200]}".strip())


async def run_function(spec: str, run_dir: Path) -> Verdict:
    """Call a check function with the run folder; True/False/None become pass/fail/unverified."""
    try:
        function = resolve_function(spec)
        value = await asyncio.to_thread(function, run_dir)
    except Exception as exc:  # noqa: BLE001 - a broken judge leaves the episode unjudged, it never passes it
        return Verdict(source="check", detail=f"check function {spec} failed: {type(exc).__name__}: {exc}")
    if value is None:
        return Verdict(source="check", detail=f"check function {spec} could not judge (returned None)")
    if not isinstance(value, bool):
        return Verdict(source="check", detail=f"check function {spec} returned {type(value).__name__}, not a bool")
    return Verdict(result="pass" if value else "fail", source="check", detail=f"check function {spec}: {value}")


def combine(parts: list[Verdict]) -> Verdict:
    """All criteria of one check: any fail fails, else any unverified leaves it unverified, else it passes."""
    details = "; ".join(p.detail for p in parts if p.detail)
    for outcome in ("fail", "unverified"):
        if any(p.result == outcome for p in parts):
            return Verdict(result=outcome, source="check", detail=details)
    return Verdict(result="pass", source="check", detail=details)
