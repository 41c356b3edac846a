"""The allowlist on the network: a local HTTP proxy the browser context sends all its traffic through.

Playwright's request routing sees only the first hop of a request: the hops of an HTTP redirect (301/302/303/
307/308) are continued without asking the route, and WebSocket connections never reach it. A proxy sees every
connection the context opens (navigations, redirect hops, popups, frames, subresources, fetch/XHR, workers,
WebSockets), so it is where the allowlist is enforced:

- ``CONNECT host:port`` (HTTPS, ``ws:``/``wss:`` WebSockets) to an allowed host is tunnelled byte for byte (TLS stays
  end to end); to any other host it gets ``403`` and no connection is made.
- A plain ``http://`` request is forwarded one request per connection (``Connection: close`` both ways), so a
  kept-alive connection can never carry a second request to another host.

Refused hosts are counted (:meth:`AllowlistProxy.take_blocked`). The proxy listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from collections import Counter
from socketserver import BaseRequestHandler, ThreadingTCPServer
from urllib.parse import urlsplit

from .options import host_permitted

log = logging.getLogger(__name__)
HEAD_LIMIT = 64 * 1024  # bytes of request or response head we read before giving up
CONNECT_TIMEOUT_S = 15.0
HOP_HEADERS = {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization"}


class _Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, gate: AllowlistProxy) -> None:
        self.gate = gate
        super().__init__(("127.0.0.1", 0), _Handler)


class AllowlistProxy:
    """A forward proxy on ``127.0.0.1:<port>`` that connects only to hosts ``host_permitted`` by ``allowed``.

    ``url`` is what Playwright's ``proxy={"server": url}`` takes. ``close()`` stops it and cuts open tunnels."""

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = list(allowed)
        self._blocked: Counter[str] = Counter()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="glmv-allowlist-proxy",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def block(self, host: str) -> None:
        log.info("blocked a connection to %s (not in the allowed domains)", host)
        with self._lock:
            self._blocked[host] += 1

    def take_blocked(self) -> Counter[str]:
        """Hosts refused since the last call, with how many connections each."""
        with self._lock:
            blocked, self._blocked = self._blocked, Counter()
        return blocked

    def track(self, sock: socket.socket, add: bool = True) -> None:
        with self._lock:
            (self._open.add if add else self._open.discard)(sock)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass
        self._thread.join(timeout=5)


class _Handler(BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        gate = self.server.gate
        client: socket.socket = self.request
        gate.track(client)
        try:
            head, rest = _read_head(client)
            if head:
                self._serve(gate, client, head, rest)
        except (OSError, ValueError) as exc:  # ValueError: select() on a socket close() just shut
            log.debug("proxy connection ended: %s", exc)
        finally:
            gate.track(client, add=False)

    def _serve(self, gate: AllowlistProxy, client: socket.socket, head: bytes, rest: bytes) -> None:
        line, _, headers = head.partition(b"\r\n")
        parts = line.split(b" ")
        if len(parts) != 3:
            client.sendall(_status(400, "Bad Request"))
            return
        method, target = parts[0].decode("latin-1"), parts[1].decode("latin-1")
        host, port, path = _target(method, target)
        if not host:
            client.sendall(_status(400, "Bad Request"))
            return
        if not host_permitted(host, gate.allowed):
            gate.block(host)
            client.sendall(_status(403, "Forbidden", f"glmv-agent: {host} is not in the allowed domains\n"))
            return
        try:
            upstream = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            client.sendall(_status(502, "Bad Gateway", f"glmv-agent: cannot connect to {host}: {exc}\n"))
            return
        gate.track(upstream)
        try:
            upstream.settimeout(None)
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                _relay(client, upstream, rest, b"")
            else:
                request = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + _close_headers(headers)
                upstream.sendall(request + rest)
                _relay(client, upstream, b"", b"", rewrite_response=True)
        finally:
            gate.track(upstream, add=False)
            upstream.close()


def _target(method: str, target: str) -> tuple[str, int, str]:
    """(host, port, origin-form path) of a proxy request target; host "" when it is not one we forward."""
    if method == "CONNECT":
        parts = urlsplit(f"//{target}")
        default = 443
        path = ""
    else:
        parts = urlsplit(target)
        if parts.scheme != "http":
            return "", 0, ""
        default = 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        return parts.hostname or "", parts.port or default, path
    except ValueError:  # a port that is not a number
        return "", 0, ""


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The bytes up to the blank line ending a head, and whatever came after it; (b"", b"") when none came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > HEAD_LIMIT:
            return b"", b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _close_headers(headers: bytes) -> bytes:
    """The header block without hop-by-hop headers, plus ``Connection: close``, ending in the blank line."""
    kept = [h for h in headers.split(b"\r\n") if h and h.split(b":", 1)[0].strip().lower() not in HOP_HEADERS]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])


def _status(code: int, reason: str, body: str = "") -> bytes:
    payload = body.encode("utf-8")
    head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + payload


def _relay(client: socket.socket, upstream: socket.socket, to_up: bytes, to_client: bytes,
           rewrite_response: bool = False) -> None:
    """Copy bytes both ways until both sides have finished (a side that ends gets its peer's write side shut)."""
    if to_up:
        upstream.sendall(to_up)
    if to_client:
        client.sendall(to_client)
    peers = {client: upstream, upstream: client}
    reading = [client, upstream]
    pending_head = b"" if rewrite_response else None
    while reading:
        ready, _, _ = select.select(reading, [], [], 300)
        if not ready:
            return  # five idle minutes: let the browser open a new connection
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                reading.remove(sock)
                _shut(peers[sock])
                continue
            if sock is upstream and pending_head is not None:
                pending_head += data
                if b"\r\n\r\n" not in pending_head and len(pending_head) < HEAD_LIMIT:
                    continue
                data, pending_head = _rewrite_head(pending_head), None
            peers[sock].sendall(data)


def _rewrite_head(data: bytes) -> bytes:
    """A response head with ``Connection: close`` (the browser must not send another request on this connection)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return data
    line, _, headers = head.partition(b"\r\n")
    return line + b"\r\n" + _close_headers(headers) + body


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
