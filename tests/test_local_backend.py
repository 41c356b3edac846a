"""TransformersBackend on tiny random-weight GLM-4.1V / GLM-4.5V checkpoints saved to disk and loaded back (CPU)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from transformers import LogitsProcessor

from glmv_agent.errors import BackendError, ConfigError
from glmv_agent.geometry import smart_resize
from glmv_agent.local_backend import LocalModelConfig, TransformersBackend
from glmv_agent.profiles import get_profile
from glmv_agent.types import ChatMessage, GenerationParams, ImagePart, TextPart
from tests.tiny_models import checkpoint_fixture, scripted_logits

PARAMS = GenerationParams(temperature=0.0, max_tokens=120)


glm41v = checkpoint_fixture("glm41v", "glm4v")
glm45v = checkpoint_fixture("glm45v", "glm4v_moe")
glm46v = checkpoint_fixture("glm46v", "glm46v", seed=3)


def backend(path: Path, scripts: list[str] | None = None, after_forced: str = "", **options: object):
    created = TransformersBackend(LocalModelConfig(model=str(path), **options))
    if scripts is not None:
        created.load()
        created.logits_processors.append(scripted_logits(created.tokenizer, scripts, after_forced))
    return created


def screen(size: tuple[int, int] = (280, 560)) -> Image.Image:
    image = Image.new("RGB", size, (240, 240, 240))
    image.paste((200, 30, 30), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    return image


def ask(text: str = "Open the settings.", image: Image.Image | None = None) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=[ImagePart(image=image or screen()), TextPart(text=text)])]


class FreeThinking(LogitsProcessor):
    """Stateless: writes <think> first, then lets the model choose freely except the banned tokens."""

    def __init__(self, think_open: int, banned: list[int]) -> None:
        self.think_open, self.banned = think_open, banned

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if not bool((input_ids == self.think_open).any()):
            forced = torch.full_like(scores, float("-inf"))
            forced[:, self.think_open] = 0.0
            return forced
        scores = scores.clone()
        scores[:, self.banned] = float("-inf")
        return scores


def test_importing_the_backend_loads_neither_torch_nor_transformers() -> None:
    code = ("import glmv_agent.local_backend, sys; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, sorted(sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_model_loads_lazily_on_first_generate(glm41v: Path) -> None:
    local = backend(glm41v)
    assert not local.loaded
    completion = local.generate(ask(), PARAMS)
    assert local.loaded and completion.usage.completion_tokens > 0


def test_image_message_generates_with_box_markers_intact_and_stops_at_answer_end(glm41v: Path) -> None:
    script = ("<think>The OK button is in the middle.</think><answer>I click OK.\n"
              "<|begin_of_box|>left_click(start_box='[500,500]')<|end_of_box|>\nMemory:\n[]</answer>")
    local = backend(glm41v, [script])
    completion = local.generate(ask(), PARAMS)
    # what a server with skip_special_tokens=False and the </answer> stop word returns
    assert completion.text == script.removesuffix("</answer>")
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens == len(local.tokenizer.encode(script, add_special_tokens=False))
    assert completion.latency_s > 0
    decision = get_profile("glm-4.1v/desktop").parse(completion.text)
    assert decision.action.type == "left_click" and list(decision.action.start_box) == [500, 500]


def test_trailing_end_of_turn_token_is_stripped_and_counted(glm45v: Path) -> None:
    script = "<think>find it</think>Thought: search\nAction: Click [3]\nMemory_Updated: {}<|begin_of_box|>x<|end_of_box|>"
    local = backend(glm45v, [script])
    completion = local.generate(ask(), PARAMS)
    assert completion.text == script  # the <|user|> that ended the turn is not in the text
    assert completion.usage.completion_tokens == len(local.tokenizer.encode(script, add_special_tokens=False)) + 1
    assert completion.finish_reason == "stop"


def test_prompt_tokens_count_the_expanded_phone_screenshot(glm41v: Path) -> None:
    local = backend(glm41v)
    local.load()
    phone = ask("Tap the search field.", screen((1080, 2400)))
    prompt = local.prompts.build(phone, PARAMS)
    text_only = local.tokenizer.encode(prompt.text, add_special_tokens=False)
    assert len(prompt.input_ids) == len(text_only) - 1 + 3354  # 1080x2400 -> 1092x2408 -> 3354 tokens
    assert sum(prompt.mm_token_type_ids) == 3354
    assert tuple(prompt.image_grid_thw[0].tolist()) == (1, 172, 78)
    assert local.generate(phone, GenerationParams(max_tokens=3)).usage.prompt_tokens == len(prompt.input_ids)


def test_max_pixels_lowers_the_image_token_count(glm41v: Path) -> None:
    height, width = smart_resize(2400, 1080, max_pixels=28 * 28 * 2 * 300)
    counts = []
    for local in (backend(glm41v, max_pixels=28 * 28 * 2 * 300), backend(glm41v)):
        local.load()
        counts.append(sum(local.prompts.build(ask("x", screen((1080, 2400))), PARAMS).mm_token_type_ids))
    assert counts == [height * width // (28 * 28), 3354]
    assert counts[0] < 600


@pytest.mark.parametrize("model", ["glm41v", "glm45v"])
def test_thinking_budget_closes_thinking_and_forces_the_answer(model: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(model)
    forced = "</think><answer>" if model == "glm41v" else "</think>"
    answer = "<|begin_of_box|>DONE()<|end_of_box|>" + ("</answer>" if model == "glm41v" else "")
    local = backend(path, ["<think>" + "step " * 200], after_forced=answer)
    completion = local.generate(ask(), GenerationParams(max_tokens=200, thinking_budget=12))
    tokenizer = local.tokenizer
    thinking_ids = tokenizer.encode("<think>" + "step " * 200, add_special_tokens=False)[:13]
    assert completion.text == tokenizer.decode(thinking_ids) + forced + answer.removesuffix("</answer>")
    assert completion.finish_reason == "stop" and completion.thinking_cut == "in_place"
    encoded = len(tokenizer.encode(forced + answer, add_special_tokens=False))
    assert completion.usage.completion_tokens == 13 + encoded + (0 if model == "glm41v" else 1)


@pytest.mark.parametrize("fast", [False, True])
def test_the_cut_is_the_budget_itself_even_close_to_max_tokens(glm41v: Path, fast: bool) -> None:
    local = backend(glm41v, ["<think>" + "step " * 200], after_forced="DONE()</answer>", fast_decode=fast)
    completion = local.generate(ask(), GenerationParams(max_tokens=120, thinking_budget=100))
    thinking = completion.text.split("<think>")[1].split("</think>")[0]
    assert len(local.tokenizer.encode(thinking, add_special_tokens=False)) == 100  # not min(100, 120 - 30)
    assert completion.text.endswith("</think><answer>DONE()") and completion.finish_reason == "stop"


@pytest.mark.parametrize("fast", [False, True])
def test_max_tokens_inside_the_thinking_closes_it_and_the_answer_gets_its_own_tokens(glm41v: Path, fast: bool) -> None:
    local = backend(glm41v, ["<think>" + "step " * 200], after_forced="DONE()</answer>", fast_decode=fast)
    completion = local.generate(ask(), GenerationParams(max_tokens=80))  # budget 8192: max_tokens comes first
    thinking = completion.text.split("<think>")[1].split("</think>")[0]
    assert len(local.tokenizer.encode(thinking, add_special_tokens=False)) == 79  # 80 with <think>
    assert completion.text.endswith("</think><answer>DONE()") and completion.finish_reason == "stop"
    assert completion.usage.completion_tokens > 80 and completion.thinking_cut == "in_place"


def test_thinking_that_closes_in_time_is_left_alone(glm41v: Path) -> None:
    script = "<think>short</think><answer>DONE()</answer>"  # "short": 4 tokens
    cuts = [backend(glm41v, [script]).generate(ask(), PARAMS.model_copy(update={"thinking_budget": budget}))
            for budget in (5, 4)]
    assert [c.text for c in cuts] == ["<think>short</think><answer>DONE()"] * 2
    assert [c.thinking_cut for c in cuts] == [None, "in_place"]  # 4 thinking tokens reach a budget of 4


@pytest.mark.parametrize("fast", [False, True])
def test_answer_tag_is_forced_after_the_models_own_close_for_glm41v(
    glm41v: Path, glm45v: Path, fast: bool
) -> None:
    script = "<think>look</think>"  # then the script ends the turn: no <answer> of the model's own
    text41 = backend(glm41v, [script], fast_decode=fast).generate(ask(), PARAMS).text
    text45 = backend(glm45v, [script], fast_decode=fast).generate(ask(), PARAMS).text
    assert text41 == "<think>look</think><answer>" and text45 == "<think>look</think>"
    whole = "<think>look</think><answer>DONE()</answer>"  # a model that writes the tag itself is left as it is
    assert backend(glm41v, [whole], fast_decode=fast).generate(ask(), PARAMS).text == whole.removesuffix("</answer>")


@pytest.mark.parametrize("model", ["glm41v", "glm45v", "glm46v"])
def test_fast_and_plain_decoding_give_identical_greedy_tokens(model: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(model)
    runs = []
    for fast in (False, True):
        local = backend(path, fast_decode=fast)
        local.load()
        assert local.engine.fast is fast and not local.engine.compile_decode
        prompt = local.prompts.build(ask(), PARAMS)
        runs.append([local.engine.run(prompt, GenerationParams(max_tokens=n)).completion_ids for n in (40, 24)])
    assert runs[0] == runs[1]
    assert len(set(runs[0][0])) > 5  # the random model does not just repeat one token


@pytest.mark.parametrize("fast", [False, True])
def test_repetition_penalty_of_the_checkpoint_applies_on_both_paths(glm41v: Path, fast: bool) -> None:
    messages = ask("tap the search field", Image.new("RGB", (280, 560), (30, 60, 90)))  # greedy output repeats
    runs = []
    for penalty, path_is_fast in ((None, fast), (1.5, fast), (1.5, not fast)):
        local = backend(glm41v, fast_decode=path_is_fast)
        local.load()
        local.model.generation_config.repetition_penalty = penalty
        prompt = local.prompts.build(messages, PARAMS)
        runs.append(local.engine.run(prompt, GenerationParams(max_tokens=40)).completion_ids)
    assert runs[0] != runs[1] and runs[1] == runs[2]


@pytest.mark.parametrize("fast", [False, True])
def test_frequency_penalty_changes_greedy_output_alike_on_both_paths(glm41v: Path, fast: bool) -> None:
    messages = ask("tap the search field", Image.new("RGB", (280, 560), (30, 60, 90)))
    runs = []
    for penalty, path_is_fast in ((None, fast), (0.8, fast), (0.8, not fast)):
        local = backend(glm41v, fast_decode=path_is_fast)
        local.load()
        prompt = local.prompts.build(messages, PARAMS)
        params = GenerationParams(max_tokens=40, frequency_penalty=penalty)
        runs.append(local.engine.run(prompt, params).completion_ids)
    assert runs[0] != runs[1] and runs[1] == runs[2]


def test_frequency_penalty_counts_completion_tokens_only() -> None:
    from glmv_agent.local_backend.logits import FrequencyPenalty

    ids = torch.tensor([[5, 5, 7, 5, 7]])  # prompt [5, 5], completion [7, 5, 7]
    scores = FrequencyPenalty(0.5, prompt_length=2)(ids, torch.zeros(1, 10))
    assert scores[0, 7] == -1.0 and scores[0, 5] == -0.5 and scores[0, 3] == 0.0


@pytest.mark.parametrize("fast", [False, True])
def test_sampling_respects_logits_processors(glm41v: Path, fast: bool) -> None:
    script = "<think>a</think><answer><|begin_of_box|>DONE()<|end_of_box|></answer>"
    torch.manual_seed(1)
    completion = backend(glm41v, [script], fast_decode=fast).generate(
        ask(), GenerationParams(temperature=0.8, top_p=0.9, max_tokens=60))
    assert completion.text == script.removesuffix("</answer>")


def continuation_case(path: Path, fast: bool) -> tuple[TransformersBackend, list[int], list[int], int]:
    local = backend(path, fast_decode=fast)
    local.load()
    tokenizer = local.tokenizer
    think_open, think_close = tokenizer.convert_tokens_to_ids(["<think>", "</think>"])
    banned = sorted(local.engine.stop_ids | {think_close})
    local.logits_processors.append(FreeThinking(think_open, banned))
    prompt = local.prompts.build(ask(), PARAMS)
    result = local.engine.run(prompt, GenerationParams(max_tokens=30, thinking_budget=10), local.logits_processors)
    assert result.forced_answer and result.finish_reason == "length"
    split = 1 + 10 + len(local.engine.force_ids)  # <think>, the budget, </think><answer>
    assert result.completion_ids[11:split] == local.engine.force_ids
    return local, prompt.input_ids, result.completion_ids, split


@pytest.mark.parametrize("fast", [False, True])
def test_answer_after_a_forced_close_equals_a_fresh_run_on_the_same_text(glm41v: Path, fast: bool) -> None:
    local, prompt_ids, completion, split = continuation_case(glm41v, fast)
    prepared = local.prompts.build(ask(), PARAMS)
    inputs = local.engine._inputs(prepared)
    inputs["input_ids"] = torch.tensor([prompt_ids + completion[:split]])
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    inputs["mm_token_type_ids"] = (inputs["input_ids"] == local.model.config.image_token_id).int()
    fresh = local.model.generate(**inputs, do_sample=False, max_new_tokens=len(completion) - split,
                                 logits_processor=local.logits_processors, eos_token_id=None)
    assert fresh[0, inputs["input_ids"].shape[1]:].tolist() == completion[split:]


def test_compiled_decoding_on_cpu_matches_plain_decoding(glm41v: Path) -> None:
    from torch._dynamo.utils import counters

    plain = backend(glm41v, fast_decode=False)
    compiled = backend(glm41v, fast_decode=True, compile=True, compile_mode="default")
    graphs_before = counters["stats"]["unique_graphs"]
    outputs = []
    for local in (plain, compiled):
        local.load()
        prompt = local.prompts.build(ask(), PARAMS)
        outputs.append(local.engine.run(prompt, GenerationParams(max_tokens=24)).completion_ids)
    assert compiled.engine.compile_decode
    assert counters["stats"]["unique_graphs"] > graphs_before  # the decode step really went through torch.compile
    assert outputs[0] == outputs[1]


def test_user_stop_words_cut_the_text(glm41v: Path) -> None:
    script = "<think>x</think><answer>I click.\nMemory:\n[]</answer>"
    completion = backend(glm41v, [script]).generate(ask(), GenerationParams(max_tokens=40, stop=["Memory:"]))
    assert completion.text == "<think>x</think><answer>I click.\n" and completion.finish_reason == "stop"


def test_enable_thinking_switch_reaches_the_template(glm45v: Path) -> None:
    local = backend(glm45v)
    local.load()
    off = local.prompts.build(ask("go"), GenerationParams(thinking=False)).text
    on = local.prompts.build(ask("go"), GenerationParams(thinking=True)).text
    assert off.endswith("go/nothink<|assistant|>\n<think></think>\n") and on.endswith("go<|assistant|>\n")


def test_length_finish_reason_when_max_tokens_runs_out(glm41v: Path) -> None:
    completion = backend(glm41v, ["<think>" + "a b " * 50]).generate(
        ask(), GenerationParams(max_tokens=7, thinking_budget=None))
    assert completion.finish_reason == "length" and completion.usage.completion_tokens == 7


def test_literal_image_token_in_text_is_a_clear_error(glm41v: Path) -> None:
    with pytest.raises(BackendError, match="literal <\\|image\\|>"):
        backend(glm41v).generate(ask("see <|image|> here"), PARAMS)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        backend(tmp_path / "nowhere").generate(ask(), PARAMS)


def test_non_glm_checkpoint_is_refused(glm41v: Path, tmp_path: Path) -> None:
    other = shutil.copytree(glm41v, tmp_path / "other")
    config = json.loads((other / "config.json").read_text())
    config["model_type"] = "qwen2_vl"
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="model_type glm46v, glm4v, glm4v_moe.*'qwen2_vl'"):
        backend(other).load()


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="min_pixels"):
        LocalModelConfig(model="x/y", min_pixels=10_000, max_pixels=100)
    with pytest.raises(ValueError):
        LocalModelConfig(model="x/y", dtype="int3")
