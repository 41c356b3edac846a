"""One question about the screen (query, check, locate) as a sans-I/O machine (run by glmv_agent.agent.drive).

Like :mod:`glmv_agent.episode`, :func:`ask` yields :class:`Observe` and :class:`Generate` requests and is sent their
results, so the sync and the async agents share every decision (prompt, re-asks, recording) and only do the I/O.
Each model call becomes one StepRecord in the agent's run folder: the screenshot, our prompt, the raw answer, and
an ``action`` naming the call and what was read (``{"type": "locate", "box_2d": [...]}`` draws in the report).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from ..episode import Generate, Observe, Request
from ..errors import BackendError, ParseError
from ..recording import StepRecord
from ..types import ChatMessage, Completion, GenerationParams, ImagePart, Observation, TextPart
from .asking import Reading
from .session import CallRecorder

Machine = Generator[Request, Any, Any]


@dataclass(frozen=True)
class Question:
    """One question call: its kind, the text the caller gave, our prompt, the reader of the answer and how the
    reading is recorded (``record(reading) -> action dict``)."""

    kind: str
    text: str
    prompt: str
    read: Callable[[str], Reading]
    record: Callable[[Reading], dict[str, Any]]


def ask(call: CallRecorder, question: Question, params: GenerationParams, tries: int) -> Machine:
    """Observe once, ask the model up to ``tries`` times; return (Reading, Observation).

    Raises ParseError when no answer could be read, BackendError when the endpoint failed (both recorded)."""
    observation: Observation = yield Observe(0)
    base = StepRecord(index=0, screenshot=call.save_screenshot(0, observation.screenshot),
                      screen_size=observation.size, url=observation.url, app=observation.app)
    note, error = "", ""
    for attempt in range(tries):
        prompt = question.prompt + note
        messages = [ChatMessage(role="user", content=[ImagePart(image=observation.screenshot), TextPart(text=prompt)])]
        record = base.model_copy(update={"attempt": attempt, "prompt_text": prompt, "prompt_images": 1,
                                         "timings": {}})
        started = time.perf_counter()
        try:
            completion: Completion = yield Generate(messages, params)
        except BackendError as exc:
            record.error, record.error_kind = str(exc), "backend"
            call.add_step(record)
            raise
        record.timings["generate"] = time.perf_counter() - started
        record.raw_text, record.reasoning, record.usage = completion.text, completion.reasoning, completion.usage
        try:
            reading = question.read(completion.full_text())
        except ParseError as exc:
            error = str(exc)
            record.error, record.error_kind = error, "parse"
            call.add_step(record)
            note = f"\n\nYour previous answer could not be used ({exc}). Answer again in the required format."
            continue
        record.action = {"type": question.kind, **question.record(reading)}
        record.thought = reading.reason
        call.add_step(record)
        return reading, observation
    raise ParseError(f"no usable answer to {question.kind} {question.text!r} after {tries} tries: {error}")




__all__ = ["Question", "ask"]
