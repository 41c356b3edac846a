"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks (stdlib only).

Serves ``POST /v1/chat/completions`` (JSON, or SSE when the request says ``"stream": true``) and
``GET /v1/models``. Each chat request takes the next scripted reply::

    script = ["hello", {"content": "x", "reasoning_content": "why"}, Reply(status=429, retry_after=0.1)]
    with FakeOpenAIServer(script) as s:
        client = OpenAI(base_url=s.base_url, api_key="k")
        ...
        s.requests[0].body["messages"], s.requests[0].images()

A reply is text content, a dict of :class:`Reply` fields, or a :class:`Reply`; faults are an HTTP status
(with an OpenAI-style error body and optional ``Retry-After``), a delay before answering, a non-JSON body, or a
connection closed without an answer. When the script runs out, ``policy(request)`` answers when given (a rule-based
model reading each request), else ``default`` (``None``: a 500 saying so). ``latency_s`` delays every answer
(benchmarks of concurrent clients).

Like vLLM, a request with ``continue_final_message: true`` is refused (400, no scripted reply used) unless it also
says ``add_generation_prompt: false`` and ends with an assistant message. A reply cut inside the thinking and its
continuation are scripted as two replies: ``[Reply(content="<think>...", finish_reason="length"), "answer"]``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+);base64,(?P<data>.*)$", re.DOTALL)


@dataclass
class Reply:
    """One scripted answer (content and reasoning) or fault (status, delay, garbage, close)."""

    content: str | None = ""
    reasoning_content: str | None = None
    reasoning: str | None = None  # the field name some servers use instead of reasoning_content
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None
    status: int = 200
    error_message: str = "scripted error"
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    garbage: str | None = None  # sent as the body with status 200 and a JSON content type
    close: bool = False  # drop the connection without answering
    chunk_size: int = 8  # characters per SSE delta when streaming
    cut_stream: bool = False  # streaming: send the first half of the chunks, then close (no finish, no [DONE])


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any

    def image_urls(self) -> list[str]:
        """The ``image_url.url`` of every image part, in message and part order."""
        urls: list[str] = []
        for message in (self.body or {}).get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                urls += [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
        return urls

    def images(self) -> list[Image.Image]:
        """Decoded images of the data URLs in this request, in order."""
        return [decode_data_url(url)[1] for url in self.image_urls()]


def decode_data_url(url: str) -> tuple[str, Image.Image]:
    """(mime type, image) of a ``data:image/...;base64,`` URL; ValueError when it is not one."""
    match = _DATA_URL.match(url)
    if match is None:
        raise ValueError(f"not a base64 data URL: {url[:40]!r}")
    image = Image.open(io.BytesIO(base64.b64decode(match["data"], validate=True)))
    image.load()
    return match["mime"], image


def _as_reply(item: str | dict[str, Any] | Reply) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, str):
        return Reply(content=item)
    return Reply(**item)


class FakeOpenAIServer:
    """Context manager running the scripted server on an ephemeral port of 127.0.0.1."""

    def __init__(
        self,
        responses: list[str | dict[str, Any] | Reply] | None = None,
        *,
        default: str | dict[str, Any] | Reply | None = None,
        latency_s: float = 0.0,
        models: tuple[str, ...] = ("fake-glm",),
        api_key: str | None = None,
        policy: Callable[[RecordedRequest], str | dict[str, Any] | Reply] | None = None,
    ) -> None:
        self.script = [_as_reply(r) for r in responses or []]
        self.default = None if default is None else _as_reply(default)
        self.policy = policy
        self.latency_s = latency_s
        self.models = models
        self.api_key = api_key  # when set, requests must carry "Authorization: Bearer <api_key>"
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Listener(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def next_reply(self, request: RecordedRequest | None = None) -> Reply:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        if self.policy is not None and request is not None:
            return _as_reply(self.policy(request))
        if self.default is not None:
            return self.default
        return Reply(status=500, error_message="fake server: scripted responses exhausted")

    def sleep(self, seconds: float) -> None:
        """Sleep that ends early when the server stops (so a pending delay never holds up teardown)."""
        if seconds > 0:
            self._stopping.wait(seconds)


class _Listener(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the connection attempts of a batch's first round (16 at once) and
    # the client's kernel retries them a second later; real servers (uvicorn: 2048) take them all.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.fake.record(RecordedRequest("GET", self.path, self._headers(), None))
        if not self._authorised():
            return
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.fake.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = RecordedRequest("POST", self.path, self._headers(), body)
        self.fake.record(request)
        if not self._authorised():
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        if not isinstance(body, dict):
            self._error(400, "request body is not JSON")
            return
        refusal = _continue_refusal(body)
        if refusal:
            self._error(400, refusal, kind="BadRequestError")
            return
        reply = self.fake.next_reply(request)
        self.fake.sleep(self.fake.latency_s + reply.delay_s)
        if self.fake._stopping.is_set():
            return
        self._answer(reply, body)

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _authorised(self) -> bool:
        expected = self.fake.api_key
        if expected is None or self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self._error(401, "Incorrect API key provided", kind="invalid_api_key")
        return False

    def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
        try:
            if reply.close:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif reply.status != 200:
                headers = dict(reply.headers)
                if reply.retry_after is not None:
                    headers["Retry-After"] = f"{reply.retry_after:g}"
                self._error(reply.status, reply.error_message, headers=headers)
            elif reply.garbage is not None:
                self._send(200, reply.garbage.encode(), "application/json", reply.headers)
            elif body.get("stream"):
                self._stream(reply, body)
            else:
                self._json(200, _completion(reply, body), reply.headers)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunks = _stream_chunks(reply, body)
        for chunk in chunks[: len(chunks) // 2] if reply.cut_stream else chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        if reply.cut_stream:
            return
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _error(self, status: int, message: str, kind: str = "error", headers: dict[str, str] | None = None) -> None:
        payload = {"error": {"message": message, "type": kind, "code": status}}
        self._json(status, payload, headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _continue_refusal(body: dict[str, Any]) -> str | None:
    """Why vLLM would refuse this ``continue_final_message`` request (None: it would not)."""
    if not body.get("continue_final_message"):
        return None
    if body.get("add_generation_prompt", True):
        return "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
    messages = body.get("messages") or [{}]
    if messages[-1].get("role") != "assistant":
        return "continue_final_message is set but the final message is not an assistant message"
    return None


def _usage(reply: Reply) -> dict[str, int]:
    usage = reply.usage or {"prompt_tokens": 10, "completion_tokens": 5}
    return {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.reasoning_content is not None:
        message["reasoning_content"] = reply.reasoning_content
    if reply.reasoning is not None:
        message["reasoning"] = reply.reasoning
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "fake-glm"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply),
    }


def _stream_chunks(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "fake-glm"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    size = max(1, reply.chunk_size)
    chunks = [chunk({"role": "assistant", "content": ""})]
    for key in ("reasoning_content", "reasoning", "content"):
        text = getattr(reply, key) or ""
        chunks += [chunk({key: text[i : i + size]}) for i in range(0, len(text), size)]
    chunks.append(chunk({}, reply.finish_reason))
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**chunk({}), "choices": [], "usage": _usage(reply)})
    return chunks
