"""Backend for OpenAI-compatible endpoints: vLLM, SGLang and the hosted GLM API.

Screenshots are resized to GLM-V's grid and sent as data URLs; ``skip_special_tokens`` is turned off so the
``<|begin_of_box|>`` markers around actions survive; separated reasoning (``reasoning_content``) is read back.
Retries (exponential backoff with jitter, honouring ``Retry-After``) happen here only on 429, 5xx, connection
errors and timeouts; the openai client's own retries are disabled.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import openai
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ..errors import BackendError, BackendTimeout, ConfigError
from ..geometry import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
from ..imaging import FormatChoice, encode_data_url, memo, prepare_image, resolve_format
from ..types import ChatMessage, Completion, GenerationParams, TextPart, Usage

logger = logging.getLogger(__name__)

ThinkingDialect = Literal["auto", "vllm", "zai", "none"]
NO_KEY = "EMPTY"  # what vLLM/SGLang expect when they run without --api-key
_ENV = {"base_url": ("GLMV_BASE_URL", "OPENAI_BASE_URL"), "api_key": ("GLMV_API_KEY", "OPENAI_API_KEY"),
        "model": ("GLMV_MODEL", "OPENAI_MODEL")}
_RETRY_STATUS = frozenset({408, 429})
_T = TypeVar("_T")


class EndpointConfig(BaseModel):
    """Where and how to reach the model server."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: SecretStr | None = None
    model: str = ""  # empty: the first model the server lists at /models
    timeout_s: float = Field(180.0, gt=0)
    max_retries: int = Field(3, ge=0)
    backoff_base_s: float = Field(1.0, ge=0)  # first retry waits about this long, doubling after
    backoff_max_s: float = Field(30.0, ge=0)
    retry_after_max_s: float = Field(60.0, ge=0)  # cap on a server's Retry-After
    image_format: FormatChoice = "auto"  # auto: WebP, or JPEG for the hosted GLM API
    image_quality: int = Field(90, ge=1, le=100)
    min_pixels: int = Field(DEFAULT_MIN_PIXELS, gt=0)
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0)
    thinking_dialect: ThinkingDialect = "auto"  # how GenerationParams.thinking is sent: both switches, or one
    extra_body: dict[str, Any] = Field(default_factory=dict)
    stream: bool = False

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
        return value

    @classmethod
    def from_env(cls, **overrides: Any) -> EndpointConfig:
        """Config from GLMV_BASE_URL / GLMV_API_KEY / GLMV_MODEL (else the OPENAI_* ones), then ``overrides``."""
        values: dict[str, Any] = {}
        for name, variables in _ENV.items():
            found = next((os.environ[v] for v in variables if os.environ.get(v)), None)
            if found is not None:
                values[name] = found
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid endpoint configuration: {problems}") from None

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"


def to_openai_messages(messages: list[ChatMessage], config: EndpointConfig) -> list[dict[str, Any]]:
    """ChatMessages as OpenAI messages: parts in order, images resized to the grid and sent as data URLs.

    Text-only system and assistant turns go as plain strings (every OpenAI-compatible server takes those);
    user turns always as a list of parts.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role != "user" and all(isinstance(p, TextPart) for p in message.content):
            out.append({"role": message.role, "content": message.text()})
            continue
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                url = image_url(part.image, config)
                parts.append({"type": "image_url", "image_url": {"url": url}})
        out.append({"role": message.role, "content": parts})
    return out


def image_url(image: Any, config: EndpointConfig) -> str:
    """The data URL for one screenshot (grid resize + encode), computed once per image object."""
    fmt = resolve_format(config.image_format, config.base_url)
    key = ("url", fmt, config.image_quality, config.min_pixels, config.max_pixels)

    def encode(img: Any) -> str:
        prepared = prepare_image(img, min_pixels=config.min_pixels, max_pixels=config.max_pixels)
        return encode_data_url(prepared, fmt, config.image_quality)

    return memo(image, key, encode)


def thinking_body(thinking: bool | None, dialect: ThinkingDialect) -> dict[str, Any]:
    """Request fields switching thinking on/off: vLLM/SGLang chat_template_kwargs and/or the hosted API's."""
    if thinking is None or dialect == "none":
        return {}
    body: dict[str, Any] = {}
    if dialect in ("auto", "vllm"):
        body["chat_template_kwargs"] = {"enable_thinking": thinking}
    if dialect in ("auto", "zai"):
        body["thinking"] = {"type": "enabled" if thinking else "disabled"}
    return body


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``; dict values merge one level deep (chat_template_kwargs from two sources)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


class _Attempt(Exception):
    """One failed attempt, classified: retryable or not, a one-line cause, the server's Retry-After."""

    def __init__(self, cause: str, *, retryable: bool, timeout: bool = False, retry_after: float | None = None):
        super().__init__(cause)
        self.cause = cause
        self.retryable = retryable
        self.timeout = timeout
        self.retry_after = retry_after


class OpenAIBackend:
    """Backend protocol implementation over the openai client (``client`` may be injected, e.g. a proxy setup)."""

    def __init__(self, config: EndpointConfig | None = None, client: openai.OpenAI | None = None) -> None:
        self.config = config or EndpointConfig()
        key = self.config.api_key.get_secret_value() if self.config.api_key else NO_KEY
        self._secret = key if key != NO_KEY else None
        if client is None:
            client = openai.OpenAI(
                base_url=self.config.base_url, api_key=key, timeout=self.config.timeout_s, max_retries=0
            )
            self._owns_client = True
        else:
            client = client.with_options(max_retries=0, timeout=self.config.timeout_s)
            self._owns_client = False
        self.client = client
        self.url = str(client.base_url).rstrip("/")
        self._model = self.config.model
        self._model_lock = threading.Lock()
        self._random = random.Random()

    # -- public API ---------------------------------------------------------------------------------------------

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        request = self.build_request(messages, params)
        images = sum(len(m.images()) for m in messages)
        logger.debug("chat request to %s/chat/completions: model=%s, %d messages, %d images",
                     self.url, request["model"], len(messages), images)
        return self._with_retries("chat completion", lambda: self._complete(request))

    def build_request(self, messages: list[ChatMessage], params: GenerationParams) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for these messages and parameters."""
        extra = _merge({"skip_special_tokens": False}, self.config.extra_body)
        extra = _merge(extra, thinking_body(params.thinking, self.config.thinking_dialect))
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages, self.config),
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "extra_body": extra,
            "timeout": self.config.timeout_s,
        }
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.stop:
            request["stop"] = list(params.stop)
        return request

    @property
    def model(self) -> str:
        """The configured model, or the first one the server lists (asked once)."""
        with self._model_lock:
            if not self._model:
                self._model = self._with_retries("model list", self._first_model)
                logger.info("using model %s served at %s", self._model, self.url)
            return self._model

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one attempt --------------------------------------------------------------------------------------------

    def _complete(self, request: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        try:
            if self.config.stream:
                completion = self._read_stream(request)
            else:
                completion = self._read_response(self.client.chat.completions.create(**request))
        except openai.APIError as exc:
            raise self._classify(exc, "/chat/completions") from exc
        except ValueError as exc:  # a 200 whose body is not JSON / not a completion (json or pydantic error)
            raise _Attempt(f"unreadable answer from {self.url}/chat/completions (is this an OpenAI-compatible "
                           f"endpoint?): {_clip(str(exc), 160)}", retryable=False) from exc
        completion.latency_s = time.perf_counter() - started
        logger.debug("completion in %.2fs: %d+%d tokens, finish=%s", completion.latency_s,
                     completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.finish_reason)
        return completion

    def _read_response(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None)
        if not choices:
            raise _Attempt(f"the endpoint answered without a completion: {_clip(repr(response))}", retryable=False)
        choice = choices[0]
        message = choice.message
        usage = getattr(response, "usage", None)
        return Completion(
            text=message.content or "",
            reasoning=_reasoning(message),
            usage=Usage(prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                        completion_tokens=getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=choice.finish_reason,
        )

    def _read_stream(self, request: dict[str, Any]) -> Completion:
        text: list[str] = []
        reasoning: list[str] = []
        usage = Usage()
        finish: str | None = None
        stream = self.client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True})
        try:
            for chunk in stream:
                if getattr(chunk, "usage", None):
                    usage = Usage(prompt_tokens=chunk.usage.prompt_tokens or 0,
                                  completion_tokens=chunk.usage.completion_tokens or 0)
                for choice in chunk.choices or []:
                    text.append(choice.delta.content or "")
                    reasoning.append(_reasoning(choice.delta) or "")
                    finish = choice.finish_reason or finish
        except openai.APIError:
            raise
        except Exception as exc:  # the HTTP stack's read errors surface raw while iterating a stream
            raise _Attempt(f"stream broke off: {type(exc).__name__}: {_clip(str(exc))}", retryable=True) from exc
        finally:
            stream.close()
        if finish is None:
            raise _Attempt(f"the stream from {self.url}/chat/completions ended before the completion finished",
                           retryable=True)
        return Completion(text="".join(text), reasoning="".join(reasoning) or None, usage=usage,
                          finish_reason=finish)

    def _first_model(self) -> str:
        try:
            models = [m.id for m in self.client.models.list()]
        except openai.APIError as exc:
            raise self._classify(exc, "/models") from exc
        if not models:
            raise _Attempt(f"{self.url}/models lists no model: set GLMV_MODEL", retryable=False)
        return models[0]

    # -- retries and errors ---------------------------------------------------------------------------------------

    def _with_retries(self, what: str, call: Callable[[], _T]) -> _T:
        attempt = 0
        while True:
            try:
                return call()
            except _Attempt as failure:
                time.sleep(self._retry_delay(what, failure, attempt))
                attempt += 1

    def _retry_delay(self, what: str, failure: _Attempt, attempt: int) -> float:
        """How long to wait before retrying a failed attempt; raises when the failure is final."""
        if not failure.retryable:
            raise BackendError(self._redact(failure.cause)) from None
        if attempt == self.config.max_retries:
            kind = BackendTimeout if failure.timeout else BackendError
            raise kind(self._redact(f"{what} failed after {attempt + 1} attempt(s): {failure.cause}")) from None
        delay = self._delay(attempt, failure.retry_after)
        logger.warning("%s: %s; retry %d/%d in %.2fs", what, self._redact(failure.cause), attempt + 1,
                       self.config.max_retries, delay)
        return delay

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.config.retry_after_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**attempt)
        return ceiling * (0.5 + self._random.random() / 2)  # jitter: 50-100% of the exponential step

    def _classify(self, exc: openai.APIError, path: str) -> _Attempt:
        url = f"{self.url}{path}"
        if isinstance(exc, openai.APITimeoutError):
            return _Attempt(f"no answer from {url} within {self.config.timeout_s:g}s", retryable=True, timeout=True)
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return _Attempt(f"cannot reach {url}: {_clip(str(cause) or type(cause).__name__)}", retryable=True)
        if isinstance(exc, openai.APIStatusError):
            return self._classify_status(exc, url)
        # a 2xx answer the client could not read (not JSON, wrong shape)
        body = getattr(exc, "body", None) or getattr(getattr(exc, "response", None), "text", "")
        return _Attempt(f"unreadable answer from {url} (is this an OpenAI-compatible endpoint?): "
                        f"{_clip(str(body) or str(exc))}", retryable=False)

    def _classify_status(self, exc: openai.APIStatusError, url: str) -> _Attempt:
        status = exc.status_code
        detail = _server_message(exc)
        if status in _RETRY_STATUS or status >= 500:
            return _Attempt(f"{url} answered {status}: {detail}", retryable=True,
                            retry_after=_retry_after(exc.response.headers))
        if status == 401:
            cause = f"endpoint rejected the API key (401) at {url}: set GLMV_API_KEY"
        elif status == 403:
            cause = f"endpoint refused access (403) at {url}: {detail}; check GLMV_API_KEY's permissions"
        elif status == 404:
            cause = (f"not found (404) at {url}: {detail}; check GLMV_BASE_URL (vLLM and SGLang end in /v1) "
                     f"and GLMV_MODEL ({self._model or 'unset'})")
        else:
            cause = f"endpoint rejected the request ({status}) at {url}: {detail}"
        return _Attempt(cause, retryable=False)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _reasoning(message: Any) -> str | None:
    for name in ("reasoning_content", "reasoning"):
        value = getattr(message, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return _clip(str(message))
    return _clip(exc.response.text or exc.message)


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None when absent or bad."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time())


def _clip(text: str, limit: int = 300) -> str:
    """One line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
