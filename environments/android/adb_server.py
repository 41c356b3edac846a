"""A client for a running adb server's host protocol (the one `adb devices` speaks), for listing devices.

glmv-agent talks to phones itself (adb-shell), but a person's `adb` server may hold USB phones and know devices
connected with `adb connect`; asking it is how `glmv-agent devices` sees them. Requests are ``%04x`` + text;
answers start with ``OKAY`` or ``FAIL`` + ``%04x`` + message. The server's port is $ANDROID_ADB_SERVER_PORT or 5037.
"""

from __future__ import annotations

import os
import socket

from pydantic import BaseModel

DEFAULT_PORT = 5037


class ListedDevice(BaseModel):
    """One line of ``host:devices-l``: serial, state (device, unauthorized, offline...) and the key:value rest."""

    serial: str
    state: str
    details: dict[str, str] = {}


def server_port() -> int:
    value = os.environ.get("ANDROID_ADB_SERVER_PORT", "")
    return int(value) if value.isdigit() else DEFAULT_PORT


def _request(sock: socket.socket, text: str) -> None:
    data = text.encode("utf-8")
    sock.sendall(f"{len(data):04x}".encode("ascii") + data)
    status = _read(sock, 4)
    if status != b"OKAY":
        length = int(_read(sock, 4) or b"0", 16)
        raise OSError(f"adb server: {_read(sock, length).decode('utf-8', 'replace') or status!r}")


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _connect(port: int, timeout_s: float) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout_s)


def list_devices(port: int | None = None, timeout_s: float = 5.0) -> list[ListedDevice] | None:
    """The devices the local adb server knows; None when no server is running."""
    try:
        sock = _connect(port or server_port(), timeout_s)
    except OSError:
        return None
    with sock:
        _request(sock, "host:devices-l")
        body = _read(sock, int(_read(sock, 4) or b"0", 16)).decode("utf-8", "replace")
    devices = []
    for line in body.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            details = dict(part.split(":", 1) for part in parts[2:] if ":" in part)
            devices.append(ListedDevice(serial=parts[0], state=parts[1], details=details))
    return devices


def shell(serial: str, command: str, port: int | None = None, timeout_s: float = 10.0) -> str:
    """Output of ``command`` on ``serial`` through the adb server; OSError when the server refuses."""
    with _connect(port or server_port(), timeout_s) as sock:
        _request(sock, f"host:transport:{serial}")
        _request(sock, f"shell:{command}")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


__all__ = ["ListedDevice", "list_devices", "server_port", "shell"]
