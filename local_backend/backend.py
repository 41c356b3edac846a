"""TransformersBackend: the Backend protocol served by a GLM-V checkpoint loaded in this process.

Nothing here imports torch or transformers at module level: they are imported when the model is first needed
(the first generate() or an explicit load()), so ``import glmv_agent.local_backend`` stays light.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmv_agent.errors import BackendError, ConfigError
from glmv_agent.types import ChatMessage, Completion, GenerationParams, Usage

from .config import LocalModelConfig
from .family import ModelFamily, cut_at_stop_string, family_for
from .prompt import PromptBuilder

if TYPE_CHECKING:
    from .engine import Engine

logger = logging.getLogger(__name__)


def _import_runtime() -> tuple[Any, Any]:
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise ConfigError(
            f"the local backend needs torch and transformers ({exc.name} is missing): pip install 'glmv-agent[local]'"
        ) from None
    return torch, transformers


def _resolve_dtype(torch: Any, name: str, on_cuda: bool) -> Any:
    if name == "auto":
        return torch.bfloat16 if on_cuda else torch.float32
    return getattr(torch, name)


def _looks_like_path(model: str) -> bool:
    """Hub ids are ``org/name``; anything absolute, relative-dotted, home-based or deeper is a directory."""
    return model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model or Path(model).is_dir()


def _placement(device_map: str | None, on_cuda: bool) -> tuple[dict[str, Any], str | None]:
    """from_pretrained options and the device to move the model to afterwards.

    transformers needs accelerate for any device_map; a single device works without it (load, then move).
    """
    has_accelerate = importlib.util.find_spec("accelerate") is not None
    single = device_map is None or device_map == "cpu" or device_map.startswith(("cuda", "mps", "xpu"))
    if has_accelerate and device_map is not None:
        return {"device_map": device_map}, None
    if has_accelerate and on_cuda:
        return {"device_map": "cuda"}, None  # weights go straight to the GPU
    if not single:
        raise ConfigError(f"device_map '{device_map}' needs the accelerate package: pip install accelerate")
    return {}, device_map or ("cuda" if on_cuda else "cpu")


def _load_error(model: str, exc: Exception) -> ConfigError:
    where = "local directory" if Path(model).exists() else "hub id"
    hint = ""
    if os.environ.get("HF_HUB_OFFLINE") and not Path(model).exists():
        hint = " HF_HUB_OFFLINE is set: pass a local directory or download the model first."
    return ConfigError(f"cannot load GLM-V model from {where} '{model}': {exc}.{hint}")


class TransformersBackend:
    """Runs GLM-4.1V / AutoGLM-Phone / GLM-4.5V / GLM-4.6V with transformers; loads lazily on first generate().

    ``logits_processors`` are applied at every decoding step (constraints, tests that script the output).
    """

    def __init__(self, config: LocalModelConfig, logits_processors: list[Any] | None = None) -> None:
        self.config = config
        self.logits_processors = list(logits_processors or [])
        self.family: ModelFamily | None = None
        self.model: Any = None
        self.tokenizer: Any = None
        self.prompts: PromptBuilder | None = None
        self.engine: Engine | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_components(
        cls, config: LocalModelConfig, model: Any, tokenizer: Any, image_processor: Any,
        logits_processors: list[Any] | None = None,
    ) -> TransformersBackend:
        """A backend around an already built model (benchmarks with random weights, notebooks)."""
        backend = cls(config, logits_processors)
        backend._attach(model, tokenizer, image_processor)
        return backend

    @property
    def loaded(self) -> bool:
        return self.engine is not None

    def load(self) -> None:
        """Load tokenizer, image processor and weights now (generate() does it on first use)."""
        if self.loaded:
            return
        source = self.config.model
        if _looks_like_path(source) and not Path(source).expanduser().is_dir():
            raise ConfigError(f"model directory '{source}' does not exist (pass a directory or a hub id org/name)")
        torch, transformers = _import_runtime()
        source = str(Path(source).expanduser()) if _looks_like_path(source) else source
        options: dict[str, Any] = {"revision": self.config.revision} if self.config.revision else {}
        try:
            model_config = transformers.AutoConfig.from_pretrained(source, **options)
            family = family_for(model_config.model_type)
            tokenizer = transformers.AutoTokenizer.from_pretrained(source, **options)
            image_processor = transformers.AutoImageProcessor.from_pretrained(source, **options)
        except ConfigError:
            raise
        except (OSError, ValueError) as exc:
            raise _load_error(source, exc) from None
        on_cuda = torch.cuda.is_available() and not (self.config.device_map or "").startswith("cpu")
        placement, move_to = _placement(self.config.device_map, on_cuda)
        load_options: dict[str, Any] = {"dtype": _resolve_dtype(torch, self.config.dtype, on_cuda), **placement,
                                        **options}
        if self.config.attn_implementation:
            load_options["attn_implementation"] = self.config.attn_implementation
        started = time.perf_counter()
        try:
            model = getattr(transformers, family.class_name).from_pretrained(source, **load_options)
        except (OSError, ValueError) as exc:
            raise _load_error(source, exc) from None
        if move_to is not None:
            model = model.to(move_to)
        logger.info("loaded %s (%s) on %s in %.1f s", source, family.model_type, model.device,
                    time.perf_counter() - started)
        self._attach(model.train(False), tokenizer, image_processor)  # inference mode (torch's eval())

    def _attach(self, model: Any, tokenizer: Any, image_processor: Any) -> None:
        from .engine import Engine  # imports torch: only once a model exists

        self.family = family_for(model.config.model_type)
        on_cuda = model.device.type == "cuda"
        single_device = len(set(getattr(model, "hf_device_map", {"": 0}).values())) <= 1  # CUDA graphs: one GPU
        fast = self.config.fast_decode if self.config.fast_decode is not None else on_cuda
        compile_decode = self.config.compile if self.config.compile is not None else on_cuda and single_device
        self.model, self.tokenizer = model, tokenizer
        self.prompts = PromptBuilder(tokenizer, image_processor, model.config.image_token_id,
                                     self.config.image_size_override())
        self.engine = Engine(
            model, tokenizer, self.family, fast=fast, compile_decode=compile_decode,
            compile_mode=self.config.compile_mode, cache_bucket=self.config.cache_bucket,
        )
        logger.info("decoding: %s", "static cache" + (" + compiled" if fast and compile_decode else "")
                    if fast else "dynamic cache")

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        with self._lock:  # one model, one KV cache: concurrent callers (batch runs) take turns
            return self._generate(messages, params)

    def _generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        self.load()
        started = time.perf_counter()  # latency: preprocessing + generation, not the one-off load
        assert self.prompts is not None and self.engine is not None
        prompt = self.prompts.build(messages, params)
        try:
            result = self.engine.run(prompt, params, self.logits_processors)
        except RuntimeError as exc:  # torch.OutOfMemoryError is a RuntimeError
            if "out of memory" in str(exc).lower():
                raise BackendError(
                    f"out of memory with a {len(prompt.input_ids)}-token prompt: lower --max-tokens, set max_pixels "
                    "smaller, or use --local-device-map auto over more GPUs"
                ) from None
            raise BackendError(f"local generation failed: {exc}") from exc
        return Completion(
            text=self.decode(result.completion_ids, params.stop),
            usage=Usage(prompt_tokens=len(prompt.input_ids), completion_tokens=len(result.completion_ids)),
            latency_s=time.perf_counter() - started,
            finish_reason=result.finish_reason,
            thinking_cut="in_place" if result.forced_answer else None,
        )

    def decode(self, completion_ids: list[int], stop: list[str] | None = None) -> str:
        """Completion text with special tokens kept (box markers, think tags) but without the final end-of-turn
        token, cut at the first stop word (the model's and ``stop``)."""
        assert self.engine is not None and self.family is not None
        ids = list(completion_ids)
        while ids and ids[-1] in self.engine.stop_ids:
            ids.pop()
        text = self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        return cut_at_stop_string(text, (*self.family.stop_strings, *(stop or [])))[0]
