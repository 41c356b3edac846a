"""Helpers shared by the phone tests (no tests here): a simulated phone on a free port, an environment connected
to it with a session key, the real `adb` client with a private server port and HOME."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glmv_agent.agent import Agent, AgentConfig, EpisodeResult
from glmv_agent.backends.openai_backend import EndpointConfig, OpenAIBackend
from glmv_agent.environments.android.connection import ConnectionOptions
from glmv_agent.environments.android.environment import MobileConfig, MobileEnvironment
from glmv_agent.environments.android.keys import create_key
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.profiles import get_profile

ADB = shutil.which("adb")
FAST = ConnectionOptions(connect_timeout_s=2, auth_timeout_s=2, command_timeout_s=10, reconnect_attempts=3,
                         reconnect_delay_s=0.05)


def free_port() -> int:
    """A free TCP port outside 5555-5585 (a running adb server takes those for emulators)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not 5555 <= port <= 5585:
            return port


def key_fixture() -> Any:
    """A module-scoped pytest fixture ``key``: the path of a fresh ADB key pair for the simulated phones.

    pytest is imported here, not at the top, so the benchmarks can use this module without it.
    """
    import pytest

    @pytest.fixture(scope="module", name="key")
    def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
        path = tmp_path_factory.mktemp("keys") / "adbkey"
        create_key(path)
        return path

    return key


def make_env(phone: SimulatedPhone, key: Path, **options: object) -> MobileEnvironment:
    config = MobileConfig(device=phone.serial, adb_key=key, connection=FAST, ime_switch_delay_s=0.0,
                          focus_delay_s=0.0, wait_seconds=0.0, **options)  # type: ignore[arg-type]
    return MobileEnvironment(config, sleep=lambda _s: None)


def autoglm_run(phone: SimulatedPhone, key: Path, base_url: str, task: str, run_dir: Path,
                max_steps: int) -> EpisodeResult:
    """The English AutoGLM-Phone agent on ``phone`` against the endpoint at ``base_url`` (no retries), run on
    ``task``."""
    env = make_env(phone, key)
    try:
        backend = OpenAIBackend(EndpointConfig(base_url=base_url, model="autoglm", max_retries=0))
        agent = Agent(get_profile("autoglm-phone/mobile", lang="en"), backend, env,
                      AgentConfig(max_steps=max_steps, run_dir=run_dir, write_report=False))
        return agent.run(task)
    finally:
        env.close()


def timed_env(phone: SimulatedPhone, key: Path, **options: object) -> MobileEnvironment:
    """Like make_env, but with real sleeps and delays: for tests of timings."""
    config = MobileConfig(device=phone.serial, adb_key=key, connection=FAST, **options)  # type: ignore[arg-type]
    return MobileEnvironment(config)


@contextmanager
def phone_and_env(key: Path, size: tuple[int, int] = (1080, 2400), rotation: int = 0, adb_keyboard: bool = False,
                  **options: object) -> Iterator[tuple[SimulatedPhone, MobileEnvironment]]:
    with SimulatedPhone(size, rotation=rotation, adb_keyboard=adb_keyboard) as phone:
        env = make_env(phone, key, **options)
        try:
            yield phone, env
        finally:
            env.close()


class RealAdb:
    """Debian's `adb` with its own server port and HOME; `kill-server` on close."""

    def __init__(self, home: Path) -> None:
        assert ADB is not None
        self.env = {**os.environ, "HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(free_port())}
        self.env.pop("ANDROID_SERIAL", None)

    def __call__(self, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([ADB, *args], env=self.env, capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, check=False)

    def close(self) -> None:
        self("kill-server")
