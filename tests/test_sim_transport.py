"""The simulated phone speaks real ADB: Debian's `adb` client and adb-shell both talk to it, with and without
authentication."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from adb_shell.adb_device import AdbDeviceTcp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from test_mobile_support import ADB, FAST, RealAdb, free_port, key_fixture

from glmv_agent.environments.android.connection import AdbClient, Target
from glmv_agent.environments.android.keys import AdbSigner, create_key, key_path
from glmv_agent.environments.android.sim.device import SimulatedPhone
from glmv_agent.environments.android.sim.render import render, render_png
from glmv_agent.environments.android.sim.transport import decode_android_pubkey, pack
from glmv_agent.errors import ConfigError, DeviceError

needs_adb = pytest.mark.skipif(ADB is None, reason="Debian's adb client is not installed (apt-get install adb)")


key = key_fixture()


@pytest.fixture
def real_adb(tmp_path: Path) -> Iterator[RealAdb]:
    adb = RealAdb(tmp_path / "home")
    (tmp_path / "home").mkdir()
    try:
        yield adb
    finally:
        adb.close()


@needs_adb
@pytest.mark.adb
def test_real_adb_connects_runs_shell_with_exit_codes_and_pulls_a_valid_png(real_adb: RealAdb, tmp_path: Path) -> None:
    log = tmp_path / "commands.jsonl"
    with SimulatedPhone(port=free_port(), command_log=log) as phone:
        connect = real_adb("connect", phone.serial)
        assert b"connected to" in connect.stdout, connect
        devices = real_adb("devices", "-l").stdout.decode()
        assert phone.serial in devices and "model:GLMV_Simulated_Phone" in devices

        hello = real_adb("-s", phone.serial, "shell", "echo", "hello")
        assert (hello.returncode, hello.stdout) == (0, b"hello\n")
        assert real_adb("-s", phone.serial, "shell", "exit 3").returncode == 3
        assert real_adb("-s", phone.serial, "shell", "false").returncode == 1
        missing = real_adb("-s", phone.serial, "shell", "no-such-program")
        assert missing.returncode == 127 and b"not found" in missing.stderr

        typed = real_adb("-s", phone.serial, "shell", "input text 'a%sb'")
        assert typed.returncode == 0

        shot = real_adb("-s", phone.serial, "exec-out", "screencap", "-p")
        assert shot.returncode == 0 and shot.stdout.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(shot.stdout))
        assert image.size == (1080, 2400)
        assert image.convert("RGB").tobytes() == render(phone.phone).tobytes()

    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert any(r["command"] == "input text 'a%sb'" and r["text"] == ["a b"] for r in records)
    assert any(r["service"] == "exec" and r["command"].startswith("screencap") for r in records)


@needs_adb
@pytest.mark.adb
def test_real_adb_authenticates_when_the_phone_accepts_new_keys(real_adb: RealAdb, tmp_path: Path) -> None:
    with SimulatedPhone(port=free_port(), auth="accept") as phone:
        real_adb("connect", phone.serial)  # adb reports "failed to authenticate" while the prompt would show
        result = real_adb("-s", phone.serial, "shell", "echo", "authed")
        assert (result.returncode, result.stdout) == (0, b"authed\n")
        assert (tmp_path / "home" / ".android" / "adbkey").is_file()  # the client's own key was offered
        assert len(phone.server.auth.authorized) == 1


def test_adb_shell_without_auth(key: Path) -> None:
    with SimulatedPhone() as phone:
        device = AdbDeviceTcp("127.0.0.1", phone.port, default_transport_timeout_s=5)
        assert device.connect(auth_timeout_s=1)
        assert device.shell("echo one; echo two") == "one\ntwo\n"
        png = device.exec_out("screencap -p", decode=False)
        assert Image.open(io.BytesIO(png)).size == (1080, 2400)
        device.close()


def test_adb_shell_with_auth_signs_with_a_key_the_phone_already_trusts(key: Path) -> None:
    public = key.with_name(key.name + ".pub")
    with SimulatedPhone(auth="refuse", authorized_keys=[public]) as phone:
        device = AdbDeviceTcp("127.0.0.1", phone.port, default_transport_timeout_s=5)
        assert device.connect(rsa_keys=[AdbSigner(key)], auth_timeout_s=1)  # signature verified, no prompt
        assert device.shell("echo ok") == "ok\n"
        device.close()


def test_a_key_we_create_is_private_and_the_phone_accepts_then_remembers_it(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: a plain open() would leave the key readable by everyone
    try:
        key = key_path(tmp_path / "keys" / "adbkey")  # --adb-key naming a file that does not exist yet
    finally:
        os.umask(previous)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with SimulatedPhone(auth="accept") as phone:  # sim-device --auth accept: a new key is allowed
        AdbClient(Target(host="127.0.0.1", port=phone.port), key=key, options=FAST).close()
        assert len(phone.server.auth.authorized) == 1
        offered = decode_android_pubkey(key.with_name("adbkey.pub").read_bytes())  # the phone's own decoding
        assert phone.server.auth.authorized[0].public_numbers() == offered.public_numbers()
        client = AdbClient(Target(host="127.0.0.1", port=phone.port), key=key, options=FAST)
        assert len(phone.server.auth.authorized) == 1  # the second time the signature was enough
        assert client.run("echo hi") == ("hi\n", 0)
        client.close()


@pytest.mark.parametrize(("content", "message"), [
    (b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "cannot use the ADB key"),
    (ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
     "is not a 2048-bit RSA key"),
])
def test_an_unusable_key_file_is_one_config_error_line(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "adbkey"
    bad.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        AdbClient(Target(host="127.0.0.1", port=free_port()), key=bad, options=FAST)
    text = str(caught.value)
    assert "\n" not in text and message in text and str(bad) in text and "--adb-key" in text


def test_a_key_without_its_pub_file_gets_the_same_public_key_written(key: Path, tmp_path: Path) -> None:
    alone = tmp_path / "adbkey"
    alone.write_bytes(key.read_bytes())
    AdbSigner(alone)
    written = alone.with_name("adbkey.pub").read_bytes()
    assert written.split()[0] == key.with_name("adbkey.pub").read_bytes().split()[0]


def test_refused_key_gives_one_line_telling_what_to_do(key: Path) -> None:
    with SimulatedPhone(auth="refuse") as phone:
        with pytest.raises(DeviceError) as caught:
            AdbClient(Target(host="127.0.0.1", port=phone.port), key=key, options=FAST)
    message = str(caught.value)
    assert "\n" not in message
    assert "Allow" in message and str(key) in message


def test_unreachable_phone_gives_one_line_telling_what_to_do(key: Path) -> None:
    with pytest.raises(DeviceError) as caught:
        AdbClient(Target(host="127.0.0.1", port=free_port()), key=key, options=FAST)
    assert "\n" not in str(caught.value) and "wireless debugging" in str(caught.value)


def test_tls_only_port_gets_a_clear_instruction(key: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_with_stls() -> None:
        connection, _ = server.accept()
        connection.recv(4096)  # the client's CNXN
        connection.sendall(pack(0x534C5453, 0x01000000, 0))  # STLS: "switch to TLS", as Android 11+ ports do
        connection.recv(4096)
        connection.close()

    thread = threading.Thread(target=answer_with_stls, daemon=True)
    thread.start()
    with pytest.raises(DeviceError, match="adb tcpip 5555"):
        AdbClient(Target(host="127.0.0.1", port=port), key=key, options=FAST)
    server.close()


def test_key_is_created_once_in_the_config_dir_and_adb_keys_are_reused(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    first = key_path()
    assert first == tmp_path / ".config" / "glmv-agent" / "adbkey"
    content = first.read_bytes()
    assert oct(first.stat().st_mode & 0o777) == "0o600"
    assert key_path() == first and first.read_bytes() == content  # created once
    android = tmp_path / ".android" / "adbkey"
    create_key(android)
    assert key_path() == android  # the Android tools' key wins when present: the phone already trusts it


def test_exec_returns_binary_output_intact(key: Path) -> None:
    with SimulatedPhone() as phone:
        client = AdbClient(Target(host="127.0.0.1", port=phone.port), key=key, options=FAST)
        assert client.data("screencap -p") == render_png(phone.phone)  # PNG bytes include \r\n: no translation
        client.close()
