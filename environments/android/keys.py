"""The RSA key this computer shows the phone: ``--adb-key PATH``, else ``~/.android/adbkey`` when the Android
tools already made one (the phone then trusts us as it trusts `adb`), else ``~/.config/glmv-agent/adbkey``,
created once. ADB signs the 20-byte AUTH token as a prehashed SHA-1 with PKCS#1 v1.5 and sends its public key in
Android's RSAPublicKey struct (base64, then `` user@host``).
"""

from __future__ import annotations

import base64
import getpass
import logging
import os
import socket
import struct
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from glmv_agent.errors import ConfigError

log = logging.getLogger(__name__)
MODULUS_BYTES = 256  # Android's struct holds 2048-bit keys


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "glmv-agent"


def key_path(explicit: Path | None = None) -> Path:
    """The private key file to use, created when ``explicit`` or our own default does not exist yet."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            create_key(path)
        return path
    android = Path.home() / ".android" / "adbkey"
    if android.is_file():
        return android
    ours = config_dir() / "adbkey"
    if not ours.is_file():
        create_key(ours)
    return ours


def android_public_key(key: rsa.RSAPublicKey) -> bytes:
    """Android's RSAPublicKey struct: words, n0inv, modulus and R^2 (little-endian), exponent."""
    numbers = key.public_numbers()
    if numbers.n.bit_length() > MODULUS_BYTES * 8:
        raise ConfigError(f"ADB keys must be 2048-bit RSA; this one has {numbers.n.bit_length()} bits")
    n0inv = (-pow(numbers.n, -1, 1 << 32)) % (1 << 32)
    rr = pow(2, MODULUS_BYTES * 8 * 2, numbers.n)
    return struct.pack(
        f"<II{MODULUS_BYTES}s{MODULUS_BYTES}sI", MODULUS_BYTES // 4, n0inv,
        numbers.n.to_bytes(MODULUS_BYTES, "little"), rr.to_bytes(MODULUS_BYTES, "little"), numbers.e,
    )


def _user_host() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "glmv-agent"
    return f"{user}@{socket.gethostname()}"


def create_key(path: Path) -> None:
    """Write a new 2048-bit key (PKCS#8 PEM, mode 0600) and its ``.pub`` in the format `adb` uses."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = base64.b64encode(android_public_key(key.public_key())) + f" {_user_host()}\n".encode()
    path.with_name(path.name + ".pub").write_bytes(public)
    log.info("created an ADB key at %s (the phone asks once to allow it)", path)


class AdbSigner:
    """The signer adb-shell calls during AUTH (its ``Sign``/``GetPublicKey`` interface)."""

    def __init__(self, path: Path) -> None:
        try:
            loaded = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as exc:
            raise ConfigError(f"cannot use the ADB key {path}: {exc} (pass another with --adb-key)") from None
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ConfigError(f"the ADB key {path} is not an RSA key (pass another with --adb-key)")
        self.key = loaded
        self.public = base64.b64encode(android_public_key(loaded.public_key())) + f" {_user_host()}".encode()

    def Sign(self, data: bytes) -> bytes:  # noqa: N802 - adb-shell's interface
        return self.key.sign(data, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))

    def GetPublicKey(self) -> bytes:  # noqa: N802 - adb-shell's interface
        return self.public
