"""Options of the local transformers backend (plain data: importing this module needs neither torch nor
transformers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DType = Literal["auto", "bfloat16", "float16", "float32"]


class LocalModelConfig(BaseModel):
    """How to load and run a GLM-V checkpoint in-process.

    ``model`` is a hub id (``zai-org/GLM-4.1V-9B-Thinking``) or a local directory; with ``HF_HUB_OFFLINE=1`` only
    local directories and already-cached hub ids work.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    revision: str | None = None
    dtype: DType = "auto"  # auto: bfloat16 on CUDA, float32 elsewhere
    device_map: str | None = None  # None: "cuda" when available, else "cpu"; "auto" spreads over several GPUs
    attn_implementation: str | None = None  # e.g. "sdpa", "flash_attention_2", "eager"; None: transformers' pick
    fast_decode: bool | None = None  # static KV cache (+ compiled decoding on CUDA); None: on when CUDA is available
    compile: bool | None = None  # compile the decode step; None: only on CUDA (CPU compiles cost more than they save)
    compile_mode: str = "reduce-overhead"  # torch.compile mode; reduce-overhead = CUDA graphs
    cache_bucket: int = Field(default=4096, ge=64)  # static cache lengths are rounded up to multiples of this
    min_pixels: int | None = Field(default=None, gt=0)  # image processor bounds (defaults: the checkpoint's)
    max_pixels: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_pixels(self) -> LocalModelConfig:
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) is larger than max_pixels ({self.max_pixels})")
        return self

    def image_size_override(self) -> dict[str, int]:
        """The ``size`` entries to pass to the image processor (only the bounds the user set)."""
        size: dict[str, int] = {}
        if self.min_pixels is not None:
            size["shortest_edge"] = self.min_pixels
        if self.max_pixels is not None:
            size["longest_edge"] = self.max_pixels
        return size
