"""Backend for OpenAI-compatible endpoints: vLLM, SGLang and the hosted GLM API.

Screenshots are resized to GLM-V's grid and sent as data URLs; ``skip_special_tokens`` is turned off so the
``<|begin_of_box|>`` markers around actions survive; separated reasoning (``reasoning_content``) is read back.
A reply cut inside its thinking (thinking budget or length) is answered in a second request (thinking.py).
Retries are the openai client's own (``max_retries``: 408/409/429/5xx, connection errors and timeouts, backoff
0.5 s doubling to 8 s, ``Retry-After`` up to 120 s honoured); here failures become one-line ``BackendError``s
without the API key, and a stream that breaks off after a 200, which the client does not retry, is asked again.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlparse

import openai
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ..errors import BackendError, BackendTimeout, ConfigError
from ..geometry import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
from ..imaging import JPEG_ONLY_HOSTS, FormatChoice
from ..types import ChatMessage, Completion, GenerationParams, Usage
from .messages import prefetch_image_url, to_openai_messages
from .thinking import Exchange, Pass, drive, exchange, first_pass_tokens

logger = logging.getLogger(__name__)

ThinkingDialect = Literal["auto", "vllm", "zai", "none"]
NO_KEY = "EMPTY"  # what vLLM/SGLang expect when they run without --api-key
_ENV = {"base_url": ("GLMV_BASE_URL", "OPENAI_BASE_URL"), "api_key": ("GLMV_API_KEY", "OPENAI_API_KEY"),
        "model": ("GLMV_MODEL", "OPENAI_MODEL")}
_RETRIED_STATUS = frozenset({408, 409, 429})  # and 5xx: what the openai client retries
HOSTED_GLM_HOSTS = JPEG_ONLY_HOSTS  # the hosted GLM API (open.bigmodel.cn, api.z.ai)


class EndpointConfig(BaseModel):
    """Where and how to reach the model server."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: SecretStr | None = None
    model: str = ""  # empty: the first model the server lists at /models
    timeout_s: float = Field(180.0, gt=0)
    max_retries: int = Field(3, ge=0)  # the openai client's: on 408/409/429/5xx, connection errors, timeouts
    image_format: FormatChoice = "auto"  # auto: lossy WebP, or JPEG for the hosted GLM API; webp-lossless: exact
    image_quality: int = Field(90, ge=1, le=100)
    min_pixels: int = Field(DEFAULT_MIN_PIXELS, gt=0)
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0)
    thinking_dialect: ThinkingDialect = "auto"  # how GenerationParams.thinking is sent: both switches, or one
    extra_body: dict[str, Any] = Field(default_factory=dict)
    stream: bool = False
    continue_final_message: bool | None = None  # continue a cut thinking (vLLM), else re-ask; None: not on hosted GLM

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

    @property
    def prefill(self) -> bool:
        """Whether a cut thinking is answered with ``continue_final_message`` (else by a re-ask)."""
        if self.continue_final_message is not None:
            return self.continue_final_message
        host = (urlparse(self.base_url).hostname or "").lower()
        return not any(host == h or host.endswith("." + h) for h in HOSTED_GLM_HOSTS)


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


class _StreamBroke(Exception):
    """A streamed answer that broke off after its 200 (the client retries requests, not half-read streams)."""


class _Refused(Exception):
    """A refusable request answered 400 (a server that does not take ``continue_final_message``)."""


class OpenAIBackend:
    """Backend protocol implementation over the openai client (``client`` may be injected, e.g. a proxy setup).

    Errors: ``BackendTimeout`` when the last try timed out, else ``BackendError``; one line naming the URL, the
    number of attempts when the client retried, and what to fix; the API key is replaced by ``***``.
    """

    def __init__(self, config: EndpointConfig | None = None, client: openai.OpenAI | None = None) -> None:
        self.config = config or EndpointConfig()
        self._key = self.config.api_key.get_secret_value() if self.config.api_key else NO_KEY
        self._owns_client = client is None
        self.client = client.with_options(**self._client_options()) if client else openai.OpenAI(
            base_url=self.config.base_url, api_key=self._key, **self._client_options())
        self.url = str(self.client.base_url).rstrip("/")
        self._model = self.config.model
        self._model_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------------------------

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Completion:
        """One completion (two requests when a cut thinking is answered); its ``latency_s`` includes the client's
        retries. Raises BackendError / BackendTimeout."""
        request = self.build_request(messages, params)
        images = sum(len(m.images()) for m in messages)
        logger.debug("chat request to %s/chat/completions: model=%s, %d messages, %d images",
                     self.url, request["model"], len(messages), images)
        started = time.perf_counter()
        completion = drive(self.exchange(request, params), self._send)
        completion.latency_s = time.perf_counter() - started
        logger.debug("completion in %.2fs: %d+%d tokens, finish=%s", completion.latency_s,
                     completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.finish_reason)
        return completion

    def prefetch(self, image: Any) -> None:
        """Start encoding ``image`` (a PIL screenshot that will be sent as is) for the next request, on a worker
        thread: environments call it while they confirm that the screen is still (see imaging.prefetch)."""
        prefetch_image_url(image, self.config)

    def build_request(self, messages: list[ChatMessage], params: GenerationParams) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for these messages and parameters (the first
        request: ``max_tokens`` is capped at the thinking budget, see thinking.py)."""
        extra = _merge({"skip_special_tokens": False}, self.config.extra_body)
        extra = _merge(extra, thinking_body(params.thinking, self.config.thinking_dialect))
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages, self.config),
            "temperature": params.temperature,
            "max_tokens": first_pass_tokens(params),
            "extra_body": extra,
            "timeout": self.config.timeout_s,
        }
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.frequency_penalty is not None:
            request["frequency_penalty"] = params.frequency_penalty
        if params.stop:
            request["stop"] = list(params.stop)
        return request

    @property
    def model(self) -> str:
        """The configured model, or the first one the server lists (asked once)."""
        with self._model_lock:
            if not self._model:
                with self._errors("model list", "/models"):
                    self._model = _first_model([m.id for m in self.client.models.list()], self.url)
                logger.info("using model %s served at %s", self._model, self.url)
            return self._model

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def exchange(self, request: dict[str, Any], params: GenerationParams) -> Exchange:
        """The requests of one completion (thinking.exchange) for this endpoint."""
        reask_body = _merge(request["extra_body"], thinking_body(False, self.config.thinking_dialect))
        return exchange(request, params, prefill=self.config.prefill, reask_body=reask_body)

    # -- answers ------------------------------------------------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        return {"max_retries": self.config.max_retries, "timeout": self.config.timeout_s}

    def _send(self, step: Pass) -> Completion | None:
        """One request; None when ``step`` is refusable and the server answered 400."""
        try:
            if self.config.stream:
                return self._stream_with_retries(step.request, step.refusable)
            with self._errors("chat completion", "/chat/completions", step.refusable):
                return self._read_response(self.client.chat.completions.create(**step.request))
        except _Refused:
            return None

    def _read_response(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None)
        if not choices:
            raise ValueError(f"no completion in {_clip(repr(response))}")
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

    def _stream_with_retries(self, request: dict[str, Any], refusable: bool = False) -> Completion:
        retries = self.config.max_retries
        for attempt in range(retries + 1):
            try:
                with self._errors("chat completion", "/chat/completions", refusable):
                    return self._read_stream(request)
            except _StreamBroke as exc:
                broke = exc
                if attempt < retries:
                    logger.warning("chat completion: %s; retry %d/%d", self._redact(str(exc)), attempt + 1, retries)
        raise BackendError(self._redact(f"chat completion failed after {retries + 1} attempt(s): {broke}"))

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
            raise _StreamBroke(f"stream broke off: {type(exc).__name__}: {_clip(str(exc))}") from exc
        finally:
            stream.close()
        if finish is None:
            raise _StreamBroke(f"the stream from {self.url}/chat/completions ended before the completion finished")
        return Completion(text="".join(text), reasoning="".join(reasoning) or None, usage=usage,
                          finish_reason=finish)

    # -- errors ---------------------------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str, path: str, refusable: bool = False) -> Iterator[None]:
        """The client's final errors (after its retries) and unreadable answers as one-line BackendErrors;
        ``refusable``: a 400 raises _Refused instead."""
        try:
            yield
        except openai.APIError as exc:
            if refusable and isinstance(exc, openai.BadRequestError):
                raise _Refused from None
            raise self._error(exc, what, f"{self.url}{path}") from None
        except ValueError as exc:  # a 200 whose body is not JSON / not a completion (json or pydantic error)
            raise BackendError(self._redact(_unreadable(f"{self.url}{path}", str(exc)))) from None

    def _error(self, exc: openai.APIError, what: str, url: str) -> BackendError:
        if isinstance(exc, openai.APIStatusError):
            cause, retried = self._status_cause(exc, url)
        elif isinstance(exc, openai.APITimeoutError):
            cause, retried = f"no answer from {url} within {self.config.timeout_s:g}s", True
        elif isinstance(exc, openai.APIConnectionError):
            reason = exc.__cause__ or exc
            cause, retried = f"cannot reach {url}: {_clip(str(reason) or type(reason).__name__)}", True
        else:  # a 2xx answer the client could not read (not JSON, wrong shape)
            body = getattr(exc, "body", None) or getattr(getattr(exc, "response", None), "text", "")
            cause, retried = _unreadable(url, str(body) or str(exc)), False
        if retried:
            cause = f"{what} failed after {_attempts(exc)} attempt(s): {cause}"
        kind = BackendTimeout if isinstance(exc, openai.APITimeoutError) else BackendError
        return kind(self._redact(cause))

    def _status_cause(self, exc: openai.APIStatusError, url: str) -> tuple[str, bool]:
        """One line for an error status, and whether the client retries that status."""
        status = exc.status_code
        detail = _server_message(exc)
        if status in _RETRIED_STATUS or status >= 500:
            wait = exc.response.headers.get("retry-after")
            return f"{url} answered {status}: {detail}" + (f" (Retry-After: {wait})" if wait else ""), True
        if status == 401:
            return f"endpoint rejected the API key (401) at {url}: set GLMV_API_KEY", False
        if status == 403:
            return f"endpoint refused access (403) at {url}: {detail}; check GLMV_API_KEY's permissions", False
        if status == 404:
            return (f"not found (404) at {url}: {detail}; check GLMV_BASE_URL (vLLM and SGLang end in /v1) "
                    f"and GLMV_MODEL ({self._model or 'unset'})"), False
        return f"endpoint rejected the request ({status}) at {url}: {detail}", False

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key not in ("", NO_KEY) else text


def _first_model(models: list[str], url: str) -> str:
    if not models:
        raise BackendError(f"{url}/models lists no model: set GLMV_MODEL")
    return models[0]


def _unreadable(url: str, detail: str) -> str:
    return f"unreadable answer from {url} (is this an OpenAI-compatible endpoint?): {_clip(detail, 160)}"


def _attempts(exc: openai.APIError) -> int:
    """Requests the client made: its ``x-stainless-retry-count`` header on the last one, plus one."""
    count = exc.request.headers.get("x-stainless-retry-count", "0")
    return int(count) + 1 if count.isdigit() else 1


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


def _clip(text: str, limit: int = 300) -> str:
    """One line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
