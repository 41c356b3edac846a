"""The local backend sees what a vLLM server would see for the same messages, and its answers parse the same.

The endpoint side is real: OpenAIBackend sends the profile's messages over HTTP to a scripted OpenAI-compatible
server on 127.0.0.1; the recorded request is then templated the way vLLM does it (OpenAI parts become
``{"type": "image"}`` / ``{"type": "text"}`` dicts, ``tokenizer.apply_chat_template`` with the request's
``chat_template_kwargs``, each image placeholder expanded in the text by the image processor's grid, as
transformers' processors do) and compared token for token with the local backend's prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.geometry import smart_resize
from glmv_agent.local_backend import LocalModelConfig, TransformersBackend
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import GenerationParams, HistoryItem, Observation, Platform
from tests.support import FakeOpenAIServer, decode_data_url
from tests.tiny_models import checkpoint_fixture, scripted_logits

DESKTOP_41V = ("<think>The OK button is in the centre.</think><answer>I click OK.\n"
               "<|begin_of_box|>left_click(start_box='[500,500]')<|end_of_box|>\nMemory:\n[]</answer>")
DESKTOP_45V = ("<think>Saving first.</think>I press the shortcut.\n"
               "<|begin_of_box|>key(keys='ctrl+s')<|end_of_box|>\nMemory:\n[\"saved\"]")
WEB_45V = "<think>search box</think>Thought: type the query\nAction: Type [1]; [hello]\nMemory_Updated: {}"


glm41v = checkpoint_fixture("glm41v", "glm4v")
glm45v = checkpoint_fixture("glm45v", "glm4v_moe")


def screenshot(size: tuple[int, int], label: str) -> Image.Image:
    image = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill=(30, 90, 200))
    draw.text((10, 10), label, fill=(0, 0, 0))
    return image


def server_prompt_ids(body: dict[str, Any], local: TransformersBackend) -> list[int]:
    """The prompt token ids vLLM builds for a recorded chat request (see the module docstring)."""
    conversation = []
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, str):
            parts = [{"type": "text", "text": content}]
        else:
            parts = [{"type": "text", "text": p["text"]} if p["type"] == "text" else {"type": "image"} for p in content]
        conversation.append({"role": message["role"], "content": parts})
    text = local.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True,
                                               **body.get("chat_template_kwargs", {}))
    images = [decode_data_url(part["image_url"]["url"])[1] for message in body["messages"]
              if isinstance(message["content"], list) for part in message["content"] if part["type"] == "image_url"]
    grid = local.prompts.image_processor(images=images, return_tensors="pt")["image_grid_thw"]
    for row in grid:  # one placeholder at a time, like ProcessorMixin's image token replacement
        text = text.replace("<|image|>", "<|placeholder|>" * (int(row.prod()) // 4), 1)
    return local.tokenizer.encode(text.replace("<|placeholder|>", "<|image|>"), add_special_tokens=False)


def history(profile: Any, outputs: list[str], size: tuple[int, int]) -> list[HistoryItem]:
    return [HistoryItem(decision=profile.parse(text), raw=text, screenshot=screenshot(size, f"step {n}"))
            for n, text in enumerate(outputs)]


CASES = [
    # profile, model fixture, platform, screen size, earlier outputs, scripted answer, thinking switch
    ("glm-4.1v/desktop", "glm41v", Platform.DESKTOP, (1280, 800), [DESKTOP_41V] * 2, DESKTOP_41V, None),
    ("glm-4.5v/desktop", "glm45v", Platform.DESKTOP, (1920, 1080), [DESKTOP_45V] * 2, DESKTOP_45V, True),
    ("glm-4.5v/web", "glm45v", Platform.WEB, (1280, 800), [], WEB_45V, False),
]


@pytest.mark.parametrize(("key", "model", "platform", "size", "earlier", "answer", "thinking"), CASES)
def test_same_prompt_tokens_and_same_action_as_through_a_server(
    key: str, model: str, platform: Platform, size: tuple[int, int], earlier: list[str], answer: str,
    thinking: bool | None, request: pytest.FixtureRequest,
) -> None:
    profile = get_profile(key)
    observation = Observation(screenshot=screenshot(size, "now"), platform=platform)
    messages = profile.render("Save the file.", observation, history(profile, earlier, size), [])
    params = profile.generation_defaults().model_copy(update={"thinking": thinking, "max_tokens": 200})

    server_text = answer.removesuffix("</answer>")  # a server stops at the </answer> stop word
    with FakeOpenAIServer([server_text]) as server:
        endpoint = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm", max_retries=0))
        via_server = endpoint.generate(messages, params)
    body = server.chat_requests[0].body

    local = TransformersBackend(LocalModelConfig(model=str(request.getfixturevalue(model))))
    local.load()
    local.logits_processors.append(scripted_logits(local.tokenizer, [answer]))
    prompt = local.prompts.build(messages, params)
    assert prompt.input_ids == server_prompt_ids(body, local)
    expected = [smart_resize(i.height, i.width) for m in messages for i in m.images()]
    assert sum(prompt.mm_token_type_ids) == sum(h * w // (28 * 28) for h, w in expected) > 1000

    via_local = local.generate(messages, params)
    assert via_local.text == via_server.text
    assert profile.parse(via_local.full_text()) == profile.parse(via_server.full_text())
    assert via_local.usage.prompt_tokens == len(prompt.input_ids)


def test_local_and_replayed_answers_drive_the_same_episode(glm41v: Path, tmp_path: Path) -> None:
    steps = [DESKTOP_41V, "<think>Done.</think><answer>The file is open.\n<|begin_of_box|>DONE()<|end_of_box|>"
                          "\nMemory:\n[]</answer>"]
    local = TransformersBackend(LocalModelConfig(model=str(glm41v)))
    local.load()
    local.logits_processors.append(scripted_logits(local.tokenizer, steps))
    results = []
    for name, backend in (("local", local), ("replay", ReplayBackend([s.removesuffix("</answer>") for s in steps]))):
        env = FakeEnvironment(platform=Platform.DESKTOP, size=(1280, 800))
        agent = Agent(get_profile("glm-4.1v/desktop"), backend, env,
                      AgentConfig(max_steps=4, run_dir=tmp_path / name, write_report=False,
                                  params=GenerationParams(max_tokens=200)))
        results.append((agent.run("Open the file."), env.executed))
    (local_result, local_actions), (replay_result, replay_actions) = results
    assert local_result.status == replay_result.status == "complete"
    assert local_actions == replay_actions
    assert local_actions[0][:2] == ("left_click", [(640, 400)])
