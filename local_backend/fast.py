"""The fast decoding path: one static KV cache reused across requests, the one-token decode step compiled
(``torch.compile`` mode ``reduce-overhead`` = CUDA graphs on GPU) and a loop that keeps one step queued on the
device while the host reads the previous token, so the GPU never waits for Python between tokens.

Token choice matches transformers' generate() for the same generation config (repetition penalty, user logits
processors, then temperature / top-k / top-p when sampling; greedy otherwise), so greedy output is identical to
the plain path. A cut thinking is handled in the loop: the forced ``</think>`` (+ ``<answer>``) is fed as one extra
prefill chunk and decoding goes on for ``thinking.answer_tokens`` more tokens.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    StaticCache,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from glmv_agent.backends.thinking import answer_tokens

from .stopping import TurnWatcher

logger = logging.getLogger(__name__)


class TokenPicker:
    """Next-token choice from logits, with the processors generate() would apply for ``config``."""

    def __init__(self, config: Any, extra: list[LogitsProcessor]) -> None:
        self.processors = LogitsProcessorList()
        penalty = getattr(config, "repetition_penalty", None)
        if penalty is not None and penalty != 1.0:
            self.processors.append(RepetitionPenaltyLogitsProcessor(penalty))
        self.processors.extend(extra)
        self.sample = bool(config.do_sample)
        if self.sample:
            if config.temperature is not None and config.temperature != 1.0:
                self.processors.append(TemperatureLogitsWarper(config.temperature))
            if config.top_k:
                self.processors.append(TopKLogitsWarper(config.top_k))
            if config.top_p is not None and config.top_p < 1.0:
                self.processors.append(TopPLogitsWarper(config.top_p))

    def __call__(self, input_ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        scores = self.processors(input_ids, logits.float())
        if self.sample:
            return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)
        return torch.argmax(scores, dim=-1)


class FastDecoder:
    """Static-cache decoding for one model (batch size 1)."""

    def __init__(self, model: Any, *, compile_decode: bool, compile_mode: str, cache_bucket: int) -> None:
        self.model = model
        self.cache_bucket = cache_bucket
        self.cache: Any = None
        self.cache_len = 0
        self.use_graphs = compile_decode and model.device.type == "cuda"
        self.step_forward = (
            torch.compile(model.forward, mode=compile_mode, fullgraph=False, dynamic=False)
            if compile_decode else model.forward
        )

    def _cache_for(self, needed: int) -> Any:
        """The reusable static cache, grown in buckets so that compiled graphs are rebuilt rarely."""
        if self.cache is None or self.cache_len < needed:
            self.cache_len = math.ceil(needed / self.cache_bucket) * self.cache_bucket
            self.cache = None  # free the old one first
            self.cache = StaticCache(config=self.model.config, max_cache_len=self.cache_len)
        else:
            self.cache.reset()
        return self.cache

    def _forward(self, input_ids: torch.Tensor, positions: torch.Tensor, compiled: bool) -> torch.Tensor:
        """Logits of the last position for ``input_ids`` (1, n) at M-RoPE ``positions`` (3, 1, n)."""
        forward = self.step_forward if compiled else self.model.forward
        if compiled and self.use_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        out = forward(input_ids=input_ids, position_ids=positions, past_key_values=self.cache, use_cache=True,
                      logits_to_keep=1)
        return out.logits[:, -1, :].float()  # a copy: graph outputs are overwritten by the next replay

    def _prefill(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the prompt (images included); (last logits, position of the next token as (3, 1, 1))."""
        inner = self.model.model
        inner.rope_deltas = None  # recomputed from this prompt's image grid
        out = self.model(**inputs, past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        length = inputs["input_ids"].shape[1]
        delta = inner.rope_deltas if inner.rope_deltas is not None else 0
        position = (torch.zeros((3, 1, 1), dtype=torch.long, device=self.model.device) + length + delta).long()
        return out.logits[:, -1, :].float(), position

    @torch.no_grad()
    def run(
        self, inputs: dict[str, Any], max_new_tokens: int, picker: TokenPicker, watcher: TurnWatcher,
        stop_ids: set[int], force_ids: list[int],
    ) -> bool:
        """Decode into ``watcher.tokens`` until a stop token, a stop word or ``max_new_tokens`` (then, after a cut
        thinking was closed, ``answer_tokens`` more); True when the thinking was cut and closed."""
        prompt_length = inputs["input_ids"].shape[1]
        room = prompt_length + max_new_tokens + len(force_ids) + answer_tokens(max_new_tokens, max_new_tokens) + 1
        self._cache_for(room)
        ids = torch.zeros((1, room), dtype=torch.long, device=self.model.device)
        ids[:, :prompt_length] = inputs["input_ids"]
        logits, position = self._prefill(inputs)
        token = picker(ids[:, :prompt_length], logits)
        ids[:, prompt_length] = token
        length, limit, forced = prompt_length + 1, max_new_tokens, False
        while True:
            launch = length - prompt_length < limit
            if launch:  # queue the next step before reading this token: the device stays busy
                following = picker(ids[:, :length], self._forward(token.view(1, 1), position, True))
                position = position + 1
            value = int(token.item())
            reason = watcher.feed([value])
            if value in stop_ids or reason == "stop_string":
                return forced
            if not forced and watcher.cut_due(at_limit=not launch):
                used = length - prompt_length
                logger.info("thinking cut after %d tokens without </think>; closing it for the answer", used)
                following, position, length = self._force(ids, length, position, force_ids, picker, watcher, launch)
                forced, limit = True, length - prompt_length + answer_tokens(max_new_tokens, used)
            elif not launch:
                return forced
            ids[:, length] = following
            token, length = following, length + 1

    def _force(
        self, ids: torch.Tensor, length: int, position: torch.Tensor, force_ids: list[int], picker: TokenPicker,
        watcher: TurnWatcher, last_done: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Feed the forced tokens after ``ids[:, :length]`` (a queued next token is dropped; ``last_done`` False:
        the last token's own step never ran and goes first); (next token, next position, new length)."""
        count = len(force_ids)
        ids[:, length : length + count] = torch.tensor(force_ids, dtype=torch.long, device=ids.device)
        start = length if last_done else length - 1  # ``position`` is that of ids[:, start]
        positions = position + torch.arange(length + count - start, device=ids.device).view(1, 1, -1)
        logits = self._forward(ids[:, start : length + count], positions, False)
        watcher.feed(list(force_ids))
        length += count
        return picker(ids[:, :length], logits), positions[..., -1:] + 1, length
