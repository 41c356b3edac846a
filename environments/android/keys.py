"""The RSA key this computer shows the phone: ``--adb-key PATH``, else ``~/.android/adbkey`` when the Android
tools already made one (the phone then trusts us as it trusts `adb`), else ``~/.config/glmv-agent/adbkey``,
created once. Generation, Android's public-key encoding (``PATH.pub``: base64 RSAPublicKey struct, then
`` user@host``) and signing are adb-shell's (``adb_shell.auth``); this module picks the path and turns bad key
files into one-line ConfigErrors.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from adb_shell.auth.keygen import keygen, write_public_keyfile
from adb_shell.auth.sign_cryptography import CryptographySigner
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from glmv_agent.errors import ConfigError

log = logging.getLogger(__name__)


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


def create_key(path: Path) -> None:
    """Write a new 2048-bit key (PKCS#8 PEM, mode 0600) and its ``.pub`` with adb-shell's ``keygen``.

    The file is made empty with mode 0600 first, so the key is never readable by others. Raises ConfigError when
    ``path`` already exists or cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(descriptor, 0o600)  # the umask may have taken the owner's bits too
        os.close(descriptor)
        keygen(str(path))  # opens with "wb": truncates our file and keeps its mode
    except OSError as exc:
        raise ConfigError(f"cannot create the ADB key {path}: {exc}") from None
    log.info("created an ADB key at %s (the phone asks once to allow it)", path)


class AdbSigner(CryptographySigner):  # type: ignore[misc]  # adb-shell is untyped
    """adb-shell's signer (``Sign``/``GetPublicKey``) for ``path`` and ``path.pub``; a missing ``.pub`` is
    written from the private key. Raises ConfigError (one line) for a key file that cannot be used."""

    def __init__(self, path: Path) -> None:
        public = path.with_name(path.name + ".pub")
        wrong_kind = f"the ADB key {path} is not a 2048-bit RSA key (pass another with --adb-key)"
        try:
            if not public.is_file():
                write_public_keyfile(str(path), str(public))
            super().__init__(str(path))
        except (AttributeError, OverflowError):  # adb-shell's encoder given a non-RSA or a larger key
            raise ConfigError(wrong_kind) from None
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:  # unreadable, not PEM, encrypted
            raise ConfigError(f"cannot use the ADB key {path}: {exc} (pass another with --adb-key)") from None
        if not isinstance(self.rsa_key, rsa.RSAPrivateKey) or self.rsa_key.key_size != 2048:
            raise ConfigError(wrong_kind)
