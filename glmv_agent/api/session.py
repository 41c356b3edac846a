"""The step agent's run folder: every call (act, query, check, locate, run) recorded in one folder, in order.

The folder is a normal run folder (``steps.jsonl``, ``screenshots/``, ``summary.json``, ``report.html``), so the
report, ``--replay DIR`` and every other tool read it as they read a run. Step indices continue from call to call;
``calls.jsonl`` has one line per call saying which steps it made, how it ended and what it answered.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from PIL import Image
from pydantic import BaseModel

from ..recording import RunRecorder, RunSummary, StepRecord

log = logging.getLogger(__name__)


class CallRecord(BaseModel):
    """One line of calls.jsonl."""

    kind: str  # act | run | query | check | assert | locate
    text: str  # the instruction, question, statement or description
    status: str  # complete | failed | error | ... (for act and run: the episode's status)
    answer: str | None = None
    error: str | None = None
    first_step: int | None = None  # step indices of this call in steps.jsonl (None: it made none)
    last_step: int | None = None
    started_at: str
    duration_s: float


class SessionRecorder:
    """One run folder for the life of a step agent; ``call`` opens the recorder of the next call."""

    def __init__(self, run_dir: Path, name: str, profile: str, platform: str) -> None:
        self.name = name
        self.recorder = RunRecorder(run_dir, RunSummary(task=name, profile=profile, platform=platform))
        self.calls: list[CallRecord] = []
        self.next_index = 0
        self.closed = False

    @property
    def run_dir(self) -> Path:
        return self.recorder.run_dir

    def call(self, kind: str, text: str) -> CallRecorder:
        if self.closed:
            raise RuntimeError("this agent is closed; make a new one")
        return CallRecorder(self, kind, text)

    def ended(self, call: CallRecorder) -> None:
        """File a finished call: calls.jsonl, the summary's answer and step count."""
        record = CallRecord(
            kind=call.kind, text=call.text, status=call.summary.status, answer=call.summary.answer,
            error=call.summary.error, first_step=call.first, last_step=call.last, started_at=call.summary.started_at,
            duration_s=round(time.monotonic() - call.t0, 3),
        )
        self.calls.append(record)
        with (self.run_dir / "calls.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(record.model_dump_json() + "\n")
        if call.summary.answer is not None:
            self.recorder.summary.answer = call.summary.answer
        self.recorder.write_summary()

    def close(self, write_report: bool = True) -> None:
        """Finish the folder: the summary says which calls did not complete; then the HTML report."""
        if self.closed:
            return
        self.closed = True
        failed = [c for c in self.calls if c.status != "complete"]
        listed = "; ".join(f"{c.kind} {c.text!r}" for c in self.calls)
        self.recorder.summary.task = f"{self.name}: {listed}"[:2000] if listed else self.name
        error = None
        if failed:
            error = f"{len(failed)} of {len(self.calls)} calls did not complete: " + "; ".join(
                f"{c.kind} {c.text!r}: {c.status}" for c in failed)
        self.recorder.finish("failed" if failed else "complete", self.recorder.summary.answer, error)
        if write_report:
            try:
                from ..report.writer import write_report as write

                write(self.run_dir)
            except Exception as exc:  # noqa: BLE001 - a report failure must never lose the record
                log.warning("could not write the run report: %s", exc)


class CallRecorder:
    """What the episode machine and the question calls record into: the session's folder, with this call's step
    indices moved past the steps of earlier calls. Duck-types :class:`RunRecorder` for :class:`Episode`."""

    def __init__(self, session: SessionRecorder, kind: str, text: str) -> None:
        self.session = session
        self.kind, self.text = kind, text
        self.offset = session.next_index
        self.first: int | None = None
        self.last: int | None = None
        self.t0 = time.monotonic()
        summary = session.recorder.summary
        self.summary = RunSummary(task=text, profile=summary.profile, platform=summary.platform,
                                  started_at=datetime.now().isoformat(timespec="seconds"))

    @property
    def run_dir(self) -> Path:
        return self.session.run_dir

    def _index(self, local: int) -> int:
        index = self.offset + local
        self.session.next_index = max(self.session.next_index, index + 1)
        return index

    def save_screenshot(self, index: int, image: Image.Image, suffix: str = "") -> str:
        return self.session.recorder.save_screenshot(self._index(index), image, suffix)

    def wait_for_images(self, record: StepRecord) -> None:
        self.session.recorder.wait_for_images(record)

    def add_step(self, record: StepRecord) -> None:
        """Write ``record`` with its session-wide index (the caller's record keeps its index in the call)."""
        index = self._index(record.index)
        self.first = index if self.first is None else min(self.first, index)
        self.last = index if self.last is None else max(self.last, index)
        self.summary.model_calls += 1
        self.summary.steps = max(self.summary.steps, record.index + 1)
        self.session.recorder.add_step(record.model_copy(update={"index": index}))

    def finish(self, status: str, answer: str | None = None, error: str | None = None) -> None:
        if self.summary.finished_at is not None:
            return
        self.summary.status, self.summary.answer, self.summary.error = status, answer, error
        self.summary.finished_at = datetime.now().isoformat(timespec="seconds")
        self.session.ended(self)


__all__ = ["CallRecord", "CallRecorder", "SessionRecorder"]
