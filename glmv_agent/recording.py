"""Trajectory recording: one folder per run with steps.jsonl, screenshots and summary.json.

The records stay valid UTF-8 JSON whatever strings the model or server returned: lone surrogate halves are written as
U+FFFD, summary.json is replaced atomically, and one step keeps at most MAX_RECORDED_TEXT characters of each reply
field (head and tail, the cut said in the text and in ``clipped``).
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from .errors import ConfigError, RecordError
from .trajectory import SUFFIX, TrajectoryWriter
from .types import Usage

MAX_RECORDED_TEXT = 100_000  # characters of one reply field one step keeps
_CAPPED = ("raw_text", "reasoning", "thought", "memory")
_SURROGATE = re.compile("[\ud800-\udfff]")


class StepRecord(BaseModel):
    """One model call (and, when it parsed, one action) as written to steps.jsonl."""

    index: int
    attempt: int = 0
    raw_text: str = ""
    reasoning: str | None = None
    thought: str = ""
    memory: str | None = None
    action: dict[str, Any] | None = None
    pixels: list[tuple[int, int]] = Field(default_factory=list)
    detail: str = ""
    note: str | None = None
    error: str | None = None
    error_kind: str | None = None
    audit: list[str] = Field(default_factory=list)
    screenshot: str | None = None
    marked_screenshot: str | None = None
    screen_size: tuple[int, int] | None = None
    url: str | None = None
    app: str | None = None
    prompt_text: str = ""
    prompt_images: int = 0
    usage: Usage = Field(default_factory=Usage)  # usage.requests > 1: the thinking was cut and answered apart
    thinking_cut: str | None = None  # how a cut thinking got its answer: continued | reasked | in_place
    finish_reason: str | None = None  # the server's stop reason; "length": the reply was cut at max_tokens
    timings: dict[str, float] = Field(default_factory=dict)
    clipped: dict[str, int] = Field(default_factory=dict)  # field -> its full length, when only head and tail are kept


class ActionCounts(BaseModel):
    """What became of the actions the model chose (terminal answers such as ``finish`` not counted)."""

    executed: int = 0  # carried out on the device without an error
    refused: int = 0  # blocked by the policy, a person, or a caller's hook
    failed: int = 0  # attempted, and the device reported an error


class RunSummary(BaseModel):
    task: str
    profile: str
    platform: str
    status: str = "running"
    answer: str | None = None
    error: str | None = None
    steps: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started_at: str = ""
    finished_at: str | None = None
    duration_s: float = 0.0
    actions: ActionCounts = Field(default_factory=ActionCounts)


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: halves of a surrogate pair are joined, a lone half becomes U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def recordable(value: Any) -> Any:
    """``value`` with every string in it (nested lists, tuples and dict keys too) made valid Unicode."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, (list, tuple)):
        return type(value)(recordable(item) for item in value)
    if isinstance(value, dict):
        return {recordable(key): recordable(item) for key, item in value.items()}
    return value


def head_and_tail(text: str, limit: int = MAX_RECORDED_TEXT) -> str:
    """``text`` when it fits ``limit``, else its first and last ``limit // 2`` characters and a line saying the cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half:,} characters not recorded ...]\n{text[-half:]}"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def default_run_dir(task: str, root: Path | str = "runs") -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", task.lower()).strip("-")[:40] or "task"
    return Path(root) / f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"


class RunRecorder:
    """Writes the trajectory as it happens, so an interrupted run still leaves everything up to its last step."""

    def __init__(self, run_dir: Path, summary: RunSummary) -> None:
        """Create the folder and its first summary; ConfigError naming the folder when it cannot be written."""
        self.run_dir = Path(run_dir)
        if (self.run_dir / "steps.jsonl").is_file() and (self.run_dir / "steps.jsonl").stat().st_size:
            raise ConfigError(f"{self.run_dir} already holds a run; choose another run folder")
        self.summary = summary
        self.summary.started_at = datetime.now().isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        self._saved: dict[tuple[int, str], str] = {}
        try:
            (self.run_dir / "screenshots").mkdir(parents=True, exist_ok=True)
            self._steps = (self.run_dir / "steps.jsonl").open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(str(self._unwritable(exc))) from None
        self._images = TrajectoryWriter(self.run_dir)
        try:
            self.write_summary()
        except RecordError as exc:
            self._steps.close()
            raise ConfigError(str(exc)) from None

    def _unwritable(self, exc: OSError) -> RecordError:
        return RecordError(f"cannot write the run folder {self.run_dir}: {_reason(exc)}")

    def save_screenshot(self, index: int, image: Image.Image, suffix: str = "") -> str:
        """Save a step's screenshot once, lossless, on a background thread (:mod:`.trajectory`); return its path
        relative to the run folder. :meth:`wait_for_images` or :meth:`finish` make sure it is written."""
        key = (index, suffix)
        if key not in self._saved:
            name = f"screenshots/step_{index:03d}{suffix}{SUFFIX}"
            try:
                self._images.save(name, image)  # an earlier background write that failed raises here
            except OSError as exc:
                raise self._unwritable(exc) from None
            self._saved[key] = name
        return self._saved[key]

    def wait_for_images(self, record: StepRecord) -> None:
        """Block until the screenshots ``record`` names are written (for readers of the run folder mid-run);
        RecordError naming the folder when one could not be written."""
        try:
            self._images.wait([record.screenshot, record.marked_screenshot])
        except OSError as exc:
            raise self._unwritable(exc) from None

    @staticmethod
    def make_recordable(record: StepRecord) -> None:
        """Fix ``record`` in place so it always serialises: valid Unicode, huge reply fields cut to head and tail."""
        for name in StepRecord.model_fields:
            value = recordable(getattr(record, name))
            if name in _CAPPED and isinstance(value, str) and len(value) > MAX_RECORDED_TEXT:
                record.clipped[name] = len(value)
                value = head_and_tail(value)
            setattr(record, name, value)

    def add_step(self, record: StepRecord) -> None:
        """Append one step to steps.jsonl; RecordError naming the folder when the disk refuses it."""
        self.make_recordable(record)
        try:
            self._steps.write(record.model_dump_json() + "\n")
            self._steps.flush()
        except OSError as exc:
            raise self._unwritable(exc) from None
        self.summary.model_calls += 1
        self.summary.steps = max(self.summary.steps, record.index + 1)
        self.summary.prompt_tokens += record.usage.prompt_tokens
        self.summary.completion_tokens += record.usage.completion_tokens

    def write_summary(self) -> None:
        self.summary.duration_s = round(time.monotonic() - self._t0, 3)
        summary = recordable(self.summary.model_dump())
        try:
            _write_atomically(self.run_dir / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
        except OSError as exc:
            raise self._unwritable(exc) from None

    def finish(self, status: str, answer: str | None = None, error: str | None = None) -> None:
        """Wait for the screenshots still being written, then write the final summary (even when a screenshot
        could not be written: that error is raised after)."""
        failed = self._flush_images()
        self.summary.status = status
        self.summary.answer = answer
        self.summary.error = error
        self.summary.finished_at = datetime.now().isoformat(timespec="seconds")
        try:
            self.write_summary()
        finally:
            try:
                self._steps.close()
            except OSError:  # the last buffered write failed too: the error that ended the run already says so
                pass
        if failed is not None:
            raise self._unwritable(failed) if isinstance(failed, OSError) else failed

    def _flush_images(self) -> Exception | None:
        try:
            self._images.flush()
        except Exception as exc:  # noqa: BLE001 - raised by finish() once the summary is written
            return exc
        return None
