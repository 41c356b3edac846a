"""``glmv-agent run --local MODEL``: flags of the local transformers backend and the factory the CLI calls."""

from __future__ import annotations

import argparse
import logging

from pydantic import ValidationError

from glmv_agent.errors import ConfigError

from .backend import TransformersBackend
from .config import LocalModelConfig

logger = logging.getLogger(__name__)

# Which model_type each --model (prompt profile family) expects.
PROFILE_MODEL_TYPES = {"glm-4.1v": {"glm4v"}, "autoglm-phone": {"glm4v"}, "glm-4.5v": {"glm4v_moe", "glm46v"}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("local model (transformers, in this process; needs glmv-agent[local])")
    group.add_argument("--local", metavar="MODEL",
                       help="run this hub id or local directory in-process instead of calling an endpoint, "
                            "e.g. zai-org/GLM-4.1V-9B-Thinking (HF_HUB_OFFLINE=1 works with a local directory)")
    group.add_argument("--local-dtype", choices=("auto", "bfloat16", "float16", "float32"), default="auto",
                       help="weights dtype (auto: bfloat16 on GPU, float32 on CPU)")
    group.add_argument("--local-device-map", metavar="MAP",
                       help="cuda, cuda:1, cpu, or auto to spread over all GPUs; none: cuda when available")
    group.add_argument("--local-attn", metavar="IMPL", help="attention implementation: sdpa, flash_attention_2, eager")
    group.add_argument("--no-fast-decode", action="store_true",
                       help="plain generate() instead of the static-cache, CUDA-graph decoding")


def config_from_args(args: argparse.Namespace) -> LocalModelConfig:
    try:
        return LocalModelConfig(
            model=args.local,
            dtype=args.local_dtype,
            device_map=args.local_device_map,
            attn_implementation=args.local_attn,
            fast_decode=False if args.no_fast_decode else None,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid local model options: {problems}") from None


def create_backend(args: argparse.Namespace) -> TransformersBackend:
    """The backend for ``--local``, loaded now so that a wrong path or model fails before any device is touched."""
    backend = TransformersBackend(config_from_args(args))
    backend.load()
    family = getattr(args, "model", None)
    expected = PROFILE_MODEL_TYPES.get(family or "")
    if expected and backend.family is not None and backend.family.model_type not in expected:
        logger.warning("--model %s prompts a %s checkpoint but %s is %s; pass the matching --model", family,
                       "/".join(sorted(expected)), args.local, backend.family.model_type)
    return backend
