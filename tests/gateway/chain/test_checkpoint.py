"""Signed checkpoints (``gateway.chain.checkpoint``): the exact text of C2SP's
tlog-checkpoint and signed-note, checked against Go's own note package's test vectors,
and every way a checkpoint file can be wrong named in words."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from gateway.chain.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    open_checkpoint,
    open_note,
    parse_note,
    read_checkpoint_unverified,
    sign_note,
    signed_checkpoint,
)
from gateway.chain.signing_key import (
    SigningKeyError,
    create_key_file,
    load_signing_key,
    verifier_key_for,
)

# From golang.org/x/mod/sumdb/note/note_test.go (TestSign, TestOpen, TestNewVerifier).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox3"
    "3WWd1RvMc+QQ=\n"
)


def go_signer() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[-1])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_go_vector_sign_gives_byte_for_byte_the_same_note() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", go_signer()) == GO_TEXT + "\n" + GO_PETER_SIG


def test_go_vector_verifier_key_and_key_id() -> None:
    key = VerifierKey.parse(GO_VKEY)
    assert key.name == "PeterNeumann" and key.key_id.hex() == "c74f20a3"
    assert key.text() == GO_VKEY
    assert verifier_key_for("PeterNeumann", go_signer()).text() == GO_VKEY


def test_go_vector_open_ignores_unknown_signatures() -> None:
    message = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    assert open_note(message, VerifierKey.parse(GO_VKEY)) == GO_TEXT
    assert open_note(message, VerifierKey.parse(GO_ENOCH_VKEY)) == GO_TEXT


def test_go_vector_corrupted_signature_rejected() -> None:
    bad = GO_TEXT + "\n" + GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(bad, VerifierKey.parse(GO_VKEY))


@pytest.mark.parametrize(
    "text",
    [
        GO_VKEY[:-1],
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        GO_VKEY.replace("PeterNeumann", "PeterNeuman"),
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "no-plus-signs-at-all",
    ],
)
def test_mangled_verifier_keys_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        VerifierKey.parse(text)


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        GO_TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF\n",
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
    ],
)
def test_go_malformed_notes_refused(message: str) -> None:
    with pytest.raises(CheckpointError):
        parse_note(message)


NOW = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
ORIGIN = "gateway.example.org/evidence"


def test_checkpoint_text_is_the_c2sp_format() -> None:
    key = Ed25519PrivateKey.generate()
    root = bytes(range(32))
    signed = signed_checkpoint(ORIGIN, 20852163, root, NOW, key)
    body, _, signature = signed.partition("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        "20852163",
        base64.b64encode(root).decode(),
        "time 2026-12-06T10:00:00Z",
    ]
    assert signature.startswith(f"— {ORIGIN} ") and signature.endswith("\n")
    raw = base64.b64decode(signature.split(" ")[-1])
    assert len(raw) == 4 + 64
    assert raw[:4] == verifier_key_for(ORIGIN, key).key_id
    opened = open_checkpoint(signed, verifier_key_for(ORIGIN, key))
    assert (opened.size, opened.root, opened.made_at) == (20852163, root, NOW)
    assert read_checkpoint_unverified(signed) == opened


def test_c2sp_example_checkpoint_parses() -> None:
    example = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
        "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    )
    checkpoint = read_checkpoint_unverified(example)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163 and checkpoint.extensions == ()


def _signed(text: str, key: Ed25519PrivateKey) -> str:
    return sign_note(text, ORIGIN, key)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"{ORIGIN}\n12\n", "has 2 lines"),
        (f"{ORIGIN}\n012\n{'A' * 43}=\n", "not a tree size"),
        (f"{ORIGIN}\n-1\n{'A' * 43}=\n", "not a tree size"),
        (f"{ORIGIN}\n12\nnot*base64\n", "root hash"),
        (f"{ORIGIN}\n12\n{base64.b64encode(b'short').decode()}\n", "not the 32"),
        (f"{ORIGIN}\n12\n{'A' * 43}=\n\ntime x\n", "no blank line|line 4 is empty"),
        (f"other.example/log\n12\n{'A' * 43}=\n", "log 'other.example/log'"),
    ],
)
def test_bad_checkpoint_bodies_named(text: str, words: str) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError, match=words):
        open_checkpoint(_signed(text, key), verifier_key_for(ORIGIN, key))


def test_another_key_named_in_the_refusal() -> None:
    signed = signed_checkpoint(ORIGIN, 3, bytes(32), NOW, Ed25519PrivateKey.generate())
    other = verifier_key_for(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match=r"not signed by the key .*a different key"):
        open_checkpoint(signed, other)


def test_altered_size_fails_the_signature() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_checkpoint(ORIGIN, 3, bytes(32), NOW, key)
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(signed.replace("\n3\n", "\n2\n", 1), verifier_key_for(ORIGIN, key))


def test_crlf_named() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_checkpoint(ORIGIN, 3, bytes(32), NOW, key).replace("\n", "\r\n")
    with pytest.raises(CheckpointError, match="Windows line endings"):
        open_checkpoint(signed, verifier_key_for(ORIGIN, key))


def test_checkpoint_round_trip_without_time() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, bytes(32))
    key = Ed25519PrivateKey.generate()
    opened = open_checkpoint(checkpoint.sign(ORIGIN, key), verifier_key_for(ORIGIN, key))
    assert opened == checkpoint and opened.made_at is None


def test_key_file_created_0600_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "evidence.key"
    key = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_signing_key(path)
    assert verifier_key_for(ORIGIN, loaded) == verifier_key_for(ORIGIN, key)
    before = path.read_bytes()
    with pytest.raises(SigningKeyError, match="already exists"):
        create_key_file(path)
    assert path.read_bytes() == before


def test_key_file_problems_named(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="does not exist"):
        load_signing_key(tmp_path / "absent.key")
    open_key = tmp_path / "open.key"
    create_key_file(open_key)
    os.chmod(open_key, 0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_signing_key(open_key)
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"not a key")
    os.chmod(garbage, 0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM"):
        load_signing_key(garbage)
    rsa = tmp_path / "rsa.key"
    rsa.write_bytes(
        generate_private_key(65537, 2048).private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    os.chmod(rsa, 0o600)
    with pytest.raises(SigningKeyError, match="not an Ed25519 key"):
        load_signing_key(rsa)


def test_a_gateway_that_never_signs_does_not_load_the_cryptography_bindings() -> None:
    """They cost about 9 MB of memory (bench/memory.py's 200 MB target): loaded only when
    a key is used."""
    import subprocess
    import sys

    probe = (
        "import sys, gateway.app, gateway.cli.main\n"
        "print(sorted(m for m in sys.modules if m.startswith('cryptography.hazmat')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
