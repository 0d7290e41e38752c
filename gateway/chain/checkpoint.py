"""Signed checkpoints of the evidence log: C2SP ``tlog-checkpoint`` in a ``signed-note``.

A checkpoint says, under the log's Ed25519 key, "the log named ORIGIN held SIZE records
and the Merkle tree over them has ROOT". Its text is the one Go's checksum database and
Sigstore's logs use (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note,
golang.org/x/mod/sumdb/note)::

    contact-gateway.example.org/evidence
    1234
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
    time 2026-12-06T10:00:00Z

    — contact-gateway.example.org/evidence Az3grlgt...

* the note text: the origin, the tree size in decimal (no leading zeros), the root hash
  in standard base64, then extension lines (here one: ``time`` and the UTC instant it
  was made); every line ends in a newline;
* a blank line, then signature lines: an em dash (U+2014), a space, the key name, a
  space, and base64 of the 4-byte key ID followed by the Ed25519 signature of the note
  text (every byte of it, the final newline included);
* key ID = the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key);
* the public key is published as a verifier key ``<name>+<key ID in 8 hex
  digits>+<base64(0x01 || public key)>`` (Go's ``note.NewVerifier`` reads it).

Pure: text in, text or values out; the private key is a ``cryptography`` object the
caller loaded (``gateway.chain.signing_key``). Every error says what is wrong in words.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

# The cryptography bindings cost about 9 MB of memory: they are loaded only when a
# key is used (to sign, load, make or check one), not by a gateway that never signs.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
SIGNATURE_PREFIX = EM_DASH + " "
TIME_EXTENSION = "time "
# Go's note.Open refuses more than 100 signatures; the spec asks for at least 16.
MAX_SIGNATURES = 100
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_HEX8 = re.compile(r"^[0-9a-f]{8}$")


class CheckpointError(ValueError):
    """A checkpoint, note or verifier key that cannot be read or is not signed as it
    should be; the message says what is wrong."""


def _b64decode(text: str, what: str) -> bytes:
    if not text:
        raise CheckpointError(f"{what} is empty")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not standard base64") from None


def valid_key_name(name: str) -> bool:
    """Key names are non-empty, with no Unicode space and no ``+`` (signed-note)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 key under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A log's public key as published: name, key ID and the 32-byte Ed25519 key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def of(cls, name: str, public_key: Ed25519PublicKey | bytes) -> VerifierKey:
        if isinstance(public_key, bytes):
            raw = public_key
        else:
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        if not valid_key_name(name):
            raise CheckpointError(f"'{name}' is not a key name (no spaces, no '+', not empty)")
        if len(raw) != 32:
            raise CheckpointError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
        return cls(name, key_id(name, raw), raw)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read ``<name>+<hex key ID>+<base64(0x01 || key)>`` (Go's verifier key)."""
        text = text.strip()
        name, sep1, rest = text.partition("+")
        id_hex, sep2, key_b64 = rest.partition("+")
        if not (sep1 and sep2) or not valid_key_name(name):
            raise CheckpointError(
                f"'{text[:80]}' is not a verifier key like "
                "example.org/evidence+1a2b3c4d+AU5o... (name, key ID, key)"
            )
        if not _HEX8.match(id_hex):
            raise CheckpointError(f"the verifier key's ID '{id_hex}' is not 8 hex digits")
        key = _b64decode(key_b64, "the verifier key's public key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise CheckpointError(
                "the verifier key is not an Ed25519 key (0x01 and 32 bytes, in base64)"
            )
        found = cls.of(name, key[1:])
        if found.key_id.hex() != id_hex:
            raise CheckpointError(
                f"the verifier key's ID {id_hex} does not match its name and key "
                f"(they give {found.key_id.hex()}): it has been mistyped or altered"
            )
        return found

    def text(self) -> str:
        key = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name and ID, and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """A signed note split into its text (ending in a newline) and its signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]


def parse_note(message: str) -> Note:
    """Split a signed note; ``CheckpointError`` naming what is malformed."""
    for char in message:
        if ord(char) < 0x20 and char != "\n":
            raise CheckpointError(
                f"it holds the control character U+{ord(char):04X} (a signed note holds "
                "none but newlines; was it saved with Windows line endings?)"
            )
    cut = message.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("it has no blank line between the text and the signatures")
    text, block = message[: cut + 1], message[cut + 2 :]
    if not block:
        raise CheckpointError("it has no signature lines after the blank line")
    if not block.endswith("\n"):
        raise CheckpointError("its last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"it has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(
                f"signature line {number} does not start with an em dash (—) and a space: "
                f"'{line[:60]}'"
            )
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not valid_key_name(name) or " " in encoded:
            raise CheckpointError(
                f"signature line {number} is not '— <key name> <base64 signature>'"
            )
        raw = _b64decode(encoded, f"signature line {number}'s signature")
        if len(raw) < 5:
            raise CheckpointError(f"signature line {number}'s signature is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """``text`` (ending in a newline) signed with ``private_key`` under ``name``."""
    if not text.endswith("\n") or text.endswith("\n\n"):
        raise CheckpointError("a note's text ends with one newline")
    verifier = VerifierKey.of(name, private_key.public_key())
    signature = NoteSignature(name, verifier.key_id, private_key.sign(text.encode()))
    return text + "\n" + signature.line()


def open_note(message: str, key: VerifierKey) -> str:
    """The text of ``message`` once ``key``'s signature on it verifies.

    As the spec asks: signatures by other keys (another name or ID) are ignored; a
    signature by ``key`` that fails rejects the note; no signature by ``key`` rejects it.
    """
    note = parse_note(message)
    mine = [s for s in note.signatures if s.name == key.name and s.key_id == key.key_id]
    if not mine:
        found = describe_keys(note.signatures)
        raise CheckpointError(
            f"it is not signed by the key {key.name}+{key.key_id.hex()} (it is signed by "
            f"{found}): a different key signed it"
        )
    for signature in mine:
        if not key.verifies(note.text.encode(), signature.signature):
            raise CheckpointError(
                f"its signature by {key.name}+{key.key_id.hex()} does not verify: "
                "the text was altered after it was signed, or the signature is forged"
            )
    return note.text


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size, its Merkle root, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @classmethod
    def at(cls, origin: str, size: int, root: bytes, made_at: datetime) -> Checkpoint:
        """A checkpoint carrying the instant it was made as a ``time`` extension line."""
        stamp = made_at.astimezone(UTC).strftime(_TIME_FORMAT)
        return cls(origin, size, root, (TIME_EXTENSION + stamp,))

    def text(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("a checkpoint's origin is one non-empty line")
        if self.size < 0 or len(self.root) != 32:
            raise CheckpointError("a checkpoint has a size of zero or more and a 32-byte root")
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in (*lines, *self.extensions))

    @property
    def made_at(self) -> datetime | None:
        """The ``time`` extension's instant, if the checkpoint has one."""
        for line in self.extensions:
            if line.startswith(TIME_EXTENSION):
                try:
                    stamp = datetime.strptime(line[len(TIME_EXTENSION) :], _TIME_FORMAT)
                except ValueError:
                    return None
                return stamp.replace(tzinfo=UTC)
        return None

    def sign(self, name: str, private_key: Ed25519PrivateKey) -> str:
        return sign_note(self.text(), name, private_key)


def parse_checkpoint_text(text: str) -> Checkpoint:
    """The checkpoint a note's text holds (not its signatures); ``CheckpointError``
    naming the line that is wrong."""
    if not text.endswith("\n"):
        raise CheckpointError("its text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(
            f"its text has {len(lines)} line{'s' if len(lines) != 1 else ''}; a checkpoint "
            "has at least three (origin, tree size, root hash)"
        )
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("its first line (the origin) is empty")
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (size_text != "0" and size_text.startswith("0"))
    ):
        raise CheckpointError(
            f"its second line '{size_text[:40]}' is not a tree size (a decimal number "
            "without leading zeros)"
        )
    root = _b64decode(root_text, f"its third line (the root hash) '{root_text[:60]}'")
    if len(root) != 32:
        raise CheckpointError(
            f"its third line holds {len(root)} bytes, not the 32 of a SHA-256 root hash"
        )
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise CheckpointError(f"its line {number} is empty (extension lines are not)")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(message: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint in ``message``, once its signature by ``key`` verifies and its
    origin is the key's name (a log signs its own checkpoints under its origin)."""
    checkpoint = parse_checkpoint_text(open_note(message, key))
    if checkpoint.origin != key.name:
        raise CheckpointError(
            f"it is the checkpoint of the log '{checkpoint.origin}', not of '{key.name}'"
        )
    return checkpoint


def read_checkpoint_unverified(message: str) -> Checkpoint:
    """The checkpoint in ``message`` without checking any signature (for listing)."""
    return parse_checkpoint_text(parse_note(message).text)


def signed_checkpoint(
    origin: str, size: int, root: bytes, made_at: datetime, private_key: Ed25519PrivateKey
) -> str:
    """The whole signed checkpoint text, signed under ``origin`` as the key name."""
    return Checkpoint.at(origin, size, root, made_at).sign(origin, private_key)


def describe_keys(signatures: Sequence[NoteSignature]) -> str:
    return ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
