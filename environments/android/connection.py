"""ADB connection on adb-shell: TCP (wireless debugging, emulators) or USB, the RSA key, timeouts, reconnection
with bounded backoff, and one-line DeviceError messages for the failures people actually hit.

adb-shell sends ``shell:<command>`` as given (no quoting) and returns stdout and stderr merged, without an exit
status; :meth:`AdbClient.run` appends ``; echo <marker>$?`` to get it. Callers quote every argument with
:func:`shlex.quote` (see adb_input).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from adb_shell.adb_device import AdbDevice
from adb_shell.exceptions import (
    AdbConnectionError,
    AdbTimeoutError,
    DeviceAuthError,
    InvalidChecksumError,
    InvalidCommandError,
    InvalidResponseError,
    TcpTimeoutException,
    UsbReadFailedError,
    UsbWriteFailedError,
)
from adb_shell.transport.base_transport import BaseTransport
from pydantic import BaseModel, Field

from glmv_agent.errors import ConfigError, DeviceDisconnected, DeviceError, StepError

from .keys import AdbSigner, key_path

log = logging.getLogger(__name__)
# adb-shell's DEBUG records dump raw protocol bytes, typed text and secrets included: never below INFO.
logging.getLogger("adb_shell").setLevel(logging.INFO)
T = TypeVar("T")
RC_MARKER = "__glmv_rc="
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError, AdbConnectionError, AdbTimeoutError, TcpTimeoutException, InvalidChecksumError, InvalidCommandError,
    InvalidResponseError, UsbReadFailedError, UsbWriteFailedError,
)


class Target(BaseModel):
    """Where the phone is: ``host``/``port`` for TCP, else USB (``serial`` None = the first phone found)."""

    host: str | None = None
    port: int = 5555
    serial: str | None = None

    @property
    def usb(self) -> bool:
        return self.host is None

    def describe(self) -> str:
        return f"{self.host}:{self.port}" if self.host else f"USB {self.serial or '(first phone found)'}"


def parse_target(device: str | None) -> Target:
    """``HOST:PORT``, ``[v6]:PORT``, a bare IP/hostname (port 5555), ``emulator-5554`` (its adbd: port 5555),
    or a USB serial; None or '' means the first phone on USB."""
    text = (device or os.environ.get("ANDROID_SERIAL", "")).strip()
    if not text:
        return Target()
    emulator = re.fullmatch(r"emulator-(\d+)", text)
    if emulator:
        return Target(host="127.0.0.1", port=int(emulator.group(1)) + 1)
    match = re.fullmatch(r"\[([0-9a-fA-F:]+)\]:(\d+)|([^:\s]+):(\d+)", text)
    if match:
        host, port = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if not 0 < int(port) < 65536:
            raise ConfigError(f"device port {port} is out of range")
        return Target(host=host, port=int(port))
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}|localhost|[\w-]+(\.[\w-]+)*\.(local|lan|home)", text):
        return Target(host=text)
    return Target(serial=text)


class ConnectionOptions(BaseModel):
    connect_timeout_s: float = Field(default=10.0, gt=0)
    auth_timeout_s: float = Field(default=30.0, gt=0)  # time for the person to tap "Allow" on the phone
    command_timeout_s: float = Field(default=30.0, gt=0)
    reconnect_attempts: int = Field(default=4, ge=0)
    reconnect_delay_s: float = Field(default=0.5, ge=0)  # doubles per attempt, capped at 8 s


class TcpTransport(BaseTransport):
    """adb-shell's TCP transport with TCP_NODELAY and an immediate error when the phone closes the socket
    (adb-shell's own transport spins until its read timeout on EOF)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock: socket.socket | None = None

    def connect(self, transport_timeout_s: float | None) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=transport_timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(True)
        self.sock.settimeout(None)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def bulk_read(self, numbytes: int, transport_timeout_s: float | None) -> bytes:
        if self.sock is None:
            raise ConnectionResetError("not connected")
        readable, _, _ = select.select([self.sock], [], [], transport_timeout_s)
        if not readable:
            raise TcpTimeoutException(f"reading {numbytes} bytes from {self.host}:{self.port} timed out")
        data = self.sock.recv(numbytes)
        if not data:
            raise ConnectionResetError(f"{self.host}:{self.port} closed the connection")
        return data

    def bulk_write(self, data: bytes, transport_timeout_s: float | None) -> int:
        if self.sock is None:
            raise ConnectionResetError("not connected")
        self.sock.settimeout(transport_timeout_s)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(None)
        return len(data)


def _usb_device(serial: str | None, timeout_s: float) -> AdbDevice:
    if importlib.util.find_spec("usb1") is None:
        raise ConfigError(
            "USB needs the optional extra: pip install 'glmv-agent[mobile-usb]' (it brings libusb1); "
            "or connect over the network with --device HOST:PORT"
        )
    from adb_shell.adb_device import AdbDeviceUsb

    try:
        return AdbDeviceUsb(serial=serial, default_transport_timeout_s=timeout_s)
    except Exception as exc:  # noqa: BLE001 - adb-shell raises several types here
        raise DeviceError(usb_message(exc)) from None


def usb_message(exc: BaseException) -> str:
    """One line telling the person what to do about a USB failure."""
    name = type(exc).__name__
    if name == "USBErrorBusy" or "busy" in str(exc).lower():
        return ("the phone's USB interface is held by another program, usually a running adb server: "
                "run `adb kill-server` and try again (or use `adb tcpip 5555` and --device PHONE_IP:5555)")
    if name == "USBErrorAccess":
        return ("no permission to open the phone over USB: add a udev rule for Android devices "
                "(docs/mobile.md) or run as a user in the plugdev group")
    if name in ("UsbDeviceNotFoundError", "USBErrorNoDevice"):
        return ("no phone found on USB: plug it in, enable USB debugging in Developer options and accept the "
                "prompt on the phone, or pass --device HOST:PORT")
    return f"USB connection failed ({name}: {exc})"


def command_name(command: str) -> str:
    """The first two words of a shell command (``am broadcast``, ``input text``): what logs may say about it, since
    its arguments can carry typed text, secrets included."""
    words = command.split()
    return " ".join(words[:2]) + (" ..." if len(words) > 2 else "")


class AdbClient:
    """A connected phone. ``run`` and ``data`` reconnect transparently for read-only commands (``safe``);
    an action whose connection dropped raises StepError after reconnecting, because it may have run."""

    def __init__(self, target: Target, *, key: Path | None = None, options: ConnectionOptions | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.target = target
        self.options = options or ConnectionOptions()
        self.key_path = key_path(key)
        self.signer = AdbSigner(self.key_path)
        self.sleep = sleep
        self.device: AdbDevice | None = None
        self.connect()

    # --- connecting -----------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.close()
        waiting_for_person = False

        def on_auth(_device: object) -> None:
            nonlocal waiting_for_person
            waiting_for_person = True
            log.warning("Allow USB debugging on the phone (%s): tap 'Allow' on the prompt", self.target.describe())

        opts = self.options
        device = (_usb_device(self.target.serial, opts.command_timeout_s) if self.target.usb
                  else AdbDevice(TcpTransport(self.target.host or "", self.target.port), opts.command_timeout_s))
        try:
            device.connect(rsa_keys=[self.signer], transport_timeout_s=opts.connect_timeout_s,
                           auth_timeout_s=opts.auth_timeout_s, read_timeout_s=opts.command_timeout_s,
                           auth_callback=on_auth)
        except DeviceAuthError:
            device.close()
            raise DeviceError(self._auth_message()) from None
        except TRANSPORT_ERRORS as exc:
            device.close()
            if waiting_for_person:
                raise DeviceError(self._auth_message()) from None
            raise DeviceError(self._connect_message(exc)) from None
        except Exception as exc:  # noqa: BLE001 - libusb errors are not importable without the extra
            device.close()
            raise DeviceError(usb_message(exc) if self.target.usb else self._connect_message(exc)) from None
        self.device = device
        log.info("connected to %s", self.target.describe())

    def _auth_message(self) -> str:
        return (f"the phone ({self.target.describe()}) did not accept this computer's ADB key: unlock it, tap "
                f"'Allow' on the 'Allow USB debugging?' prompt (tick 'Always allow') and run again; "
                f"key: {self.key_path}.pub")

    def _connect_message(self, exc: BaseException) -> str:
        where = self.target.describe()
        if self.target.usb:
            return usb_message(exc)
        if "STLS" in str(exc):
            return (f"the phone at {where} wants a TLS connection (the pairing-based 'Wireless debugging' port of "
                    f"Android 11+), which glmv-agent cannot open: connect it by USB once, run `adb tcpip 5555`, "
                    f"then use --device PHONE_IP:5555")
        return (f"cannot connect to the phone at {where} ({type(exc).__name__}: {exc}): check that it is on "
                f"the same network with wireless debugging on (the port changes when it is toggled), or use "
                f"`adb tcpip 5555` over USB first")

    def close(self) -> None:
        if self.device is not None:
            try:
                self.device.close()
            except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                log.debug("closing the ADB connection failed", exc_info=True)
            self.device = None

    def reconnect(self) -> None:
        """Reconnect with exponential backoff; DeviceDisconnected when every attempt fails."""
        delay = self.options.reconnect_delay_s
        last: Exception | None = None
        for attempt in range(1, self.options.reconnect_attempts + 1):
            self.sleep(delay)
            try:
                self.connect()
                log.warning("reconnected to %s (attempt %d)", self.target.describe(), attempt)
                return
            except DeviceError as exc:
                last = exc
                log.info("reconnect attempt %d to %s failed: %s", attempt, self.target.describe(), exc)
            delay = min(8.0, max(delay * 2, 0.1))
        raise DeviceDisconnected(
            f"lost the connection to the phone at {self.target.describe()} and {self.options.reconnect_attempts} "
            f"reconnect attempts failed ({last}); check that it is on, unlocked and reachable, then run again "
            f"(the steps so far are saved in the run folder)"
        )

    # --- commands -------------------------------------------------------------------------------------------
    def _call(self, command: str, call: Callable[[AdbDevice], T], safe: bool) -> T:
        what = command_name(command)  # logs and messages never carry the command's arguments (typed text)
        for attempt in (1, 2):
            if self.device is None:
                self.reconnect()
            assert self.device is not None
            try:
                return call(self.device)
            except TRANSPORT_ERRORS as exc:
                log.warning("ADB connection to %s failed during %r: %s", self.target.describe(), what, exc)
                self.close()
                if attempt == 2:
                    break
                self.reconnect()
                if not safe:
                    raise StepError(
                        "the connection to the phone dropped while running this action and was re-established; "
                        "the action may or may not have happened: check the screen before repeating it"
                    ) from None
        raise DeviceDisconnected(
            f"the phone at {self.target.describe()} keeps dropping the connection (during {what!r})"
        )

    def shell(self, command: str, *, safe: bool = True, timeout_s: float | None = None) -> str:
        """Output (stdout and stderr merged) of ``command`` run by the phone's ``sh -c``."""
        timeout = timeout_s or self.options.command_timeout_s
        return self._call(command, lambda d: d.shell(command, read_timeout_s=timeout, timeout_s=timeout), safe)

    def run(self, command: str, *, safe: bool = True, timeout_s: float | None = None) -> tuple[str, int]:
        """(output, exit status) of ``command``."""
        output = self.shell(f"{command}; echo {RC_MARKER}$?", safe=safe, timeout_s=timeout_s)
        head, marker, tail = output.rpartition(RC_MARKER)
        if not marker:
            return output, -1
        code = tail.strip()
        return head, int(code) if code.isdigit() else -1

    def data(self, command: str, *, timeout_s: float | None = None) -> bytes:
        """Binary stdout of ``command`` through ``exec:`` (no PTY, no newline translation)."""
        timeout = timeout_s or self.options.command_timeout_s
        call: Callable[[AdbDevice], Any] = lambda d: d.exec_out(  # noqa: E731
            command, read_timeout_s=timeout, timeout_s=timeout, decode=False)
        return bytes(self._call(command, call, safe=True))
