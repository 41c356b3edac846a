"""The thinking budget on OpenAI-compatible endpoints, written once for the sync and async backends (sans-I/O).

A server cannot stop a reply after N thinking tokens, so the budget is a length cap: the first request asks for
``min(max_tokens, thinking_budget)`` tokens. When it stops on ``finish_reason == "length"`` while still inside
``<think>`` (no ``</think>`` after the last ``<think>``, or separated ``reasoning_content`` with no content), the
thinking is closed with ``GenerationParams.think_close`` and the answer is asked for in a second request:

- continue (vLLM): the cut reply plus the close go back as the final assistant message with
  ``continue_final_message: true, add_generation_prompt: false``; the model writes its answer right after the close.
- re-ask (the hosted GLM API, or a server that answers 400 to the continue request): the cut thinking, closed with
  ``</think>``, then a user turn saying to answer now, with thinking switched off.

Whitespace around the cut thinking is trimmed: GLM-4.5V's chat template renders a thinking stripped, and a server
refuses to continue a message it cannot find in the rendered prompt.
The second request may use what the first left of ``max_tokens``, and at least ``min(max_tokens, ANSWER_TOKENS)``.
When the budget cap (smaller than ``max_tokens``) cut a reply that had finished thinking, the answer is continued
the same way without a close; where the server cannot continue, that reply is returned as it came.

The returned Completion holds the whole reply (thinking + close + answer) in ``text``, usage summed with
``usage.requests == 2`` and ``thinking_cut`` saying how the answer came.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal

from ..types import THINK_CLOSE, Completion, GenerationParams, Usage

logger = logging.getLogger(__name__)

THINK_OPEN = "<think>"
ANSWER_TOKENS = 1024  # the least an answer after a cut thinking may take (capped by max_tokens)
REASK = ("Your thinking above was cut off at the length limit. Do not think any further: give your answer now, "
         "in the required format.")


@dataclass(frozen=True)
class Pass:
    """One request of the exchange; ``refusable``: a 400 answer means the server does not take this form, and the
    driver sends back ``None`` instead of raising."""

    request: dict[str, Any]
    refusable: bool = False


@dataclass(frozen=True)
class Cut:
    """A first reply that stopped on length: its text so far (thinking re-wrapped in ``<think>`` when the server
    separated it) and the closing tag to add (empty when the thinking had already closed)."""

    text: str
    close: str
    used: int  # completion tokens of the first request

    @property
    def thinking(self) -> bool:
        return bool(self.close)


Exchange = Generator[Pass, "Completion | None", Completion]
How = Literal["continued", "reasked"]


def first_pass_tokens(params: GenerationParams) -> int:
    """``max_tokens`` of the first request: the budget when it is smaller than ``max_tokens``."""
    return min(params.max_tokens, params.thinking_budget) if params.thinking_budget else params.max_tokens


def answer_tokens(max_tokens: int, used: int) -> int:
    """``max_tokens`` of the answer request: what ``used`` tokens left of ``max_tokens``, at least
    ``min(max_tokens, ANSWER_TOKENS)`` (the local backend applies the same rule after its in-place close)."""
    return max(max_tokens - used, min(max_tokens, ANSWER_TOKENS))


def open_thinking(text: str) -> bool:
    """True when the last ``<think>`` in ``text`` has no ``</think>`` after it."""
    start = text.rfind(THINK_OPEN)
    return start >= 0 and THINK_CLOSE not in text[start:]


def find_cut(first: Completion, params: GenerationParams) -> Cut | None:
    """The cut to answer after, or None when ``first`` needs no second request."""
    if not params.thinking_budget or first.finish_reason != "length":
        return None
    cap = first_pass_tokens(params)
    used = first.usage.completion_tokens or cap
    if open_thinking(first.text):  # whitespace around the thinking is trimmed, as GLM-4.5V's template renders it
        start = first.text.rfind(THINK_OPEN) + len(THINK_OPEN)
        return Cut(first.text[:start] + first.text[start:].strip(), params.think_close, used)
    if first.reasoning and not first.text.strip():
        return Cut(THINK_OPEN + first.reasoning.strip(), params.think_close, used)
    if cap < params.max_tokens:  # our cap, not max_tokens, cut an answer
        return Cut(first.full_text(), "", used)
    return None


def exchange(request: dict[str, Any], params: GenerationParams, *, prefill: bool, reask_body: dict[str, Any]
             ) -> Exchange:
    """The requests of one completion: yields each Pass and is sent its Completion (None: refused with 400).

    ``request`` is the first request (``chat.completions.create`` keyword arguments, ``max_tokens`` already
    ``first_pass_tokens``); ``prefill``: try the continue form first; ``reask_body``: ``extra_body`` of a re-ask.
    """
    first = yield Pass(request)
    assert first is not None  # only refusable passes get None
    cut = find_cut(first, params)
    if cut is None:
        return first
    allowed = answer_tokens(params.max_tokens, cut.used)
    where = "inside the thinking" if cut.thinking else "in the answer (thinking budget cap)"
    if prefill:
        logger.info("reply stopped on length %s after %d tokens; continuing it", where, cut.used)
        second = yield Pass(continue_request(request, cut.text + cut.close, allowed), refusable=True)
        if second is not None:
            return joined(first, second, cut.text + cut.close + (second.reasoning or "") + second.text, "continued")
        logger.info("the server refused continue_final_message (400); asking for the answer instead")
    if not cut.thinking:
        return first
    logger.info("reply stopped on length inside the thinking after %d tokens; asking for the answer", cut.used)
    second = yield Pass(reask_request(request, cut.text, allowed, reask_body))
    assert second is not None
    return joined(first, second, reasked_text(cut.text, second.full_text()), "reasked", refused=int(prefill))


def continue_request(request: dict[str, Any], prefill: str, max_tokens: int) -> dict[str, Any]:
    """``request`` with ``prefill`` as the final assistant message, for the server to continue."""
    extra = {**request["extra_body"], "continue_final_message": True, "add_generation_prompt": False}
    messages = [*request["messages"], {"role": "assistant", "content": prefill}]
    return {**request, "messages": messages, "max_tokens": max_tokens, "extra_body": extra}


def reask_request(request: dict[str, Any], thinking: str, max_tokens: int, extra_body: dict[str, Any]
                  ) -> dict[str, Any]:
    """``request`` followed by the cut thinking (closed) and a user turn asking for the answer now."""
    messages = [*request["messages"], {"role": "assistant", "content": thinking + THINK_CLOSE},
                {"role": "user", "content": REASK}]
    return {**request, "messages": messages, "max_tokens": max_tokens, "extra_body": extra_body}


def reasked_text(thinking: str, reply: str) -> str:
    """One reply from the cut thinking and the re-ask's reply: a thinking section the re-ask reply opens with is
    added to the cut one, the rest follows the close verbatim."""
    stripped = reply.lstrip()
    if stripped.startswith(THINK_OPEN) and THINK_CLOSE in stripped:
        more, rest = stripped[len(THINK_OPEN):].split(THINK_CLOSE, 1)
        if more.strip():
            thinking = f"{thinking}\n\n{more.strip()}"
        reply = rest
    return thinking + THINK_CLOSE + reply


def joined(first: Completion, second: Completion, text: str, how: How, refused: int = 0) -> Completion:
    """The completion of both requests: ``text``, usage summed (``refused``: requests answered 400 in between,
    counted too), the second's finish reason."""
    usage = Usage(prompt_tokens=first.usage.prompt_tokens + second.usage.prompt_tokens,
                  completion_tokens=first.usage.completion_tokens + second.usage.completion_tokens,
                  requests=first.usage.requests + second.usage.requests + refused)
    return Completion(text=text, usage=usage, finish_reason=second.finish_reason, thinking_cut=how)


def drive(machine: Exchange, send: Callable[[Pass], Completion | None]) -> Completion:
    """Run an exchange with a blocking ``send``."""
    step = next(machine)
    while True:
        try:
            step = machine.send(send(step))
        except StopIteration as done:
            return done.value


async def adrive(machine: Exchange, send: Callable[[Pass], Awaitable[Completion | None]]) -> Completion:
    """Run an exchange with an async ``send``."""
    step = next(machine)
    while True:
        try:
            step = machine.send(await send(step))
        except StopIteration as done:
            return done.value
