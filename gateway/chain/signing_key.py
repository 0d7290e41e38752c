"""The evidence log's signing key: an Ed25519 private key in a PEM file only its owner reads.

``contact-gateway evidence key new`` writes one (``create_key_file``, mode 0600, never
over an existing file); the gateway and ``evidence checkpoint`` load it with
``load_signing_key``, which says in one line what is wrong with a file it cannot use.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.chain.checkpoint import VerifierKey

# The cryptography bindings cost about 9 MB of memory: they are loaded only when a
# key is used (to sign, load, make or check one), not by a gateway that never signs.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class SigningKeyError(Exception):
    """The signing key file is missing, unreadable, too open or not an Ed25519 key."""


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"the evidence signing key {path} does not exist (create one with "
            "'contact-gateway evidence key new')"
        ) from None
    except IsADirectoryError:
        raise SigningKeyError(f"the evidence signing key {path} is a directory") from None
    except OSError as exc:
        raise SigningKeyError(
            f"the evidence signing key {path} cannot be read: {exc.strerror}"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"the evidence signing key {path} can be read by others (mode "
            f"{stat.S_IMODE(mode):04o}); make it readable by its owner only: chmod 600 {path}"
        )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"the evidence signing key {path} is not an unencrypted PEM private key ({exc})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"the evidence signing key {path} is a {type(key).__name__.removeprefix('_')}, "
            "not an Ed25519 key"
        )
    return key


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key written to ``path`` (mode 0600); refuses an existing file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(
            f"{path} already exists: a signing key is never overwritten (checkpoints "
            "signed with it could no longer be checked); choose another file"
        ) from None
    except OSError as exc:
        raise SigningKeyError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key


def verifier_key_for(name: str, key: Ed25519PrivateKey) -> VerifierKey:
    """The verifier key to publish for ``key`` under the log's name."""
    return VerifierKey.of(name, key.public_key())
