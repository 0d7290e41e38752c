"""Tamper detection: each way an insider with SQL access could edit the evidence table.

Every kind must be caught by ``verify_evidence`` with the first bad record named, also
when the chain is read in small pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain import scan as evidence_scan
from gateway.store import Store
from gateway.store.schema import evidence, evidence_head
from tests.gateway.store_factory import T0, independent_hash, make_entry, raw, record_many


async def _swap(conn: AsyncConnection, a: int, b: int) -> None:
    rows = {
        r["seq"]: dict(r)
        for r in (await conn.execute(select(evidence).where(evidence.c.seq.in_([a, b]))))
        .mappings()
        .all()
    }
    await conn.execute(delete(evidence).where(evidence.c.seq.in_([a, b])))
    await conn.execute(insert(evidence), [{**rows[b], "seq": a}, {**rows[a], "seq": b}])


async def _rehash(conn: AsyncConnection, seq: int) -> None:
    """Alter a record and recompute its own hash, as a careful forger would."""
    row = (await conn.execute(select(evidence).where(evidence.c.seq == seq))).mappings().one()
    fields = {k: v for k, v in row.items() if k != "hash"}
    fields["sender"] = "+447700900999"
    await conn.execute(
        update(evidence)
        .where(evidence.c.seq == seq)
        .values(sender="+447700900999", hash=independent_hash(fields))
    )


TAMPERING: list[tuple[str, Callable[[AsyncConnection], Awaitable[object]], int, str]] = [
    (
        "field edited",
        lambda c: c.execute(update(evidence).where(evidence.c.seq == 5).values(sender="x@y.z")),
        5,
        "record 5 has been altered",
    ),
    (
        "JSON field edited",
        lambda c: c.execute(
            update(evidence).where(evidence.c.seq == 5).values(details={"n": 5, "note": "x"})
        ),
        5,
        "record 5 has been altered",
    ),
    (
        "time moved by a microsecond",
        lambda c: c.execute(
            update(evidence)
            .where(evidence.c.seq == 5)
            .values(occurred_at=T0 + timedelta(minutes=5, microseconds=1))
        ),
        5,
        "record 5 has been altered",
    ),
    (
        "flag flipped",
        lambda c: c.execute(update(evidence).where(evidence.c.seq == 5).values(counted=False)),
        5,
        "record 5 has been altered",
    ),
    (
        "row deleted",
        lambda c: c.execute(delete(evidence).where(evidence.c.seq == 5)),
        5,
        "record 5 is missing",
    ),
    (
        "first row deleted",
        lambda c: c.execute(delete(evidence).where(evidence.c.seq == 1)),
        1,
        "record 1 is missing: the chain starts at record 2",
    ),
    ("rows swapped", lambda c: _swap(c, 4, 5), 4, "record 4 does not follow on from record 3"),
    (
        "range deleted from the middle",
        lambda c: c.execute(delete(evidence).where(evidence.c.seq.between(4, 7))),
        4,
        "records 4 to 7 are missing",
    ),
    (
        "tail cut off",
        lambda c: c.execute(delete(evidence).where(evidence.c.seq >= 9)),
        9,
        "records 9 to 10 are missing from the end",
    ),
    (
        "everything deleted",
        lambda c: c.execute(delete(evidence)),
        1,
        "records 1 to 10 are missing from the end",
    ),
    (
        "record altered and re-hashed",
        lambda c: _rehash(c, 5),
        6,
        "record 6 does not follow on from record 5",
    ),
    (
        "last record replaced",
        lambda c: _rehash(c, 10),
        10,
        "record 10 is not the record evidence_head remembers",
    ),
    (
        "head rolled back",
        lambda c: c.execute(update(evidence_head).values(seq=8)),
        9,
        "records 9 to 10 are beyond the last record",
    ),
]


@pytest.mark.parametrize(
    ("how", "tamper", "first_bad", "says"), TAMPERING, ids=[t[0] for t in TAMPERING]
)
async def test_tampering_is_detected_and_named(
    store: Store,
    how: str,
    tamper: Callable[[AsyncConnection], Awaitable[object]],
    first_bad: int,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fast scan in three worker processes first (the path a long chain takes):
    # unsure, it hands over to the reference, which must still name the record.
    monkeypatch.setattr(evidence_scan, "MIN_PER_PROCESS", 1)
    await record_many(store, 10)
    assert (await store.verify_evidence(processes=3)).ok
    await raw(store, tamper)
    for batch, processes in ((2000, 3), (3, 1)):  # also across page boundaries
        result = await store.verify_evidence(batch=batch, processes=processes)
        assert not result.ok, how
        assert result.first_bad_seq == first_bad, result.problem
        assert says in result.problem
        # Records before the bad one check out; with a bad head, every record did.
        assert result.records_checked in (first_bad - 1, 10)
        assert result.problem in result.describe()


async def test_damage_stays_visible_after_more_records(store: Store) -> None:
    await record_many(store, 6)
    await raw(store, lambda c: c.execute(text("DELETE FROM evidence WHERE seq = 3")))
    await store.record_contact(make_entry(7))
    result = await store.verify_evidence()
    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_empty_chain_verifies(store: Store) -> None:
    result = await store.verify_evidence()
    assert (result.ok, result.records_checked, result.head_seq) == (True, 0, 0)


async def test_a_deleted_head_row_is_a_broken_chain_not_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence_scan, "MIN_PER_PROCESS", 1)
    await record_many(store, 10)
    await raw(store, lambda c: c.execute(delete(evidence_head)))
    for batch, processes in ((2000, 3), (3, 1)):
        result = await store.verify_evidence(batch=batch, processes=processes)
        assert (result.ok, result.first_bad_seq, result.records_checked) == (False, None, 10)
        assert "evidence_head has no row" in result.problem
        assert result.problem in result.describe()
    # A bad record is still named first.
    await raw(store, lambda c: c.execute(delete(evidence).where(evidence.c.seq == 4)))
    result = await store.verify_evidence()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "record 4 is missing" in result.problem
