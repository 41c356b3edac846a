"""Tiny random-weight GLM-V checkpoints for tests and the CPU smoke benchmark, built offline in well under a second.

The tokenizer is a small byte-level BPE trained on the spot, carrying GLM's special tokens (same names, same
roles: box markers special, ``<think>``/``</think>`` added but not special, as in the real tokenizers) and the
real GLM-4.1V chat template; GLM-4.5V-style checkpoints get a compact template with the same ``enable_thinking``
behaviour as GLM-4.5V's (``/nothink`` on the user turn, an empty ``<think></think>`` pre-filled).
The models follow the real architectures at toy sizes (2 text layers, hidden 64, vision depth 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Verbatim from zai-org/GLM-4.1V-9B-Thinking (chat_template.jinja).
GLM41V_CHAT_TEMPLATE = r"""[gMASK]<sop>
{%- for msg in messages %}
    {%- if msg.role == 'system' %}
<|system|>
{{ msg.content }}
    {%- elif msg.role == 'user' %}
<|user|>{{ '\n' }}

        {%- if msg.content is string %}
{{ msg.content }}
        {%- else %}
            {%- for item in msg.content %}
                {%- if item.type == 'video' or 'video' in item %}
<|begin_of_video|><|video|><|end_of_video|>
                {%- elif item.type == 'image' or 'image' in item %}
<|begin_of_image|><|image|><|end_of_image|>
                {%- elif item.type == 'text' %}
{{ item.text }}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
    {%- elif msg.role == 'assistant' %}
        {%- if msg.metadata %}
<|assistant|>{{ msg.metadata }}
{{ msg.content }}
        {%- else %}
<|assistant|>
{{ msg.content }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{% if add_generation_prompt %}<|assistant|>
{% endif %}"""

# GLM-4.5V conventions in a compact template (the real one also renders tools and reasoning history).
GLM45V_STYLE_CHAT_TEMPLATE = r"""[gMASK]<sop>
{%- macro text_of(content) -%}
{%- if content is string -%}{{ content }}{%- else -%}
{%- for item in content if item.type == 'text' -%}{{ item.text }}{%- endfor -%}
{%- endif -%}
{%- endmacro -%}
{%- for m in messages -%}
{%- if m.role == 'system' -%}<|system|>
{{ text_of(m.content) }}
{%- elif m.role == 'user' -%}<|user|>
{% if m.content is string -%}{{ m.content }}{%- else -%}
{%- for item in m.content -%}
{%- if item.type == 'image' -%}<|begin_of_image|><|image|><|end_of_image|>
{%- elif item.type == 'text' -%}{{ item.text }}{%- endif -%}
{%- endfor -%}
{%- endif -%}
{{- '/nothink' if (enable_thinking is defined and not enable_thinking) else '' -}}
{%- elif m.role == 'assistant' -%}<|assistant|>
{{ text_of(m.content) }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}<|assistant|>
{{ '<think></think>\n' if (enable_thinking is defined and not enable_thinking) else '' }}
{%- endif -%}"""

# GLM's special tokens in their real order (ids differ: the tiny vocabulary starts at 0).
SPECIAL_TOKENS = (
    "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>",
    "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
    "<|image|>", "<|video|>", "<|begin_of_box|>", "<|end_of_box|>",
)
THINK_TOKENS = ("<think>", "</think>")  # survive skip_special_tokens, as in the real tokenizers

_CORPUS = (
    "Memory: None\nReason: tap the search field\nAction: {\"action_type\": \"click\", \"box_2d\": [[100,200,300,400]]}",
    "I click OK.\nleft_click(start_box='[500,500]', element_info='OK button')\nMemory:\n[]",
    "type(content='hello world') key(keys='ctrl+c') scroll(start_box='[120,880]', direction='down', step=5) DONE()",
    "Thought: type the query\nAction: Type [1]; [hello]\nMemory_Updated: {} Click [12] Scroll [WINDOW]; [down]",
    "<answer>do(action=\"Tap\", element=[500,500])</answer> finish(message=\"done\") Launch(app=\"Settings\")",
    "You are a GUI agent. The task is: open the settings and turn on Wi-Fi. History of actions: step 1, step 2.",
    "The screenshot shows a phone home screen with icons 0123456789 {}[]()<>:;,.'\"/\\_-+=*&^%$#@!? 打开设置 中文",
)


def build_tokenizer(chat_template: str, vocab_size: int = 600) -> Any:
    """A byte-level BPE tokenizer with GLM's special tokens and the given chat template."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(list(_CORPUS) * 4, trainer=trainer)
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK_TOKENS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>", chat_template=chat_template,
    )


def _token_ids(tokenizer: Any) -> dict[str, int]:
    ids = {name: tokenizer.convert_tokens_to_ids(name) for name in ("<|image|>", "<|video|>")}
    for name in ("begin_of_image", "end_of_image", "begin_of_video", "end_of_video"):
        ids[name] = tokenizer.convert_tokens_to_ids(f"<|{name}|>")
    return {
        "image_token_id": ids["<|image|>"], "video_token_id": ids["<|video|>"],
        "image_start_token_id": ids["begin_of_image"], "image_end_token_id": ids["end_of_image"],
        "video_start_token_id": ids["begin_of_video"], "video_end_token_id": ids["end_of_video"],
    }


def _text_config(vocab_size: int, moe: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "vocab_size": vocab_size, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 16384,
        "initializer_range": 0.2,  # larger than real so greedy decoding of random weights does not just repeat
        # head_dim 16, half of it rotary: mrope_section sums to 16 * 0.5 / 2
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                            "mrope_section": [1, 1, 2]},
    }
    if moe:
        config.update(moe_intermediate_size=32, n_routed_experts=4, num_experts_per_tok=2, n_shared_experts=1,
                      first_k_dense_replace=1, head_dim=16)
    return config


VISION_CONFIG = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64}


def follow_script(model: Any, tokenizer: Any, script: str) -> None:
    """Rewrite the weights so that greedy decoding after the generation prompt writes ``script`` and then
    ``<|user|>``, whatever the prompt: the layers stop writing to the residual stream (each position only sees its
    own token's embedding) and the output head maps each token of the chain to the next one. Every token of the
    chain (``\\n`` + script) must have a single successor."""
    import torch

    chain = [*tokenizer.encode("\n", add_special_tokens=False), *tokenizer.encode(script, add_special_tokens=False),
             tokenizer.convert_tokens_to_ids("<|user|>")]
    if len(set(chain[:-1])) != len(chain) - 1:
        raise ValueError(f"a token repeats in {tokenizer.convert_ids_to_tokens(chain)}; pick a script without repeats")
    with torch.no_grad():
        for name, parameter in model.model.language_model.named_parameters():
            if name.endswith("o_proj.weight") or "down_proj" in name:
                parameter.zero_()
        embeddings = model.get_input_embeddings().weight
        head = model.lm_head.weight
        head.zero_()
        for current, following in zip(chain[:-1], chain[1:], strict=True):
            vector = embeddings[current]
            head[following] += vector / vector.pow(2).mean().sqrt()  # the final RMSNorm's view of the token


def build_model(path: Path, kind: str = "glm4v", seed: int = 0, script: str | None = None) -> Path:
    """Write a tiny checkpoint of ``kind`` (glm4v: GLM-4.1V layout; glm4v_moe: GLM-4.5V; glm46v: GLM-4.6V-Flash)
    to ``path``: weights, config, generation config, tokenizer, chat template and image processor config.
    With ``script``, greedy decoding writes it (see follow_script)."""
    import torch
    from transformers import GenerationConfig, Glm4vImageProcessorPil
    from transformers import models as hf_models

    template = GLM41V_CHAT_TEMPLATE if kind == "glm4v" else GLM45V_STYLE_CHAT_TEMPLATE
    tokenizer = build_tokenizer(template)
    config_cls, model_cls = {
        "glm4v": (hf_models.glm4v.Glm4vConfig, hf_models.glm4v.Glm4vForConditionalGeneration),
        "glm4v_moe": (hf_models.glm4v_moe.Glm4vMoeConfig, hf_models.glm4v_moe.Glm4vMoeForConditionalGeneration),
        "glm46v": (hf_models.glm46v.Glm46VConfig, hf_models.glm46v.Glm46VForConditionalGeneration),
    }[kind]
    config = config_cls(
        text_config=_text_config(len(tokenizer), moe=kind == "glm4v_moe"), vision_config=dict(VISION_CONFIG),
        **_token_ids(tokenizer),
    )
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    if script is not None:
        follow_script(model, tokenizer, script)
    stops = [tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|user|>", "<|observation|>")]
    model.generation_config = GenerationConfig(eos_token_id=stops, pad_token_id=stops[0])
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    Glm4vImageProcessorPil().save_pretrained(path)
    return path


def scripted_logits(tokenizer: Any, scripts: list[str], after_forced: str = "", end_token: str = "<|user|>") -> Any:
    """A logits processor that makes any model write ``scripts[i]`` as its i-th completion, token by token.

    When the tokens after the prompt stop following the script (the backend appended ``</think>`` itself), the
    model writes ``after_forced`` from there on. After the script it writes ``end_token``. A request is told
    apart from the continuation of the previous one by its input being no longer than the last one seen.
    """
    import torch
    from transformers import LogitsProcessor

    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731

    class ScriptedLogits(LogitsProcessor):
        def __init__(self) -> None:
            self.plans = [encode(script) for script in scripts]
            self.after = encode(after_forced)
            self.end = tokenizer.convert_tokens_to_ids(end_token)
            self.request = -1
            self.start = self.last_length = 0
            self.diverged_at: int | None = None

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            length = input_ids.shape[1]
            if self.request < 0 or length <= self.last_length:
                self.request, self.start, self.diverged_at = self.request + 1, length, None
            self.last_length = length
            plan = self.plans[min(self.request, len(self.plans) - 1)]
            generated = input_ids[0, self.start :].tolist()
            if self.diverged_at is None and generated != plan[: len(generated)]:
                self.diverged_at = length
            if self.diverged_at is not None:
                plan, done = self.after, length - self.diverged_at
            else:
                done = len(generated)
            token = plan[done] if done < len(plan) else self.end
            forced = torch.full_like(scores, float("-inf"))
            forced[:, token] = 0.0
            return forced

    return ScriptedLogits()


def checkpoint_fixture(name: str, kind: str, seed: int = 0) -> Any:
    """A session-scoped pytest fixture called ``name``: the folder of a tiny ``kind`` checkpoint built for it.

    pytest is imported here, not at the top, so the benchmarks can use this module without it.
    """
    import pytest

    @pytest.fixture(scope="session", name=name)
    def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return build_model(tmp_path_factory.mktemp(name), kind, seed=seed)

    return checkpoint
