"""Generation defaults per model and the thinking budget on endpoints, against the fake OpenAI server over HTTP
with the real openai client: what each request carries, and the two-request answer to a cut thinking (sync,
streamed and async backends)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_async import AsyncOpenAIBackend
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.backends.thinking import REASK
from glmv_agent.cli import build_parser, generation_params, main
from glmv_agent.errors import ConfigError
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import ChatMessage, Completion, GenerationParams, Platform, TextPart, Usage
from tests.support import FakeOpenAIServer, Reply

MODES = ["sync", "stream", "async"]
THINKING = "<think>" + "The gear icon is probably the settings. " * 40  # cut: no </think>
SENT = THINKING.rstrip()  # the cut thinking as sent back: trimmed, as GLM-4.5V's template renders it
DONE_41 = "I am done.\n<|begin_of_box|>DONE()<|end_of_box|>"
TYPE_45 = "I type the greeting.\n<|begin_of_box|>type(content='hello')<|end_of_box|>"
GLM41V = get_profile("glm-4.1v/desktop")
GLM45V = get_profile("glm-4.5v/desktop")


def user(text: str = "Close the dialog.") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=[TextPart(text=text)])]


def generate(server: FakeOpenAIServer, mode: str, params: GenerationParams, **config: object) -> Completion:
    settings: dict[str, object] = {"base_url": server.base_url, "model": "glm-test", "timeout_s": 5.0,
                                   "max_retries": 0, "stream": mode == "stream", **config}
    if mode != "async":
        with OpenAIBackend(EndpointConfig(**settings)) as backend:
            return backend.generate(user(), params)

    async def ask() -> Completion:
        backend = AsyncOpenAIBackend(EndpointConfig(**settings))
        try:
            return await backend.agenerate(user(), params)
        finally:
            await backend.aclose()

    return asyncio.run(ask())


def cut(content: str | None = THINKING, **fields: object) -> Reply:
    usage = {"prompt_tokens": 900, "completion_tokens": 8192}
    return Reply(content=content, finish_reason="length", usage=usage, **fields)  # type: ignore[arg-type]


def answer(content: str) -> Reply:
    return Reply(content=content, usage={"prompt_tokens": 9100, "completion_tokens": 20})


# -- generation defaults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "platform", "reply", "expected"),
    [
        ("glm-4.1v", "desktop", "<think>x</think><answer><|begin_of_box|>DONE()<|end_of_box|>",
         {"max_tokens": 8192, "temperature": 0.0}),
        ("glm-4.5v", "desktop", "<think>x</think><|begin_of_box|>DONE()<|end_of_box|>",
         {"max_tokens": 8192, "temperature": 0.0}),
        ("autoglm-phone", "mobile", '<think>x</think><answer>finish(message="done")',
         {"max_tokens": 3000, "temperature": 0.0, "top_p": 0.85, "frequency_penalty": 0.2}),
    ],
)
def test_run_sends_each_models_generation_defaults(
    model: str, platform: str, reply: str, expected: dict[str, float], tmp_path: Path
) -> None:
    with FakeOpenAIServer([reply]) as server:
        code = main(["run", "Close the dialog.", "--platform", platform, "--model", model, "--fake-screen",
                     "--base-url", server.base_url, "--api-model", "glm-test", "--retries", "0", "--max-steps", "1",
                     "--out", str(tmp_path / "run"), "--no-report"])
    assert code == 0
    body = server.chat_requests[0].body
    sent = {key: body[key] for key in ("max_tokens", "temperature", "top_p", "frequency_penalty") if key in body}
    assert sent == expected


def test_generation_flags_override_only_what_they_name() -> None:
    defaults = get_profile("autoglm-phone/mobile").generation_defaults()
    base = ["run", "t", "--platform", "mobile", "--model", "autoglm-phone"]
    untouched = generation_params(build_parser().parse_args(base), defaults)
    assert untouched == defaults  # --temperature unset: the profile's 0.0, top_p 0.85, frequency_penalty 0.2
    flags = ["--temperature", "0.6", "--top-p", "0.9", "--max-tokens", "5000", "--thinking-budget", "0"]
    given = generation_params(build_parser().parse_args(base + flags), defaults)
    assert (given.temperature, given.top_p, given.frequency_penalty, given.max_tokens, given.thinking_budget) == (
        0.6, 0.9, 0.2, 5000, 0)
    with pytest.raises(ConfigError, match=r"^invalid generation flags: --top-p: Input should be less than or equal"):
        generation_params(build_parser().parse_args(base + ["--top-p", "1.5"]), defaults)


def test_a_bad_generation_flag_fails_before_the_backend_is_made(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "x", "--platform", "desktop", "--fake-screen", "--local", str(tmp_path / "absent"),
                 "--thinking-budget", "-5", "--out", str(tmp_path / "run"), "--no-report"])
    error = capsys.readouterr().err
    assert code == 2 and "--thinking-budget: Input should be greater than or equal to 0" in error
    assert "does not exist" not in error


# -- the thinking budget -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cut_thinking_is_closed_and_continued_in_a_second_request(mode: str) -> None:
    with FakeOpenAIServer([cut(), answer(DONE_41)]) as server:
        completion = generate(server, mode, GLM41V.generation_defaults())
    first, second = server.chat_requests
    assert first.body["max_tokens"] == 8192 and "continue_final_message" not in first.body
    assert second.body["messages"][:-1] == first.body["messages"]
    assert second.body["messages"][-1] == {"role": "assistant", "content": SENT + "</think><answer>"}
    assert second.body["continue_final_message"] is True and second.body["add_generation_prompt"] is False
    assert second.body["max_tokens"] == 1024  # nothing left of max_tokens: the answer's own 1024
    assert second.body["skip_special_tokens"] is False and second.body["temperature"] == 0.0
    assert completion.text == SENT + "</think><answer>" + DONE_41
    assert completion.usage == Usage(prompt_tokens=10000, completion_tokens=8212, requests=2)
    assert completion.thinking_cut == "continued" and completion.finish_reason == "stop"
    assert GLM41V.parse(completion.full_text()).action.wire() == {"type": "DONE"}


@pytest.mark.parametrize("mode", MODES)
def test_separated_reasoning_cut_on_length_is_closed_with_think_alone_for_glm45v(mode: str) -> None:
    reasoning = "I should type the greeting into the field. " * 30
    with FakeOpenAIServer([cut(None, reasoning_content=reasoning), answer(TYPE_45)]) as server:
        completion = generate(server, mode, GLM45V.generation_defaults())
    second = server.chat_requests[1]
    assert second.body["messages"][-1] == {"role": "assistant", "content": f"<think>{reasoning.strip()}</think>"}
    assert completion.text == f"<think>{reasoning.strip()}</think>{TYPE_45}"
    assert GLM45V.parse(completion.full_text()).action.wire() == {"type": "type", "content": "hello"}


@pytest.mark.parametrize("mode", MODES)
def test_a_server_refusing_the_continue_request_is_reasked(mode: str) -> None:
    refusal = Reply(status=400, error_message="continue_final_message is not supported")
    reply = answer("<think>Answering now.</think><answer>" + DONE_41)
    with FakeOpenAIServer([cut(), refusal, reply]) as server:
        completion = generate(server, mode, GLM41V.generation_defaults())
    first, refused, reask = server.chat_requests
    assert refused.body["continue_final_message"] is True
    assert reask.body["messages"] == [*first.body["messages"], {"role": "assistant", "content": SENT + "</think>"},
                                      {"role": "user", "content": REASK}]
    assert "continue_final_message" not in reask.body
    assert reask.body["chat_template_kwargs"] == {"enable_thinking": False}  # answer now: thinking off
    assert reask.body["thinking"] == {"type": "disabled"} and reask.body["max_tokens"] == 1024
    assert completion.text == SENT + "\n\nAnswering now.</think><answer>" + DONE_41
    assert completion.thinking_cut == "reasked" and completion.usage.requests == 3
    assert GLM41V.parse(completion.full_text()).action.wire() == {"type": "DONE"}


@pytest.mark.parametrize("mode", MODES)
def test_without_continue_support_the_answer_is_reasked_at_once(mode: str) -> None:
    with FakeOpenAIServer([cut(), answer(TYPE_45)]) as server:
        completion = generate(server, mode, GLM45V.generation_defaults(), continue_final_message=False)
    first, reask = server.chat_requests
    assert reask.body["messages"][-2:] == [{"role": "assistant", "content": SENT + "</think>"},
                                           {"role": "user", "content": REASK}]
    assert completion.text == SENT + "</think>" + TYPE_45 and completion.usage.requests == 2
    assert GLM45V.parse(completion.full_text()).action.wire() == {"type": "type", "content": "hello"}


def test_the_hosted_glm_api_is_reasked_and_self_hosted_servers_continue() -> None:
    assert not EndpointConfig(base_url="https://open.bigmodel.cn/api/paas/v4").prefill
    assert not EndpointConfig(base_url="https://api.z.ai/api/paas/v4").prefill
    assert EndpointConfig(base_url="http://gpu-box:8000/v1").prefill
    assert EndpointConfig(base_url="https://api.z.ai/api/paas/v4", continue_final_message=True).prefill


@pytest.mark.parametrize("mode", MODES)
def test_a_budget_below_max_tokens_caps_the_first_request_and_a_cut_answer_is_continued(mode: str) -> None:
    params = GenerationParams(max_tokens=4096, thinking_budget=1000)
    head = "<think>short</think>I type the greeting.\n<|begin_of_box|>type(content='hel"
    replies = [Reply(content=head, finish_reason="length", usage={"prompt_tokens": 10, "completion_tokens": 1000}),
               "lo')<|end_of_box|>"]
    with FakeOpenAIServer(replies) as server:
        completion = generate(server, mode, params)
    first, second = server.chat_requests
    assert first.body["max_tokens"] == 1000
    assert second.body["messages"][-1] == {"role": "assistant", "content": head}  # thinking had closed: no tag
    assert second.body["max_tokens"] == 3096  # what the first request left of max_tokens
    assert completion.text == head + "lo')<|end_of_box|>"
    assert GLM45V.parse(completion.full_text()).action.wire() == {"type": "type", "content": "hello"}


@pytest.mark.parametrize(
    ("reply", "update", "config"),
    [
        (answer(THINKING + "</think><answer>" + DONE_41), {}, {}),  # finished in time
        (cut("<think>x</think><answer>I am"), {}, {}),  # max_tokens itself cut the answer: reported as it is
        (cut(), {"thinking_budget": None}, {}),  # budget off
        (cut(), {"thinking_budget": 0}, {}),  # budget off
        (cut("no tags, cut"), {}, {}),  # no thinking to close
        (cut("<think>x</think>I", ), {"thinking_budget": 100}, {"continue_final_message": False}),  # cannot continue
    ],
)
def test_one_request_when_there_is_no_cut_thinking_to_answer(
    reply: Reply, update: dict[str, object], config: dict[str, object]
) -> None:
    params = GLM41V.generation_defaults().model_copy(update=update)
    with FakeOpenAIServer([reply, "never reached"]) as server:
        completion = generate(server, "sync", params, **config)
    assert len(server.chat_requests) == 1
    assert server.chat_requests[0].body["max_tokens"] == min(8192, params.thinking_budget or 8192)
    assert completion.text == reply.content and completion.usage.requests == 1 and completion.thinking_cut is None


def test_the_step_record_keeps_the_whole_reply_and_both_requests(tmp_path: Path) -> None:
    with FakeOpenAIServer([cut(), answer(DONE_41)]) as server:
        backend = OpenAIBackend(EndpointConfig(base_url=server.base_url, model="glm-test", max_retries=0))
        environment = FakeEnvironment(platform=Platform.DESKTOP, size=(1280, 800))
        config = AgentConfig(max_steps=2, run_dir=tmp_path / "run", write_report=False)
        result = Agent(GLM41V, backend, environment, config).run("Close the dialog.")
    assert result.status == "complete" and len(server.chat_requests) == 2
    step = json.loads((tmp_path / "run" / "steps.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert step["raw_text"] == SENT + "</think><answer>" + DONE_41
    assert step["usage"] == {"prompt_tokens": 10000, "completion_tokens": 8212, "requests": 2}
    assert step["thinking_cut"] == "continued"
