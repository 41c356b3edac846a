"""Per-request watcher (batch size 1): text stop words and the thinking budget, over the tokens after the prompt."""

from __future__ import annotations

from typing import Any

import torch
from transformers import StoppingCriteria


class TurnWatcher(StoppingCriteria):
    """Follows the completion token by token and says when a stop word appeared or thinking ran past its budget.

    The fast decoder feeds it directly (``feed``); as a transformers StoppingCriteria it reads the new tokens of
    generate()'s sequence. Forced tokens (``</think>`` appended by the backend) are fed like generated ones, so
    they close the thinking section.
    """

    def __init__(
        self,
        *,
        tokenizer: Any,
        prompt_length: int,
        stop_strings: tuple[str, ...],
        think_ids: tuple[int, int] | None,
        budget: int | None,
        thinking_from_start: bool = False,
    ) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.stop_strings = tuple(s for s in stop_strings if s)
        self.window = max((len(s) for s in self.stop_strings), default=0) + 2  # a stop word spans <= len tokens
        self.think_ids = think_ids
        self.budget = budget
        self.thinking_start: int | None = 0 if thinking_from_start else None
        self.thinking_closed = False
        self.tokens: list[int] = []  # the completion so far
        self.reason: str | None = None  # "stop_string" | "budget" once triggered

    def _follow_thinking(self, new_tokens: list[int], offset: int) -> None:
        if self.think_ids is None:
            return
        think_open, think_close = self.think_ids
        for index, token in enumerate(new_tokens, start=offset):
            if token == think_open and self.thinking_start is None:
                self.thinking_start = index + 1
            elif token == think_close and self.thinking_start is not None:
                self.thinking_closed = True

    def thinking_length(self) -> int:
        if self.thinking_start is None or self.thinking_closed:
            return 0
        return len(self.tokens) - self.thinking_start

    def in_thinking(self) -> bool:
        return self.thinking_start is not None and not self.thinking_closed

    def cut_due(self, at_limit: bool) -> bool:
        """Whether to close the thinking now (budget on): it reached the budget, or the token limit came while it
        was still open (``at_limit``)."""
        return bool(self.budget) and (self.reason == "budget" or (at_limit and self.in_thinking()))

    def feed(self, new_tokens: list[int]) -> str | None:
        """Add tokens to the completion; the stop reason, if any (also kept in ``reason``)."""
        self._follow_thinking(new_tokens, len(self.tokens))
        self.tokens.extend(new_tokens)
        self.reason = None
        if self.stop_strings:
            tail = self.tokenizer.decode(self.tokens[-self.window :], skip_special_tokens=False)
            if any(stop in tail for stop in self.stop_strings):
                self.reason = "stop_string"
        if self.reason is None and self.budget and self.thinking_length() >= self.budget:
            self.reason = "budget"
        return self.reason

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        if input_ids.shape[0] != 1:
            raise ValueError("TurnWatcher follows a single sequence (batch size 1)")
        reason = self.feed(input_ids[0, self.prompt_length + len(self.tokens) :].tolist())
        return torch.full((1,), reason is not None, dtype=torch.bool, device=input_ids.device)
