"""Token generation for one request. Plain path: transformers' generate() with a dynamic KV cache; when the
thinking is cut (it reached ``GenerationParams.thinking_budget`` tokens, or ``max_tokens`` came while it was open),
``</think>`` (+ ``<answer>``) is appended and a second generate() writes the answer on the same cache, with
``thinking.answer_tokens`` tokens (the endpoints' rule). Fast path: FastDecoder (static cache, compiled decode step,
see fast.py). GLM-4.1V-style families get ``<answer>`` forced after a ``</think>`` the model wrote itself."""

from __future__ import annotations

import copy
import logging
from typing import Any

import torch
from pydantic import BaseModel
from transformers import LogitsProcessor, LogitsProcessorList

from glmv_agent.backends.thinking import answer_tokens
from glmv_agent.types import GenerationParams

from .family import STOP_TOKENS, THINK_CLOSE, THINK_OPEN, ModelFamily
from .fast import FastDecoder, TokenPicker
from .logits import ForcedAfter, FrequencyPenalty
from .prompt import PreparedPrompt
from .stopping import TurnWatcher

logger = logging.getLogger(__name__)


class EngineResult(BaseModel):
    completion_ids: list[int]  # everything after the prompt, forced tokens included
    finish_reason: str  # "stop" | "length"
    forced_answer: bool = False  # the thinking was cut and closed, and the answer generated after the close
    stop_string: bool = False  # ended on a text stop word (still in completion_ids; cut from the text)


def single_token_id(tokenizer: Any, token: str) -> int | None:
    ids = tokenizer.encode(token, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


class Engine:
    """Generates the completion of prepared prompts on a loaded model (batch size 1)."""

    def __init__(
        self, model: Any, tokenizer: Any, family: ModelFamily, *, fast: bool, compile_decode: bool,
        compile_mode: str = "reduce-overhead", cache_bucket: int = 4096,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.family = family
        self.fast = fast
        self.compile_decode = compile_decode and fast
        self.compile_mode = compile_mode
        self.cache_bucket = cache_bucket
        self.stop_ids = self._stop_ids()
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.stop_ids)
        think_open, think_close = single_token_id(tokenizer, THINK_OPEN), single_token_id(tokenizer, THINK_CLOSE)
        self.think_ids = (think_open, think_close) if think_open is not None and think_close is not None else None
        if self.think_ids is None:
            logger.warning("the tokenizer has no single <think>/</think> tokens; the thinking budget is off")
        self.force_ids = tokenizer.encode(family.force_answer, add_special_tokens=False)
        answer_ids = tokenizer.encode(family.answer_tag, add_special_tokens=False) if family.answer_tag else []
        self.answer_tag = ForcedAfter(self.think_ids[1], answer_ids) if answer_ids and self.think_ids else None
        self.fast_decoder = FastDecoder(model, compile_decode=self.compile_decode, compile_mode=compile_mode,
                                        cache_bucket=cache_bucket) if fast else None

    def _stop_ids(self) -> set[int]:
        configured = self.model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        for token in STOP_TOKENS:
            token_id = single_token_id(self.tokenizer, token)
            if token_id is not None:
                ids.add(token_id)
        if not ids:
            raise ValueError("the checkpoint defines no end-of-turn token")
        return ids

    def _inputs(self, prompt: PreparedPrompt) -> dict[str, Any]:
        device = self.model.device
        ids = torch.tensor([prompt.input_ids], dtype=torch.long, device=device)
        inputs: dict[str, Any] = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "mm_token_type_ids": torch.tensor([prompt.mm_token_type_ids], dtype=torch.int32, device=device),
        }
        if prompt.pixel_values is not None:
            inputs["pixel_values"] = prompt.pixel_values.to(device=device, dtype=self.model.dtype)
            inputs["image_grid_thw"] = prompt.image_grid_thw.to(device)
        return inputs

    def _generation_config(self, params: GenerationParams, max_new_tokens: int) -> Any:
        config = copy.deepcopy(self.model.generation_config)
        config.max_new_tokens = max_new_tokens
        config.max_length = None
        config.min_new_tokens = None
        config.eos_token_id = sorted(self.stop_ids)
        config.pad_token_id = self.pad_id
        config.return_dict_in_generate = True
        if params.temperature > 0:
            config.do_sample = True
            config.temperature = params.temperature
            if params.top_p is not None:
                config.top_p = params.top_p
        else:
            config.do_sample, config.temperature, config.top_p, config.top_k = False, None, None, None
        return config

    def watcher(self, prompt: PreparedPrompt, params: GenerationParams) -> TurnWatcher:
        stop_strings = (*self.family.stop_strings, *params.stop)
        from_start = self.think_ids is not None and bool(prompt.input_ids) and prompt.input_ids[-1] == self.think_ids[0]
        return TurnWatcher(
            tokenizer=self.tokenizer, prompt_length=len(prompt.input_ids), stop_strings=stop_strings,
            think_ids=self.think_ids, budget=(params.thinking_budget or None) if self.think_ids else None,
            thinking_from_start=from_start,
        )

    def processors(self, params: GenerationParams, prompt_length: int, extra: list[LogitsProcessor] | None
                   ) -> list[LogitsProcessor]:
        """Frequency penalty, the caller's processors, then the forced answer tag (last, so that it wins)."""
        processors: list[LogitsProcessor] = []
        if params.frequency_penalty:
            processors.append(FrequencyPenalty(params.frequency_penalty, prompt_length))
        processors.extend(extra or [])
        if self.answer_tag is not None:
            processors.append(self.answer_tag)
        return processors

    @torch.no_grad()
    def run(
        self, prompt: PreparedPrompt, params: GenerationParams, logits_processors: list[LogitsProcessor] | None = None
    ) -> EngineResult:
        inputs = self._inputs(prompt)
        watcher = self.watcher(prompt, params)
        processors = self.processors(params, len(prompt.input_ids), logits_processors)
        config = self._generation_config(params, params.max_tokens)
        if self.fast_decoder is not None:
            picker = TokenPicker(config, processors)
            forced = self.fast_decoder.run(inputs, params.max_tokens, picker, watcher, self.stop_ids, self.force_ids)
        else:
            forced = self._generate(inputs, config, params, watcher, processors)
        completion = watcher.tokens
        return EngineResult(
            completion_ids=list(completion), finish_reason=self._finish_reason(completion, watcher),
            forced_answer=forced, stop_string=watcher.reason == "stop_string",
        )

    def _generate(
        self, inputs: dict[str, Any], config: Any, params: GenerationParams, watcher: TurnWatcher,
        processors: list[LogitsProcessor],
    ) -> bool:
        """The plain path; True when the thinking was cut and the answer generated after the close."""
        extra: dict[str, Any] = {"stopping_criteria": [watcher], "logits_processor": LogitsProcessorList(processors)}
        out = self.model.generate(**inputs, generation_config=config, **extra)
        if self._finish_reason(watcher.tokens, watcher) == "stop":
            return False
        if not watcher.cut_due(at_limit=len(watcher.tokens) >= params.max_tokens):
            return False
        return self._force_answer(out.sequences[0].tolist(), out.past_key_values, params, watcher, extra)

    def _force_answer(
        self, sequence: list[int], cache: Any, params: GenerationParams, watcher: TurnWatcher, extra: dict[str, Any]
    ) -> bool:
        """Close the thinking section and let the model write its answer on the same KV cache."""
        used = len(sequence) - watcher.prompt_length
        logger.info("thinking cut after %d tokens without </think>; closing it for the answer", used)
        ids = torch.tensor([sequence + self.force_ids], dtype=torch.long, device=self.model.device)
        self.model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), past_key_values=cache,
            generation_config=self._generation_config(params, answer_tokens(params.max_tokens, used)), **extra,
        )
        return True

    def _finish_reason(self, completion: list[int], watcher: TurnWatcher) -> str:
        """``stop`` at an end-of-turn token or a stop word; any other end is a token limit."""
        if (completion and completion[-1] in self.stop_ids) or watcher.reason == "stop_string":
            return "stop"
        return "length"
