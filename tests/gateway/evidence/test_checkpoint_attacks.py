"""What a signed, witnessed checkpoint catches that the hash chain cannot.

Someone with the database (but not the signing key) rewrites history after a checkpoint
was made and a witness kept its copy: (a) cuts off the tail and moves the head back,
(b) changes a record and re-hashes everything after it, (c) deletes a record and
re-hashes, (d) does (b), then signs new checkpoints with a key of their own and puts them
in the checkpoint directory in place of the real ones. The chain check passes in (a) to
(c) — that is why checkpoints matter — but ``evidence verify --checkpoint <the witness's
copy>`` fails naming it, and ``docs/verify_export.py`` fails on an export made after.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config.settings import Settings
from gateway.evidence.checkpoints import checkpointer_for, make_checkpoint
from gateway.store.schema import evidence, evidence_checkpoint, evidence_head, evidence_tree
from tests.conftest import open_store
from tests.gateway.evidence.checkpoint_support import (
    checkpoint_settings,
    cli,
    new_key,
    verify_export,
)
from tests.gateway.store_factory import independent_hash, make_entry, raw

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
WITNESSED_SIZE = 8


async def _rewrite_from(conn: AsyncConnection, rows: list[dict[str, object]], start: int) -> None:
    """Put ``rows`` back as records start.., each re-hashed and linked, head moved."""
    await conn.execute(delete(evidence).where(evidence.c.seq >= start))
    previous = (
        "0" * 64
        if start == 1
        else (
            await conn.execute(select(evidence.c.hash).where(evidence.c.seq == start - 1))
        ).scalar_one()
    )
    for seq, row in enumerate(rows, start=start):
        fields = {k: v for k, v in row.items() if k != "hash"}
        fields.update(seq=seq, prev_hash=previous)
        previous = independent_hash(fields)
        await conn.execute(insert(evidence).values(**fields, hash=previous))
    last = start + len(rows) - 1
    await conn.execute(update(evidence_head).values(seq=last, hash=previous))


async def _rows_from(conn: AsyncConnection, start: int) -> list[dict[str, object]]:
    found = await conn.execute(select(evidence).where(evidence.c.seq >= start).order_by("seq"))
    return [dict(row) for row in found.mappings()]


async def truncate_tail(conn: AsyncConnection) -> None:
    """(a) Records 6.. removed, the head moved back to record 5."""
    five = (await conn.execute(select(evidence.c.hash).where(evidence.c.seq == 5))).scalar_one()
    await conn.execute(delete(evidence).where(evidence.c.seq > 5))
    await conn.execute(update(evidence_head).values(seq=5, hash=five))


async def change_and_rehash(conn: AsyncConnection) -> None:
    """(b) Record 3's sender changed, it and every record after it re-hashed."""
    rows = await _rows_from(conn, 3)
    rows[0]["sender"] = "+447700900999"
    await _rewrite_from(conn, rows, 3)


async def delete_and_rehash(conn: AsyncConnection) -> None:
    """(c) Record 4 deleted, the later ones renumbered and re-hashed."""
    rows = await _rows_from(conn, 4)
    await _rewrite_from(conn, rows[1:], 4)


ATTACKS: list[tuple[str, Callable[[AsyncConnection], Awaitable[None]], str]] = [
    ("truncated tail", truncate_tail, "but the log now holds only 5: records have been removed"),
    ("changed and re-hashed", change_and_rehash, "no longer|now give root"),
    ("deleted and re-hashed", delete_and_rehash, "now give root"),
]


async def _witnessed_log(settings_key: Path, tmp_path: Path, database_url: str) -> Path:
    """Ten records, a checkpoint made after the eighth, and the witness's copy of it."""
    settings = checkpoint_settings(database_url, tmp_path, settings_key)
    async with open_store(database_url) as store:
        for n in range(1, WITNESSED_SIZE + 1):
            await store.record_contact(make_entry(n))
        checkpointer = checkpointer_for(settings, store)
        assert checkpointer is not None
        made = await make_checkpoint(checkpointer, NOW)
        assert made is not None and made.tree_size == WITNESSED_SIZE and made.file is not None
        for n in range(WITNESSED_SIZE + 1, 11):
            await store.record_contact(make_entry(n))
    witness = tmp_path / "witness"
    witness.mkdir()
    return Path(shutil.copy(made.file, witness / made.file.name))


def _export(settings: Settings, out: Path, key: Path | None = None) -> Path:
    done = cli(settings, "evidence", "export", "--customer", "C-1001", "-o", str(out), key=key)
    assert done.returncode == 0, done.stderr
    return out


async def test_an_honest_log_extends_its_witnessed_checkpoint(
    database_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "evidence.key"
    vkey = new_key(key)
    copy = await _witnessed_log(key, tmp_path, database_url)
    settings = checkpoint_settings(database_url, tmp_path, key)
    done = cli(settings, "evidence", "verify", "--checkpoint", str(copy), "--key", vkey)
    assert done.returncode == 0, done.stderr
    assert "evidence chain verified: 10 records" in done.stdout
    assert "the log extends 1 signed checkpoint (sizes 8)" in done.stdout
    for fmt in ("json", "csv"):
        out = tmp_path / f"export.{fmt}"
        made = cli(settings, "evidence", "export", "--customer", "C-1001", "--format", fmt)
        assert made.returncode == 0, made.stderr
        out.write_text(made.stdout, encoding="utf-8", newline="")
        checked = verify_export(out, vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.startswith("OK: every record")
        # Any one hash in the file altered, and the verifier says no.
        forged = tmp_path / f"forged.{fmt}"
        forged.write_text(
            made.stdout.replace("+447700900123", "+447700900124", 1), encoding="utf-8", newline=""
        )
        assert verify_export(forged, vkey).returncode == 1


@pytest.mark.parametrize(("name", "attack", "why"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_rewritten_history_contradicts_the_witnessed_checkpoint(
    database_url: str,
    tmp_path: Path,
    name: str,
    attack: Callable[[AsyncConnection], Awaitable[None]],
    why: str,
) -> None:
    key = tmp_path / "evidence.key"
    vkey = new_key(key)
    copy = await _witnessed_log(key, tmp_path, database_url)
    async with open_store(database_url) as store:
        await raw(store, attack)
        # A careful rewriter also drops the stored tree, so that it is rebuilt from the
        # rewritten records and agrees with them.
        await raw(store, lambda conn: conn.execute(delete(evidence_tree)))
        verdict = await store.verify_evidence(fast=False)
        assert verdict.ok, verdict.problem  # the chain alone cannot tell
    settings = checkpoint_settings(database_url, tmp_path, key)
    plain = cli(settings, "evidence", "verify")
    assert plain.returncode == 0, plain.stderr  # chain and (rebuilt) tree both check
    done = cli(settings, "evidence", "verify", "--checkpoint", str(copy), "--key", vkey)
    assert done.returncode == 1, done.stdout
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("checkpoint CONTRADICTED")]
    assert str(copy) in line and "signed for 8 records" in line
    assert re.search(why, line), line
    # The gateway itself will not sign the rewritten log: it does not extend the last
    # checkpoint it signed.
    refused = cli(settings, "evidence", "checkpoint")
    assert refused.returncode == 1 and "no new checkpoint is signed" in refused.stderr
    export = _export(settings, tmp_path / "export.json")
    checked = verify_export(export, vkey)
    assert checked.returncode == 1, checked.stdout
    assert checked.stdout.startswith("FAILED")


async def test_checkpoints_replaced_under_a_new_key_are_caught(
    database_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "evidence.key"
    published = new_key(key)
    copy = await _witnessed_log(key, tmp_path, database_url)
    # The rewriter: history rewritten, the stored tree and the real checkpoints deleted
    # from the database and the directory, and new ones signed with a key of their own
    # put in their place.
    async with open_store(database_url) as store:
        await raw(store, change_and_rehash)
        await raw(store, lambda conn: conn.execute(delete(evidence_checkpoint)))
        await raw(store, lambda conn: conn.execute(delete(evidence_tree)))
    settings = checkpoint_settings(database_url, tmp_path, key)
    for old in settings.evidence.checkpoint_dir.iterdir():
        old.unlink()
    forger_key = tmp_path / "forger.key"
    forger = new_key(forger_key)
    forged = cli(settings, "evidence", "checkpoint", key=forger_key)
    assert forged.returncode == 0, forged.stderr
    [replacement] = settings.evidence.checkpoint_dir.iterdir()
    assert (
        cli(
            settings, "evidence", "verify", "--checkpoint", str(replacement), "--key", forger
        ).returncode
        == 0
    )  # consistent with the forger's own key, of course

    # The witness's copy, with the gateway's key now the forger's: another key signed it.
    done = cli(settings, "evidence", "verify", "--checkpoint", str(copy), key=forger_key)
    assert done.returncode == 1
    assert f"checkpoint CONTRADICTED: {copy}: not a valid checkpoint" in done.stderr
    assert "a different key signed it" in done.stderr
    # With the key the organisation published: the rewrite itself is named.
    done = cli(settings, "evidence", "verify", "--checkpoint", str(copy), "--key", published)
    assert done.returncode == 1 and "signed for 8 records with root" in done.stderr
    # And the replacement is no checkpoint of the published key.
    done = cli(settings, "evidence", "verify", "--checkpoint", str(replacement), "--key", published)
    assert done.returncode == 1 and "is not signed by the key" in done.stderr
    export = _export(settings, tmp_path / "export.json", key=forger_key)
    checked = verify_export(export, published)
    assert checked.returncode == 1
    assert "not signed by the published key" in checked.stdout
