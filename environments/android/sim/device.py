"""A simulated Android phone on a TCP port: try the agent without a phone, and test against real ADB clients.

It speaks the ADB transport (see sim_transport), runs each shell/exec command through a small `sh -c`
(sim_shell) whose programs act on a screen model (sim_commands, sim_screen) rendered by sim_render. Every command
is logged (in memory and, optionally, as JSONL: the raw command string and the text it delivered, decoded).

    with SimulatedPhone(size=(1080, 2400)) as phone:
        env = MobileEnvironment(MobileConfig(device=phone.serial))
        ...
        assert phone.state.field_text == "hello"
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from pydantic import BaseModel

from .commands import Programs
from .screen import Phone, PhoneState
from .shell import Shell
from .traits import PhoneTraits
from .transport import AdbServer, AuthPolicy, ServiceResult, decode_android_pubkey

log = logging.getLogger(__name__)


class CommandRecord(BaseModel):
    """One command the phone received (a line of the command log)."""

    time: float
    service: str  # shell | exec
    command: str  # exactly as it arrived
    text: list[str]  # text the command delivered to the phone, decoded (input text %s rules, base64)
    exit_code: int
    dropped: bool = False  # the connection was dropped instead of running it


class SimulatedPhone:
    """A phone model behind an ADB server. Not a security boundary: listen on 127.0.0.1 unless you mean it."""

    def __init__(
        self,
        size: tuple[int, int] = (1080, 2400),
        *,
        rotation: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        adb_keyboard: bool = False,
        auth: str = "none",
        authorized_keys: list[Path] | None = None,
        command_log: Path | None = None,
    ) -> None:
        if auth not in ("none", "accept", "refuse"):
            raise ValueError(f"auth must be none, accept or refuse, got {auth!r}")
        self.phone = Phone(size, rotation=rotation, adb_keyboard=adb_keyboard)
        self.programs = Programs(self.phone)
        self.shell = Shell(self.programs)
        keys = [decode_android_pubkey(Path(p).read_bytes()) for p in authorized_keys or []]
        self.server = AdbServer(self.handle, host=host, port=port, auth=AuthPolicy(auth, keys))
        self.records: list[CommandRecord] = []
        self.command_log = command_log
        self._lock = threading.Lock()
        self._drop_at: int | None = None
        self._down_for = 0.0
        self._log_file = command_log.open("a", encoding="utf-8") if command_log else None

    def with_traits(self, traits: PhoneTraits) -> SimulatedPhone:
        """This phone with ``traits`` (a second display, slow app launches): ``SimulatedPhone().with_traits(...)``."""
        self.phone.set_traits(traits)
        return self

    # --- lifecycle ------------------------------------------------------------------------------------------
    @property
    def serial(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def state(self) -> PhoneState:
        return self.phone.state

    def start(self) -> SimulatedPhone:
        self.server.start()
        log.info("simulated phone listening on %s", self.serial)
        return self

    def stop(self) -> None:
        self.server.stop()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> SimulatedPhone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults ---------------------------------------------------------------------------------------------
    def drop(self, down_for: float = 0.0) -> None:
        """Drop every connection now and refuse new ones for ``down_for`` seconds (``float('inf')``: until
        :meth:`restore`)."""
        self.server.drop(down_for)

    def drop_at(self, command_number: int, down_for: float = 0.0) -> None:
        """Instead of running the ``command_number``-th command from now (1 = the next one), drop the connection
        (the command never runs) and stay away for ``down_for`` seconds."""
        with self._lock:
            self._drop_at = len(self.records) + command_number
            self._down_for = down_for

    def restore(self) -> None:
        self.server.restore()

    # --- commands -------------------------------------------------------------------------------------------
    def handle(self, service: str, command: str) -> ServiceResult:
        with self._lock:
            if self._drop_at is not None and len(self.records) + 1 >= self._drop_at:
                self._drop_at = None
                self._record(service, command, [], -1, dropped=True)
                self.server.drop(self._down_for)
                return ServiceResult(exit_code=255)
            self.programs.decoded = []
            result = self.shell.run(command)
            self._record(service, command, list(self.programs.decoded), result.exit_code)
            return result

    def _record(self, service: str, command: str, text: list[str], code: int, dropped: bool = False) -> None:
        record = CommandRecord(time=time.time(), service=service, command=command, text=text, exit_code=code,
                               dropped=dropped)
        self.records.append(record)
        if self._log_file is not None:
            self._log_file.write(json.dumps(record.model_dump(), ensure_ascii=False) + "\n")
            self._log_file.flush()

    def commands(self) -> list[str]:
        """Raw command strings received so far."""
        with self._lock:
            return [r.command for r in self.records]

