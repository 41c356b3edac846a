"""The ADB wire protocol, device side, over TCP: what the simulated phone speaks to adb-shell and the real `adb`.

Packets are a 24-byte header (six little-endian u32: command, arg0, arg1, data length, byte-sum checksum,
command ^ 0xFFFFFFFF) followed by the data. A connection starts with CNXN (optionally AUTH first), then each
service is a stream: OPEN from the host, OKAY from us, WRTE/OKAY pairs for data (one WRTE in flight per stream),
CLSE from either side. ``shell,v2,...:`` services frame stdout/stderr/exit in shell-protocol packets.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

log = logging.getLogger(__name__)

A_CNXN, A_AUTH, A_OPEN = 0x4E584E43, 0x48545541, 0x4E45504F
A_OKAY, A_CLSE, A_WRTE = 0x59414B4F, 0x45534C43, 0x45545257
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
VERSION_MIN, VERSION_SKIP_CHECKSUM = 0x01000000, 0x01000001
MAX_PAYLOAD = 1024 * 1024
HEADER = struct.Struct("<6I")
SHELL_STDIN, SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT = 0, 1, 2, 3
FEATURES = "shell_v2,cmd"
BANNER = (
    "device::ro.product.name=glmv_sim;ro.product.model=GLMV_Simulated_Phone;ro.product.device=glmv_sim;"
    f"features={FEATURES}"
)


@dataclass(frozen=True)
class ServiceResult:
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0


# (service name "shell" or "exec", command string) -> result
ServiceHandler = Callable[[str, str], ServiceResult]


def pack(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    """One packet, header and data together (always with the checksum: adb-shell verifies it)."""
    return HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF) + data


def shell_v2_frame(kind: int, data: bytes) -> bytes:
    return struct.pack("<BI", kind, len(data)) + data


def decode_android_pubkey(blob: bytes) -> rsa.RSAPublicKey:
    """Android's RSAPublicKey struct (base64, optionally followed by ' user@host') to a cryptography key."""
    text = blob.rstrip(b"\0").strip().split(b" ")[0]
    raw = base64.b64decode(text)
    words, _n0inv = struct.unpack_from("<II", raw)
    size = words * 4
    modulus = int.from_bytes(raw[8 : 8 + size], "little")
    (exponent,) = struct.unpack_from("<I", raw, 8 + 2 * size)
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def signature_matches(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    """ADB signs the 20-byte token as if it were a SHA-1 digest (PKCS#1 v1.5)."""
    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class AuthPolicy:
    """``mode``: ``none`` (no auth), ``accept`` (new keys are accepted, as if the person tapped Allow) or
    ``refuse`` (only keys in ``authorized`` work; a new key closes the connection, as if they tapped Cancel)."""

    mode: str = "none"
    authorized: list[rsa.RSAPublicKey] = field(default_factory=list)

    def knows(self, token: bytes, signature: bytes) -> bool:
        return any(signature_matches(key, token, signature) for key in self.authorized)


class _Closed(Exception):
    """The peer went away."""


@dataclass
class _Stream:
    local_id: int
    remote_id: int
    acked: threading.Event = field(default_factory=threading.Event)
    closed: bool = False


class AdbConnection:
    """One host connection: handshake, then one thread per stream."""

    def __init__(self, sock: socket.socket, handler: ServiceHandler, auth: AuthPolicy) -> None:
        self.sock = sock
        self.handler = handler
        self.auth = auth
        self.write_lock = threading.Lock()
        self.streams: dict[int, _Stream] = {}
        self.next_id = 1
        self.max_payload = 4096
        self.alive = True

    # --- socket helpers -------------------------------------------------------------------------------------
    def _recv_exact(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            part = self.sock.recv(size - len(chunks))
            if not part:
                raise _Closed()
            chunks += part
        if hasattr(socket, "TCP_QUICKACK"):
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return bytes(chunks)

    def read_packet(self) -> tuple[int, int, int, bytes]:
        command, arg0, arg1, length, _checksum, magic = HEADER.unpack(self._recv_exact(HEADER.size))
        if magic != command ^ 0xFFFFFFFF:
            raise _Closed()
        data = self._recv_exact(length) if length else b""
        return command, arg0, arg1, data

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        with self.write_lock:
            if not self.alive:
                raise _Closed()
            self.sock.sendall(pack(command, arg0, arg1, data))

    def close(self) -> None:
        self.alive = False
        for stream in list(self.streams.values()):
            stream.acked.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # --- handshake ------------------------------------------------------------------------------------------
    def handshake(self) -> bool:
        command, version, maxdata, _banner = self.read_packet()
        if command != A_CNXN:
            return False
        self.max_payload = max(256, min(maxdata or MAX_PAYLOAD, MAX_PAYLOAD))
        reply_version = max(VERSION_MIN, min(version, VERSION_SKIP_CHECKSUM))
        if self.auth.mode != "none" and not self._authenticate():
            return False
        self.send(A_CNXN, reply_version, MAX_PAYLOAD, BANNER.encode() + b"\0")
        return True

    def _authenticate(self) -> bool:
        token = os.urandom(20)
        self.send(A_AUTH, AUTH_TOKEN, 0, token)
        while True:
            command, kind, _arg1, data = self.read_packet()
            if command != A_AUTH:
                return False
            if kind == AUTH_SIGNATURE:
                if self.auth.knows(token, data):
                    return True
                token = os.urandom(20)
                self.send(A_AUTH, AUTH_TOKEN, 0, token)
            elif kind == AUTH_RSAPUBLICKEY:
                if self.auth.mode != "accept":
                    log.info("simulated phone: refused a new ADB key")
                    return False
                self.auth.authorized.append(decode_android_pubkey(data))
                log.info("simulated phone: accepted a new ADB key")
                return True
            else:
                return False

    # --- streams --------------------------------------------------------------------------------------------
    def serve(self) -> None:
        try:
            if not self.handshake():
                return
            while self.alive:
                self._dispatch(*self.read_packet())
        except (_Closed, OSError):
            pass
        finally:
            self.close()

    def _dispatch(self, command: int, arg0: int, arg1: int, data: bytes) -> None:
        if command == A_OPEN:
            self._open(arg0, data.rstrip(b"\0").decode("utf-8", "replace"))
        elif command == A_OKAY:
            stream = self.streams.get(arg1)
            if stream is not None:
                stream.remote_id = arg0
                stream.acked.set()
        elif command == A_WRTE:
            stream = self.streams.get(arg1)
            if stream is not None and not stream.closed:
                self.send(A_OKAY, stream.local_id, stream.remote_id)  # stdin (shell v2 close-stdin) is ignored
        elif command == A_CLSE:
            stream = self.streams.pop(arg1, None)
            if stream is not None:
                stream.closed = True
                stream.acked.set()

    def _open(self, remote_id: int, destination: str) -> None:
        service, _, command = destination.partition(":")
        name, *options = service.split(",")
        if name not in ("shell", "exec") or not command:
            self.send(A_CLSE, 0, remote_id)  # refused: unknown service (or interactive shell)
            return
        stream = _Stream(local_id=self.next_id, remote_id=remote_id)
        self.next_id += 1
        self.streams[stream.local_id] = stream
        self.send(A_OKAY, stream.local_id, remote_id)
        v2 = name == "shell" and "v2" in options
        threading.Thread(target=self._run, args=(stream, name, command, v2), daemon=True).start()

    def _run(self, stream: _Stream, service: str, command: str, v2: bool) -> None:
        try:
            result = self.handler(service, command)
            if v2:
                payload = b"".join(
                    shell_v2_frame(kind, data)
                    for kind, data in ((SHELL_STDOUT, result.stdout), (SHELL_STDERR, result.stderr))
                    if data
                ) + shell_v2_frame(SHELL_EXIT, bytes([result.exit_code & 0xFF]))
            else:
                payload = result.stdout + result.stderr
            self._write(stream, payload)
            if not stream.closed:
                self.send(A_CLSE, stream.local_id, stream.remote_id)
        except (_Closed, OSError):
            pass
        except Exception:  # noqa: BLE001 - a broken command must not kill the connection silently
            log.exception("simulated phone: service %s:%s failed", service, command)
            if self.alive and not stream.closed:
                self.send(A_CLSE, stream.local_id, stream.remote_id)

    def _write(self, stream: _Stream, payload: bytes) -> None:
        for start in range(0, len(payload), self.max_payload):
            if stream.closed or not self.alive:
                return
            stream.acked.clear()
            self.send(A_WRTE, stream.local_id, stream.remote_id, payload[start : start + self.max_payload])
            if not stream.acked.wait(30.0):
                raise _Closed()


class AdbServer:
    """A TCP listener that serves ADB connections; can drop them all and refuse new ones for a while."""

    def __init__(self, handler: ServiceHandler, host: str = "127.0.0.1", port: int = 0,
                 auth: AuthPolicy | None = None) -> None:
        self.handler = handler
        self.auth = auth or AuthPolicy()
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = self.listener.getsockname()[:2]
        self.connections: list[AdbConnection] = []
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.running = False
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.running = True
        self.thread = threading.Thread(target=self._accept_loop, name="adb-sim-accept", daemon=True)
        self.thread.start()

    def _accept_loop(self) -> None:
        while self.running:
            try:
                sock, _addr = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.down_until:
                sock.close()  # the phone is "away": the host sees the connection die at once
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = AdbConnection(sock, self.handler, self.auth)
            with self.lock:
                self.connections = [c for c in self.connections if c.alive] + [connection]
            threading.Thread(target=connection.serve, name="adb-sim-conn", daemon=True).start()

    def drop(self, down_for: float = 0.0) -> None:
        """Close every connection; refuse new ones for ``down_for`` seconds (``float('inf')``: for good)."""
        self.down_until = time.monotonic() + down_for
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            connection.close()

    def restore(self) -> None:
        self.down_until = 0.0

    def stop(self) -> None:
        self.running = False
        self.drop()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        if self.thread is not None:
            self.thread.join(timeout=2.0)
