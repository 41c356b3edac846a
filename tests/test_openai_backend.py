"""OpenAIBackend against a real HTTP server on 127.0.0.1 with the real openai client (no transport mocks)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import openai
import pytest
from PIL import Image, ImageDraw

from glmv_agent.agent import Agent, AgentConfig
from glmv_agent.backends.openai_async import AsyncOpenAIBackend
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.cli import build_parser, make_backend
from glmv_agent.errors import BackendError, BackendTimeout, ConfigError
from glmv_agent.imaging import prepare_image
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Backend, ChatMessage, GenerationParams, ImagePart, TextPart
from tests.support import FakeOpenAIServer, Reply, decode_data_url

PARAMS = GenerationParams(temperature=0.0, max_tokens=64)


def make(server: FakeOpenAIServer, **overrides: object) -> OpenAIBackend:
    settings: dict[str, object] = {
        "base_url": server.base_url, "model": "glm-test", "timeout_s": 5.0, "max_retries": 2,
    }
    settings.update(overrides)
    return OpenAIBackend(EndpointConfig(**settings))


def user(text: str = "hi") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=[TextPart(text=text)])]


def phone_screen() -> Image.Image:
    """1080x2400 with a red block whose centre is at (25%, 75%) of the screen."""
    image = Image.new("RGB", (1080, 2400), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((220, 1750, 320, 1850), fill=(255, 0, 0))
    return image


def test_satisfies_backend_protocol() -> None:
    assert isinstance(OpenAIBackend(EndpointConfig(model="m")), Backend)


def test_message_shape_parts_order_and_images_resized_to_the_grid() -> None:
    messages = [
        ChatMessage(role="system", content=[TextPart(text="You are a GUI agent.")]),
        ChatMessage(role="user", content=[TextPart(text="before"), ImagePart(image=phone_screen()),
                                          TextPart(text="after")]),
        ChatMessage(role="assistant", content=[TextPart(text="Action: tap")]),
        ChatMessage(role="user", content=[ImagePart(image=Image.new("RGB", (1920, 1080), "navy"))]),
    ]
    with FakeOpenAIServer(["done"]) as server:
        completion = make(server).generate(messages, PARAMS)
    assert completion.text == "done"
    body = server.chat_requests[0].body
    assert body["model"] == "glm-test"
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "You are a GUI agent."
    assert body["messages"][2]["content"] == "Action: tap"
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    assert parts[0]["text"] == "before" and parts[2]["text"] == "after"
    assert parts[1]["image_url"]["url"].startswith("data:image/webp;base64,")  # "auto" on a self-hosted server
    mimes_and_images = [decode_data_url(url) for url in server.chat_requests[0].image_urls()]
    assert [(mime, image.size) for mime, image in mimes_and_images] == [
        ("image/webp", (1092, 2408)), ("image/webp", (1932, 1092))]
    # the red block is still centred at (25%, 75%) after the resize
    phone = mimes_and_images[0][1].convert("RGB")
    red, green, blue = phone.getpixel((round(0.25 * 1092), round(0.75 * 2408)))
    assert red > 240 and green < 20 and blue < 20
    assert phone.getpixel((round(0.25 * 1092), round(0.70 * 2408))) == (255, 255, 255)


def test_generation_fields_and_skip_special_tokens_in_body() -> None:
    params = GenerationParams(temperature=0.7, top_p=0.9, max_tokens=321, stop=["<|user|>", "</answer>"])
    with FakeOpenAIServer(["ok"]) as server:
        make(server, extra_body={"repetition_penalty": 1.05}).generate(user(), params)
    body = server.chat_requests[0].body
    assert body["skip_special_tokens"] is False
    assert body["temperature"] == 0.7 and body["top_p"] == 0.9 and body["max_tokens"] == 321
    assert body["stop"] == ["<|user|>", "</answer>"]
    assert body["repetition_penalty"] == 1.05
    assert "stream" not in body or body["stream"] is False
    assert "chat_template_kwargs" not in body and "thinking" not in body  # thinking=None: server default


@pytest.mark.parametrize(
    ("dialect", "thinking", "expected"),
    [
        ("auto", True, {"chat_template_kwargs": {"enable_thinking": True}, "thinking": {"type": "enabled"}}),
        ("auto", False, {"chat_template_kwargs": {"enable_thinking": False}, "thinking": {"type": "disabled"}}),
        ("vllm", False, {"chat_template_kwargs": {"enable_thinking": False}}),
        ("zai", True, {"thinking": {"type": "enabled"}}),
        ("none", False, {}),
    ],
)
def test_thinking_switch_per_dialect(dialect: str, thinking: bool, expected: dict) -> None:
    with FakeOpenAIServer(["ok"]) as server:
        make(server, thinking_dialect=dialect).generate(user(), PARAMS.model_copy(update={"thinking": thinking}))
    body = server.chat_requests[0].body
    sent = {key: body[key] for key in ("chat_template_kwargs", "thinking") if key in body}
    assert sent == expected


def test_thinking_merges_with_configured_chat_template_kwargs() -> None:
    with FakeOpenAIServer(["ok"]) as server:
        backend = make(server, extra_body={"chat_template_kwargs": {"custom": 1}}, thinking_dialect="vllm")
        backend.generate(user(), PARAMS.model_copy(update={"thinking": False}))
    assert server.chat_requests[0].body["chat_template_kwargs"] == {"custom": 1, "enable_thinking": False}


@pytest.mark.parametrize(("fmt", "mime"), [("png", "image/png"), ("webp", "image/webp")])
def test_image_format_option(fmt: str, mime: str) -> None:
    screen = phone_screen()
    with FakeOpenAIServer(["ok"]) as server:
        make(server, image_format=fmt).generate([ChatMessage(role="user", content=[ImagePart(image=screen)])], PARAMS)
    sent_mime, image = decode_data_url(server.chat_requests[0].image_urls()[0])
    assert sent_mime == mime and image.size == (1092, 2408)
    if fmt == "png":  # lossless: exactly the grid-resized pixels
        assert image.convert("RGB").tobytes() == prepare_image(screen).tobytes()


def test_429_is_retried_after_the_servers_retry_after() -> None:
    # 2 s: four times the client's own first backoff (0.5 s at most), so only an honoured Retry-After waits this long
    with FakeOpenAIServer([Reply(status=429, retry_after=2.0), "ok"]) as server:
        backend = make(server)
        started = time.perf_counter()
        completion = backend.generate(user(), PARAMS)
        elapsed = time.perf_counter() - started
    assert completion.text == "ok"
    assert len(server.chat_requests) == 2
    assert 2.0 <= elapsed < 10


def test_retry_after_beyond_two_minutes_is_not_waited_for() -> None:
    """The openai client gives up at once on a Retry-After over 120 s (we used to cap the wait and retry)."""
    with FakeOpenAIServer([Reply(status=503, retry_after=3600), "never reached"]) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError) as caught:
            make(server).generate(user(), PARAMS)
    assert time.perf_counter() - started < 3
    assert len(server.chat_requests) == 1
    assert str(caught.value) == (f"chat completion failed after 1 attempt(s): {server.base_url}/chat/completions "
                                 "answered 503: scripted error (Retry-After: 3600)")


def test_retries_zero_from_the_cli_sends_exactly_one_request() -> None:
    with FakeOpenAIServer([Reply(status=500, retry_after=0.01), "never reached"]) as server:
        args = build_parser().parse_args(["run", "t", "--platform", "web", "--base-url", server.base_url,
                                          "--api-model", "glm", "--retries", "0"])
        with pytest.raises(BackendError, match=r"after 1 attempt\(s\)"):
            make_backend(args).generate(user(), PARAMS)
    assert len(server.chat_requests) == 1


def test_500_every_time_raises_backend_error_after_max_retries() -> None:
    replies = [Reply(status=500, error_message="CUDA out of memory", retry_after=0.01)] * 3 + ["never reached"]
    with FakeOpenAIServer(replies) as server:
        with pytest.raises(BackendError) as caught:
            make(server, max_retries=2).generate(user(), PARAMS)
    assert len(server.chat_requests) == 3
    assert not isinstance(caught.value, BackendTimeout)
    message = str(caught.value)
    assert f"{server.base_url}/chat/completions" in message
    assert "500" in message and "CUDA out of memory" in message and "3 attempt" in message
    assert "\n" not in message


def test_timeout_raises_backend_timeout() -> None:
    with FakeOpenAIServer([Reply(delay_s=60), Reply(delay_s=60)]) as server:  # the delays end when the server stops
        started = time.perf_counter()
        with pytest.raises(BackendTimeout) as caught:
            make(server, timeout_s=0.3, max_retries=1).generate(user(), PARAMS)
        elapsed = time.perf_counter() - started
    assert len(server.chat_requests) == 2
    assert elapsed < 30  # neither attempt waited for its 60 s answer
    assert server.base_url in str(caught.value) and "0.3s" in str(caught.value)


def test_timeout_then_answer_is_retried() -> None:
    # the retry's answer comes at once but must arrive within the same timeout: 2 s leaves room on a loaded machine
    with FakeOpenAIServer([Reply(delay_s=60), "late but fine"]) as server:
        assert make(server, timeout_s=2.0).generate(user(), PARAMS).text == "late but fine"
    assert len(server.chat_requests) == 2


def test_dropped_connection_is_retried() -> None:
    with FakeOpenAIServer([Reply(close=True), "ok"]) as server:
        assert make(server).generate(user(), PARAMS).text == "ok"
    assert len(server.chat_requests) == 2


def test_garbage_body_is_a_clear_error_without_retry() -> None:
    with FakeOpenAIServer([Reply(garbage="<html>502 Bad Gateway</html>"), "never reached"]) as server:
        with pytest.raises(BackendError, match=r"unreadable answer from http://127\.0\.0\.1:\d+/v1/chat/completions"):
            make(server).generate(user(), PARAMS)
    assert len(server.chat_requests) == 1


def test_401_is_not_retried_and_says_what_to_do() -> None:
    with FakeOpenAIServer(["never reached"], api_key="right-key") as server:
        with pytest.raises(BackendError) as caught:
            make(server, api_key="wrong-key").generate(user(), PARAMS)
    assert len(server.chat_requests) == 1
    assert str(caught.value) == (
        f"endpoint rejected the API key (401) at {server.base_url}/chat/completions: set GLMV_API_KEY")
    assert "wrong-key" not in str(caught.value)


@pytest.mark.parametrize(("status", "hint"), [(400, r"rejected the request \(400\)"), (404, "check GLMV_BASE_URL")])
def test_client_errors_are_not_retried(status: int, hint: str) -> None:
    replies = [Reply(status=status, error_message="maximum context length exceeded"), "never reached"]
    with FakeOpenAIServer(replies) as server:
        with pytest.raises(BackendError, match=hint) as caught:
            make(server).generate(user(), PARAMS)
    assert len(server.chat_requests) == 1
    assert "maximum context length exceeded" in str(caught.value)


def test_unreachable_endpoint_names_the_url() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend(EndpointConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1))
    with pytest.raises(BackendError, match=rf"2 attempt\(s\): cannot reach http://127\.0\.0\.1:{port}/v1"):
        backend.generate(user(), PARAMS)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_separated_reasoning_is_read_and_merged(field: str) -> None:
    answer = "<|begin_of_box|>left_click(start_box='[10,20]')<|end_of_box|>"
    with FakeOpenAIServer([{"content": answer, field: "The button is top left."}]) as server:
        completion = make(server).generate(user(), PARAMS)
    assert completion.text == answer
    assert completion.reasoning == "The button is top left."
    assert completion.full_text() == f"<think>The button is top left.</think>{answer}"


def test_usage_latency_and_finish_reason() -> None:
    reply = Reply(content="partial", usage={"prompt_tokens": 3354, "completion_tokens": 64}, finish_reason="length")
    with FakeOpenAIServer([reply], latency_s=0.1) as server:
        backend = make(server)
        started = time.perf_counter()
        completion = backend.generate(user(), PARAMS)
        elapsed = time.perf_counter() - started
    assert completion.usage.prompt_tokens == 3354 and completion.usage.completion_tokens == 64
    assert completion.finish_reason == "length"
    assert 0.1 <= completion.latency_s <= elapsed  # the server's delay, within the call's own wall time


def test_null_content_becomes_empty_text() -> None:
    with FakeOpenAIServer([{"content": None, "reasoning_content": "thinking only"}]) as server:
        completion = make(server).generate(user(), PARAMS)
    assert completion.text == "" and completion.reasoning == "thinking only"


def test_api_key_is_sent_but_never_logged_nor_shown(caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-test-0123456789abcdef"
    replies = ["ok", Reply(status=500, error_message=f"upstream said key {key} is slow", retry_after=0.01), "ok",
               Reply(status=401, error_message=f"key {key} revoked")]
    caplog.set_level(logging.DEBUG)
    with FakeOpenAIServer(replies) as server:
        backend = make(server, api_key=key)
        backend.generate(user(), PARAMS)
        backend.generate(user(), PARAMS)  # 500: the client logs its retry, then ok
        with pytest.raises(BackendError) as caught:
            backend.generate(user(), PARAMS)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {key}"
    assert any("retry" in r.getMessage() for r in caplog.records)  # the retry really was logged
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert key not in logged and key not in caplog.text
    assert key not in str(caught.value)
    assert key not in repr(backend.config) and key not in str(backend.config.model_dump())


def test_no_api_key_sends_the_vllm_placeholder() -> None:
    with FakeOpenAIServer(["ok"]) as server:
        make(server).generate(user(), PARAMS)
    assert server.chat_requests[0].headers["authorization"] == "Bearer EMPTY"


def test_model_is_discovered_from_the_server_when_unset() -> None:
    with FakeOpenAIServer(["a", "b"], models=("zai-org/GLM-4.5V", "other")) as server:
        backend = make(server, model="")
        backend.generate(user(), PARAMS)
        backend.generate(user(), PARAMS)
    assert [r.method for r in server.requests] == ["GET", "POST", "POST"]  # listed once
    assert [r.body["model"] for r in server.chat_requests] == ["zai-org/GLM-4.5V"] * 2


def test_injected_client_gets_the_configured_retries() -> None:
    with FakeOpenAIServer([Reply(status=500, retry_after=0.01)] * 5) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=5)
        backend = OpenAIBackend(EndpointConfig(model="m", max_retries=1), client=client)
        with pytest.raises(BackendError, match="2 attempt"):
            backend.generate(user(), PARAMS)
    assert len(server.chat_requests) == 2  # 1 + the configured 1 retry, not the client's 5


def test_streaming_assembles_content_reasoning_and_usage() -> None:
    reply = Reply(content="Action: tap", reasoning_content="look at the screen first",
                  usage={"prompt_tokens": 7, "completion_tokens": 9}, chunk_size=3)
    with FakeOpenAIServer([reply]) as server:
        completion = make(server, stream=True).generate(user(), PARAMS)
    assert server.chat_requests[0].body["stream"] is True
    assert completion.text == "Action: tap" and completion.reasoning == "look at the screen first"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 9)
    assert completion.finish_reason == "stop"


def test_stream_cut_short_is_retried() -> None:
    with FakeOpenAIServer([Reply(content="Action: tap here", cut_stream=True), "Action: tap"]) as server:
        completion = make(server, stream=True).generate(user(), PARAMS)
    assert completion.text == "Action: tap"
    assert len(server.chat_requests) == 2


def test_async_backend_retries_and_maps_errors_like_the_sync_one() -> None:
    async def ask(backend: AsyncOpenAIBackend) -> str:
        try:
            return (await backend.agenerate(user(), PARAMS)).text
        finally:
            await backend.aclose()

    with FakeOpenAIServer([Reply(status=429, retry_after=0.01), "ok"], models=("glm-async",)) as server:
        assert asyncio.run(ask(AsyncOpenAIBackend(EndpointConfig(base_url=server.base_url)))) == "ok"
    assert [r.method for r in server.requests] == ["GET", "POST", "POST"]
    assert server.chat_requests[1].body["model"] == "glm-async"
    with FakeOpenAIServer(["never reached"], api_key="right-key") as server:
        config = EndpointConfig(base_url=server.base_url, model="m", api_key="wrong-key")
        with pytest.raises(BackendError, match=r"^endpoint rejected the API key \(401\)"):
            asyncio.run(ask(AsyncOpenAIBackend(config)))
    assert len(server.chat_requests) == 1


def test_env_resolution_prefers_glmv_over_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GLMV_BASE_URL", "GLMV_API_KEY", "GLMV_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    monkeypatch.setenv("OPENAI_MODEL", "openai-model")
    fallback = EndpointConfig.from_env()
    assert (fallback.base_url, fallback.model) == ("https://api.openai.example/v1", "openai-model")
    assert fallback.api_key is not None and fallback.api_key.get_secret_value() == "openai-key"

    monkeypatch.setenv("GLMV_BASE_URL", "http://gpu-box:8000/v1/")
    monkeypatch.setenv("GLMV_API_KEY", "glmv-key")
    monkeypatch.setenv("GLMV_MODEL", "zai-org/GLM-4.5V")
    config = EndpointConfig.from_env()
    assert (config.base_url, config.model) == ("http://gpu-box:8000/v1", "zai-org/GLM-4.5V")
    assert config.api_key is not None and config.api_key.get_secret_value() == "glmv-key"

    flagged = EndpointConfig.from_env(model="flag-model", base_url=None, timeout_s=9)
    assert (flagged.model, flagged.base_url, flagged.timeout_s) == ("flag-model", "http://gpu-box:8000/v1", 9)


def test_bad_configuration_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLMV_BASE_URL", "gpu-box:8000/v1")
    with pytest.raises(ConfigError, match="base_url must start with http"):
        EndpointConfig.from_env()
    with pytest.raises(ConfigError, match="image_quality"):
        EndpointConfig.from_env(base_url="http://x/v1", image_quality=0)


def test_agent_episode_over_http(tmp_path: Path) -> None:
    """The loop, a GLM-4.5V mobile profile and this backend against the server: the click lands where asked."""
    steps = [
        'Memory: None\nReason: tap the field\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}',
        'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}',
    ]
    with FakeOpenAIServer(steps) as server:
        env = FakeEnvironment(size=(1080, 2400))
        agent = Agent(get_profile("glm-4.5v/mobile"), make(server), env,
                      AgentConfig(max_steps=5, run_dir=tmp_path / "run", write_report=False))
        result = agent.run("open the settings")
    assert result.status == "complete"
    assert env.executed[0][1] == [(216, 720)]
    first = server.chat_requests[0]
    assert [image.size for image in first.images()] == [(1092, 2408)]
    assert "open the settings" in str(first.body["messages"])


def test_auto_format_is_jpeg_for_the_hosted_glm_api_and_screens_encode_once() -> None:
    from glmv_agent.backends.messages import image_url
    from glmv_agent.imaging import resolve_format

    assert resolve_format("auto", "https://open.bigmodel.cn/api/paas/v4") == "jpeg"
    assert resolve_format("auto", "https://api.z.ai/api/paas/v4") == "jpeg"
    assert resolve_format("auto", "http://10.0.0.5:8000/v1") == "webp-smallest"
    assert resolve_format("png", "https://api.z.ai/v4") == "png"
    config = EndpointConfig(base_url="https://open.bigmodel.cn/api/paas/v4", model="glm-4.5v")
    screen = Image.new("RGB", (1080, 2400), "white")
    first = image_url(screen, config)
    assert first.startswith("data:image/jpeg;base64,")
    assert image_url(screen, config) is first  # history screenshots are not re-encoded every step
    assert image_url(Image.new("RGB", (1080, 2400), "white"), config) is not first
