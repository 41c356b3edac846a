"""Trajectory recording: one folder per run with steps.jsonl, screenshots and summary.json."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from .errors import ConfigError
from .types import Usage


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
    usage: Usage = Field(default_factory=Usage)
    timings: dict[str, float] = Field(default_factory=dict)


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


def default_run_dir(task: str, root: Path | str = "runs") -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", task.lower()).strip("-")[:40] or "task"
    return Path(root) / f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"


class RunRecorder:
    """Writes the trajectory as it happens, so an interrupted run still leaves everything up to its last step."""

    def __init__(self, run_dir: Path, summary: RunSummary) -> None:
        self.run_dir = Path(run_dir)
        if (self.run_dir / "steps.jsonl").is_file() and (self.run_dir / "steps.jsonl").stat().st_size:
            raise ConfigError(f"{self.run_dir} already holds a run; choose another run folder")
        (self.run_dir / "screenshots").mkdir(parents=True, exist_ok=True)
        self.summary = summary
        self.summary.started_at = datetime.now().isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        self._steps = (self.run_dir / "steps.jsonl").open("a", encoding="utf-8")
        self._saved: dict[tuple[int, str], str] = {}
        self.write_summary()

    def save_screenshot(self, index: int, image: Image.Image, suffix: str = "") -> str:
        """Save a step's screenshot once (PNG, fast compression); return its path relative to the run folder."""
        key = (index, suffix)
        if key not in self._saved:
            name = f"screenshots/step_{index:03d}{suffix}.png"
            image.save(self.run_dir / name, format="PNG", compress_level=1)
            self._saved[key] = name
        return self._saved[key]

    def add_step(self, record: StepRecord) -> None:
        self._steps.write(record.model_dump_json() + "\n")
        self._steps.flush()
        self.summary.model_calls += 1
        self.summary.steps = max(self.summary.steps, record.index + 1)
        self.summary.prompt_tokens += record.usage.prompt_tokens
        self.summary.completion_tokens += record.usage.completion_tokens

    def write_summary(self) -> None:
        self.summary.duration_s = round(time.monotonic() - self._t0, 3)
        path = self.run_dir / "summary.json"
        path.write_text(json.dumps(self.summary.model_dump(), ensure_ascii=False, indent=2), encoding="utf-8")

    def finish(self, status: str, answer: str | None = None, error: str | None = None) -> None:
        self.summary.status = status
        self.summary.answer = answer
        self.summary.error = error
        self.summary.finished_at = datetime.now().isoformat(timespec="seconds")
        self.write_summary()
        self._steps.close()
