"""Local backend speed: prefill of a phone screenshot and batch-1 decode tokens/s, plain generate() against the
fast path (static KV cache + decode step compiled with CUDA graphs), next to the memory-bandwidth ceiling.

The model is the full-size GLM-4.1V-9B architecture with random weights built directly on the GPU in bf16 (no
download); a random model decodes as fast as a trained one. Every path goes through TransformersBackend.generate,
chat template and image processor included.

    python benchmarks/bench_local.py                      # GPU, full size
    python benchmarks/bench_local.py --device cpu --tiny  # smoke run of the same code on a tiny model

Decode speed comes from the time between decoding steps (N+1 tokens generated, the steps after the first timed);
prefill is the latency of a 1-token request minus the CPU-side preparation (template + image processor), which is
shown on its own. The ceiling is
bandwidth / (bytes of decoder weights read per token + KV cache bytes at the mean context).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/tiny_models.py builds the tokenizer and the tiny checkpoint

import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from transformers import Glm4vConfig, Glm4vForConditionalGeneration, Glm4vImageProcessorPil, LogitsProcessor  # noqa: E402

from glmv_agent.local_backend import LocalModelConfig, TransformersBackend  # noqa: E402
from glmv_agent.types import ChatMessage, GenerationParams, ImagePart, TextPart  # noqa: E402
from tests.tiny_models import GLM41V_CHAT_TEMPLATE, build_model, build_tokenizer  # noqa: E402

# HBM bandwidth in TB/s by GPU name (first match wins).
BANDWIDTH_TBS = (("H200", 4.8), ("H100 NVL", 3.9), ("H100 PCIe", 2.0), ("H100", 3.35), ("GH200", 4.0),
                 ("A100-SXM4-80GB", 2.039), ("A100 80GB", 1.935), ("A100", 1.555), ("L40S", 0.864), ("A10G", 0.6),
                 ("L4", 0.3))
GOAL = 0.75  # fraction of the ceiling the fast path should reach


def gpu_bandwidth(name: str) -> float | None:
    """Bytes/s of a GPU's memory, from its name; None when unknown."""
    for key, tbs in BANDWIDTH_TBS:
        if key.lower() in name.lower():
            return tbs * 1e12
    return None


class StepClock(LogitsProcessor):
    """Notes the time of every decoding step. Each step ends in a device sync (the stop checks read the new
    token), so the gaps between steps after the first are the per-token decode times."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self.times.append(time.perf_counter())
        return scores


class BanTokens(LogitsProcessor):
    """Keeps random weights from ending the turn or opening a thinking section, so N tokens are always decoded."""

    def __init__(self, token_ids: list[int]) -> None:
        self.token_ids = torch.tensor(token_ids, dtype=torch.long)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.token_ids.device != scores.device:  # once: a host-to-device copy per step would sync the GPU
            self.token_ids = self.token_ids.to(scores.device)
        scores.index_fill_(1, self.token_ids, float("-inf"))
        return scores


def glm41v_9b_config(tokenizer: Any) -> Glm4vConfig:
    """GLM-4.1V-9B-Thinking's architecture (its config.json), special token ids from ``tokenizer``."""
    ids = {name: tokenizer.convert_tokens_to_ids(f"<|{name}|>") for name in (
        "image", "video", "begin_of_image", "end_of_image", "begin_of_video", "end_of_video")}
    return Glm4vConfig(
        text_config={
            "vocab_size": 151552, "hidden_size": 4096, "intermediate_size": 13696, "num_hidden_layers": 40,
            "num_attention_heads": 32, "num_key_value_heads": 2, "max_position_embeddings": 65536,
            "rms_norm_eps": 1e-5, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                                      "partial_rotary_factor": 0.5, "mrope_section": [8, 12, 12]},
        },
        vision_config={"depth": 24, "hidden_size": 1536, "intermediate_size": 13696, "num_heads": 12,
                       "out_hidden_size": 4096, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2},
        image_token_id=ids["image"], video_token_id=ids["video"], image_start_token_id=ids["begin_of_image"],
        image_end_token_id=ids["end_of_image"], video_start_token_id=ids["begin_of_video"],
        video_end_token_id=ids["end_of_video"],
    )


def random_full_model(device: str) -> tuple[Any, Any, Any]:
    """(model, tokenizer, image processor): random GLM-4.1V-9B weights created in bf16 on ``device``."""
    tokenizer = build_tokenizer(GLM41V_CHAT_TEMPLATE)
    config = glm41v_9b_config(tokenizer)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = Glm4vForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    stops = [tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|user|>", "<|observation|>")]
    model.generation_config.eos_token_id = stops
    model.generation_config.pad_token_id = stops[0]
    return model, tokenizer, Glm4vImageProcessorPil()


def backends(args: argparse.Namespace, workdir: Path) -> list[tuple[str, TransformersBackend]]:
    """The paths to compare, sharing one model."""
    on_gpu = args.device.startswith("cuda")
    paths = [("plain generate()", {"fast_decode": False})]
    if on_gpu:
        paths.append(("fast loop, not compiled", {"fast_decode": True, "compile": False}))
    label = "fast: CUDA graphs" if on_gpu else "fast loop, compiled" if args.compile else "fast loop"
    paths.append((label, {"fast_decode": True, "compile": True if args.compile else None}))
    if args.tiny:
        path = build_model(workdir / "tiny-glm41v", "glm4v")
        first = TransformersBackend(LocalModelConfig(model=str(path), device_map=args.device))
        first.load()
        model, tokenizer, processor = first.model, first.tokenizer, first.prompts.image_processor
    else:
        model, tokenizer, processor = random_full_model(args.device)
    banned = sorted({*model.generation_config.eos_token_id, *tokenizer.convert_tokens_to_ids(["<think>", "</think>"])})
    made = []
    for label, options in paths:
        config = LocalModelConfig(model="random GLM-4.1V-9B" if not args.tiny else "tiny GLM-4.1V",
                                  compile_mode=args.compile_mode, **options)
        processors = [BanTokens(banned), StepClock()]
        made.append((label, TransformersBackend.from_components(config, model, tokenizer, processor, processors)))
    return made


def phone_screenshot(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, (246, 246, 246))
    draw = ImageDraw.Draw(image)
    for row in range(0, size[1], 160):
        draw.rectangle((40, row + 20, size[0] - 40, row + 130), outline=(60, 60, 60), width=3)
        draw.text((60, row + 60), f"Settings item {row // 160}", fill=(0, 0, 0))
    return image


def measure(backend: TransformersBackend, messages: list[ChatMessage], tokens: int, repeats: int) -> dict[str, float]:
    """Median prepare / prefill seconds and decode tokens/s (after a warm-up run that compiles)."""
    assert backend.prompts is not None
    clock = backend.logits_processors[-1]
    params = GenerationParams(temperature=0.0, max_tokens=tokens + 1, thinking_budget=None)
    backend.generate(messages, params)  # warm-up: kernels, compiled graphs, the static cache at full size
    prepare, prefill, decode = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        backend.prompts.build(messages, params)
        prepare.append(time.perf_counter() - started)
        first = backend.generate(messages, GenerationParams(temperature=0.0, max_tokens=1, thinking_budget=None))
        prefill.append(first.latency_s - prepare[-1])
        clock.times.clear()
        completion = backend.generate(messages, params)
        if completion.usage.completion_tokens != tokens + 1:
            raise RuntimeError(f"decoded {completion.usage.completion_tokens} tokens instead of {tokens + 1}")
        steps = clock.times[1:]  # from the first decode step on
        decode.append((len(steps) - 1) / (steps[-1] - steps[0]))
    return {"prepare_s": statistics.median(prepare), "prefill_s": statistics.median(prefill),
            "decode_tps": statistics.median(decode), "prompt_tokens": first.usage.prompt_tokens}


def bytes_per_token(model: Any, context: int) -> tuple[float, float]:
    """(decoder weight bytes, KV cache bytes) read to decode one token at ``context`` tokens of context."""
    text = model.model.language_model
    weights = sum(p.numel() * p.element_size() for name, p in text.named_parameters() if "embed_tokens" not in name)
    weights += model.lm_head.weight.numel() * model.lm_head.weight.element_size()
    config = model.config.text_config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    kv = 2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * model.lm_head.weight.element_size()
    return float(weights), float(kv * context)


def report(args: argparse.Namespace, model: Any, rows: list[tuple[str, dict[str, float]]]) -> None:
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    bandwidth = args.bandwidth * 1e12 if args.bandwidth else gpu_bandwidth(device_name)
    prompt = int(rows[0][1]["prompt_tokens"])
    weights, kv = bytes_per_token(model, prompt + args.tokens // 2)
    ceiling = bandwidth / (weights + kv) if bandwidth else None
    print(f"{'tiny GLM-4.1V' if args.tiny else 'GLM-4.1V-9B architecture, random weights'}, {model.dtype} on "
          f"{device_name}" + (f" ({bandwidth / 1e12:.2f} TB/s)" if bandwidth else ""))
    print(f"prompt: {args.screen[0]}x{args.screen[1]} screenshot + text = {prompt} tokens; "
          f"decode {args.tokens} tokens at batch 1; median of {args.repeats}")
    ceiling_text = f"{ceiling:.1f} tok/s" if ceiling else "n/a (unknown bandwidth: pass --bandwidth TB/s)"
    print(f"read per token: weights {weights / 1e9:.2f} GB + KV {kv / 1e9:.3f} GB -> ceiling {ceiling_text}\n")
    print(f"{'path':<26}{'prepare ms':>12}{'prefill ms':>12}{'decode tok/s':>14}{'of ceiling':>12}")
    for label, row in rows:
        share = f"{row['decode_tps'] / ceiling:.1%}" if ceiling else "n/a"
        print(f"{label:<26}{row['prepare_s'] * 1e3:>12.1f}{row['prefill_s'] * 1e3:>12.1f}"
              f"{row['decode_tps']:>14.1f}{share:>12}")
    if ceiling:
        best = rows[-1][1]["decode_tps"] / ceiling
        print(f"\ngoal: fast path >= {GOAL:.0%} of the ceiling -> {'met' if best >= GOAL else 'NOT met'} ({best:.1%})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="tiny random model (CPU smoke test of this script)")
    parser.add_argument("--tokens", type=int, default=None, help="decode tokens per run (default 256; tiny 32)")
    parser.add_argument("--repeats", type=int, default=None, help="measured runs per path (default 3; tiny 1)")
    parser.add_argument("--screen", type=lambda s: tuple(int(v) for v in s.lower().split("x")), default=(1080, 2400),
                        help="screenshot size WxH")
    parser.add_argument("--bandwidth", type=float, help="memory bandwidth in TB/s (default: looked up from the GPU)")
    parser.add_argument("--compile", action="store_true", help="compile the decode step off-GPU too")
    parser.add_argument("--compile-mode", default="reduce-overhead")
    args = parser.parse_args(argv)
    args.tokens = args.tokens or (32 if args.tiny else 256)
    args.repeats = args.repeats or (1 if args.tiny else 3)
    if not args.tiny and not args.device.startswith("cuda"):
        parser.error("the full-size model needs a GPU (about 21 GB in bf16); use --device cpu --tiny for a smoke run")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    screen = phone_screenshot(args.screen)
    messages = [ChatMessage(role="user", content=[ImagePart(image=screen), TextPart(
        text="Task: open the Wi-Fi settings. Output the next action.")])]
    with tempfile.TemporaryDirectory() as workdir:
        made = backends(args, Path(workdir))
        rows = []
        for label, backend in made:
            print(f"measuring: {label} ...", file=sys.stderr, flush=True)
            rows.append((label, measure(backend, messages, args.tokens, args.repeats)))
        report(args, made[0][1].model, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
