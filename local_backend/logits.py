"""Logits processors the engine adds to a request: OpenAI's ``frequency_penalty``, and a tag forced after
``</think>`` (GLM-4.1V's ``<answer>``). Both use tensor operations only, so the fast path's queued decoding step
never waits for the host."""

from __future__ import annotations

import torch
from transformers import LogitsProcessor


class FrequencyPenalty(LogitsProcessor):
    """``frequency_penalty`` as OpenAI and vLLM apply it: each token's logit minus ``penalty`` times the number of
    times the token occurs in the completion so far (tokens after ``prompt_length``; the prompt does not count)."""

    def __init__(self, penalty: float, prompt_length: int) -> None:
        self.penalty = penalty
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_length :]
        if generated.shape[1] == 0:
            return scores
        counts = torch.zeros_like(scores).scatter_add_(1, generated, torch.ones_like(generated, dtype=scores.dtype))
        return scores - self.penalty * counts


class ForcedAfter(LogitsProcessor):
    """Once ``trigger`` has been written, the next tokens are ``forced`` (batch size 1): while the sequence ends in
    ``trigger`` plus the first k forced tokens (k < len(forced)), every score but that of ``forced[k]`` is -inf."""

    def __init__(self, trigger: int, forced: list[int]) -> None:
        if not forced:
            raise ValueError("ForcedAfter needs at least one forced token")
        count = len(forced)
        patterns = torch.full((count, count + 1), -1, dtype=torch.long)  # row k: trigger + forced[:k], right-aligned
        for k in range(count):
            row = [trigger, *forced[:k]]
            patterns[k, count + 1 - len(row) :] = torch.tensor(row, dtype=torch.long)
        self.patterns = patterns
        self.targets = torch.tensor(forced, dtype=torch.long)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        width = self.patterns.shape[1]
        if input_ids.shape[1] < width:
            return scores
        if self.patterns.device != input_ids.device:
            self.patterns, self.targets = self.patterns.to(input_ids.device), self.targets.to(input_ids.device)
        tail = input_ids[:, -width:]
        match = ((tail == self.patterns) | (self.patterns < 0)).all(dim=1)  # (count,): at most one row matches
        target = (match.long() * self.targets).sum().view(1, 1).expand(scores.shape[0], 1)
        forced = torch.full_like(scores, float("-inf")).scatter(1, target, 0.0)
        return torch.where(match.any(), forced, scores)
