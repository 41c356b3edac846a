"""What differs between the GLM-V checkpoints the local backend runs: model class, stop words, how a cut thinking
section is closed and which tag must follow ``</think>``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from glmv_agent.errors import ConfigError

# Special tokens that end a GLM turn (the checkpoints' generation_config lists them as eos ids as well).
STOP_TOKENS = ("<|endoftext|>", "<|user|>", "<|observation|>")
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
IMAGE_TOKEN = "<|image|>"


class ModelFamily(BaseModel):
    """Per-architecture generation facts."""

    model_config = ConfigDict(frozen=True)
    model_type: str
    class_name: str
    stop_strings: tuple[str, ...] = ()  # text stop words (cut from the returned text, as servers do)
    force_answer: str = THINK_CLOSE  # appended when the thinking is cut (budget or max_tokens)
    answer_tag: str | None = None  # forced right after a </think> the model wrote itself, when it is not there


FAMILIES = {
    # GLM-4.1V-9B-Thinking and AutoGLM-Phone-9B: <think>...</think><answer>...</answer>, stop at </answer>.
    "glm4v": ModelFamily(
        model_type="glm4v", class_name="Glm4vForConditionalGeneration", stop_strings=("</answer>",),
        force_answer="</think><answer>", answer_tag="<answer>",
    ),
    # GLM-4.5V: <think>...</think> then the answer without tags; thinking switch in the chat template.
    "glm4v_moe": ModelFamily(model_type="glm4v_moe", class_name="Glm4vMoeForConditionalGeneration"),
    # GLM-4.6V (and -Flash): GLM-4.5V conventions.
    "glm46v": ModelFamily(model_type="glm46v", class_name="Glm46VForConditionalGeneration"),
}


def family_for(model_type: str) -> ModelFamily:
    """The family of a checkpoint's ``config.model_type``; a clear error for anything else."""
    family = FAMILIES.get(model_type)
    if family is None:
        known = ", ".join(sorted(FAMILIES))
        raise ConfigError(
            f"the local backend runs GLM-V checkpoints (model_type {known}); this one is '{model_type}'. "
            "Serve other models behind an OpenAI-compatible endpoint and use --base-url instead."
        )
    return family


def cut_at_stop_string(text: str, stop_strings: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the first stop word (excluded, as servers return it) and whether one was found."""
    positions = [text.find(stop) for stop in stop_strings if stop and stop in text]
    if not positions:
        return text, False
    return text[: min(positions)], True
