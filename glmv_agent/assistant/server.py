"""The panel's web server: Starlette routes behind an access-token gate, served by uvicorn on 127.0.0.1 only.

Routes (every one needs the token)::

    GET  /                      the panel (HTML; sets the token cookie when opened with ?token=...)
    GET  /static/<file>         the panel's JS and CSS (package data)
    GET  /api/events            server-sent events: every PanelEvent as JSON, replayed from the start or after
                                Last-Event-ID, then live
    POST /api/messages          {"text": "..."}: 202 {"turn": n}; 409 while another message is handled
    POST /api/stop              {"stopping": true|false}
    POST /api/holds/<n>         {"answer": "yes"|"no"}: 200 {"resolved": true}; 404 when not open
    GET  /api/images/<n>.png    a screenshot shown in the panel
    GET  /runs/<folder>/...     the conversation folder: each task's report.html, screenshots, steps.jsonl

The token (``secrets.token_urlsafe``) is accepted from the ``X-Glmv-Token`` header, and for GET also from the
``token`` query parameter or the panel's cookie (HttpOnly, SameSite=Strict; named per port); it is compared in
constant time. Requests that change anything (POST) must carry the header, so a page on another site cannot make
them. The Host header must name 127.0.0.1 or localhost (no DNS rebinding). No access log is kept (URLs hold the token).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import uvicorn
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import ConfigError
from .events import EventBus, PanelEvent
from .session import AssistantSession, Busy

HOST = "127.0.0.1"
STATIC = Path(__file__).with_name("static")
TOKEN_HEADER = "x-glmv-token"
KEEPALIVE_S = 15.0
REFUSED = "forbidden: open the panel with the URL (and its token) that glmv-agent assistant printed\n"
PANEL_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def new_token() -> str:
    """A random access token (32 URL-safe characters from the OS's secure source)."""
    return secrets.token_urlsafe(24)


def _same(supplied: str | None, token: str) -> bool:
    return bool(supplied) and secrets.compare_digest(supplied.encode(), token.encode())  # type: ignore[union-attr]


class TokenGate:
    """ASGI middleware: 403 for any request without the token (see the module docstring for where it may be)."""

    def __init__(self, app: ASGIApp, token: str, cookie: str) -> None:
        self.app, self.token, self.cookie = app, token, cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # the panel uses no WebSockets
            await send({"type": "websocket.close", "code": 1008})
            return
        if not self.allowed(Request(scope)):
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def allowed(self, request: Request) -> bool:
        candidates = [request.headers.get(TOKEN_HEADER)]
        if request.method in ("GET", "HEAD"):
            candidates += [request.query_params.get("token"), request.cookies.get(self.cookie)]
        return any(_same(candidate, self.token) for candidate in candidates)


class MessageIn(BaseModel):
    text: str


class HoldAnswer(BaseModel):
    answer: Literal["yes", "no"]


def _sse(event: PanelEvent) -> str:
    return f"id: {event.id}\ndata: {event.model_dump_json()}\n\n"


async def event_stream(bus: EventBus, after: int) -> AsyncIterator[str]:
    """The bus as server-sent events: the backlog after id ``after``, then live events until the bus closes."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[PanelEvent | None] = asyncio.Queue()

    def deliver(event: PanelEvent | None) -> None:
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, event)
        except RuntimeError:  # the server's loop has closed
            pass

    backlog, unsubscribe = bus.subscribe(deliver, after)
    try:
        yield "retry: 1000\n\n"
        for event in backlog:
            yield _sse(event)
        while True:
            try:
                item = await asyncio.wait_for(inbox.get(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            yield _sse(item)
    finally:
        unsubscribe()


async def _body(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise ConfigError(f"bad request: {exc.errors()[0]['msg']}") from None


class _Endpoints:
    """The routes' handlers for one session (``cookie`` names the token cookie, one per port)."""

    def __init__(self, session: AssistantSession, token: str, cookie: str) -> None:
        self.session, self.token, self.cookie = session, token, cookie

    async def index(self, request: Request) -> Response:
        response = HTMLResponse((STATIC / "panel.html").read_text(encoding="utf-8"), headers=PANEL_HEADERS)
        if _same(request.query_params.get("token"), self.token):
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
        return response

    async def events(self, request: Request) -> Response:
        last = request.headers.get("last-event-id", "0")
        after = int(last) if last.isdigit() else 0
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(event_stream(self.session.bus, after), media_type="text/event-stream",
                                 headers=headers)

    async def message(self, request: Request) -> Response:
        try:
            turn = self.session.submit((await _body(request, MessageIn)).text)
        except Busy as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except ConfigError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"turn": turn.number}, status_code=202)

    async def stop(self, request: Request) -> Response:
        return JSONResponse({"stopping": self.session.stop()})

    async def hold(self, request: Request) -> Response:
        try:
            answer = (await _body(request, HoldAnswer)).answer
        except ConfigError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        resolved = self.session.resolve(request.path_params["hold"], answer)
        return JSONResponse({"resolved": resolved}, status_code=200 if resolved else 404)

    async def image(self, request: Request) -> Response:
        data = self.session.images.png(request.path_params["number"])
        if data is None:
            return PlainTextResponse("no such image (only the newest are kept)\n", status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def create_app(session: AssistantSession, token: str, cookie: str) -> Starlette:
    """The panel's ASGI app for ``session``; ``cookie`` names the token cookie (one per port)."""
    e = _Endpoints(session, token, cookie)
    routes = [
        Route("/", e.index), Route("/api/events", e.events), Route("/api/messages", e.message, methods=["POST"]),
        Route("/api/stop", e.stop, methods=["POST"]), Route("/api/holds/{hold:int}", e.hold, methods=["POST"]),
        Route("/api/images/{number:int}.png", e.image),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount("/runs", StaticFiles(directory=session.conversation.folder)),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=[HOST, "localhost"]),
        Middleware(TokenGate, token=token, cookie=cookie),
    ]
    return Starlette(routes=routes, middleware=middleware)


class _Uvicorn(uvicorn.Server):
    """uvicorn that ends the panels' event streams first when asked to exit (Ctrl-C), so it stops at once."""

    def __init__(self, config: uvicorn.Config, bus: EventBus) -> None:
        super().__init__(config)
        self._bus = bus
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self._loop is not None:  # a signal handler must not take the bus lock itself
            self._loop.call_soon_threadsafe(self._bus.close)
        super().handle_exit(sig, frame)


class PanelServer:
    """The panel for ``session`` on 127.0.0.1:``port`` (0: a free port). The socket listens from construction on.

    ``serve()`` blocks (Ctrl-C ends it); ``start()`` / ``stop()`` run it on a thread instead (tests)."""

    def __init__(self, session: AssistantSession, port: int = 0, token: str | None = None) -> None:
        self.session = session
        self.token = token or new_token()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.socket.bind((HOST, port))
        except OSError as exc:
            self.socket.close()
            raise ConfigError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
        self.socket.listen(64)
        self.port: int = self.socket.getsockname()[1]
        app = create_app(session, self.token, f"glmv_assistant_{self.port}")
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self._server = _Uvicorn(config, session.bus)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The panel's address with its token (what the person opens)."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def serve(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self) -> PanelServer:
        self._thread = threading.Thread(target=self.serve, name="glmv-panel", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.session.bus.close()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
