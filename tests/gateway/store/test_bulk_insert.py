"""``insert_rows``: one statement for many rows (PostgreSQL's unnest), the same rows as
SQLAlchemy's own insert would store, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from gateway.store import Store
from gateway.store.bulk_insert import insert_rows
from gateway.store.evidence_db import seal
from gateway.store.schema import contents, evidence, held_contact
from tests.gateway.store_factory import T0, make_entry


def _rows(first_seq: int, count: int) -> list[dict[str, Any]]:
    """Evidence rows with every kind of value: JSON written already and not (a float),
    NULLs, booleans, aware timestamps, text beyond ASCII."""
    from gateway.chain.links import ChainHead

    rows = []
    for n in range(first_seq, first_seq + count):
        details = {"ratio": 0.1 * n} if n % 2 else {"note": "Café — “quoted”", "n": n}
        entry = make_entry(n, details=details, deliver_to=None if n % 3 else "x@example.org")
        record = seal(entry, ChainHead(seq=n - 1, hash=f"{n:064x}"), T0 + timedelta(seconds=n))
        row = {**record.hashed_fields(), "hash": record.hash}
        if entry.json_texts is not None:
            row["reasons"], row["counts"], row["details"] = entry.json_texts
        rows.append(row)
    return rows


async def _stored(store: Store, first: int, last: int) -> list[dict[str, Any]]:
    query = select(evidence).where(evidence.c.seq.between(first, last)).order_by(evidence.c.seq)
    async with store.engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings()]


async def test_rows_are_stored_as_sqlalchemys_insert_stores_them(store: Store) -> None:
    rows = _rows(1, 6)
    async with store.engine.begin() as conn:
        assert await conn.run_sync(insert_rows, evidence, rows) == []
    ours = await _stored(store, 1, 6)
    async with store.engine.begin() as conn:
        await conn.execute(delete(evidence))
        await conn.execute(insert(evidence), rows)
    assert ours == await _stored(store, 1, 6)
    assert len(ours) == 6
    assert ours[1]["details"] == {"note": "Café — “quoted”", "n": 2}
    assert ours[0]["details"] == {"ratio": 0.1}
    assert ours[0]["recorded_at"] == T0 + timedelta(seconds=1)
    assert ours[2]["deliver_to"] == "x@example.org" and ours[0]["deliver_to"] is None


async def test_duplicates_can_be_skipped_and_ids_returned(store: Store) -> None:
    now = datetime.now(UTC)
    blob = {"sha256": "a" * 64, "size": 3, "data": b"abc", "created_at": now}
    other = {"sha256": "b" * 64, "size": 2, "data": b"de", "created_at": now}
    async with store.engine.begin() as conn:
        await conn.run_sync(insert_rows, contents, [blob], skip_duplicates=True)
        await conn.run_sync(insert_rows, contents, [blob, other], skip_duplicates=True)
        await conn.run_sync(insert_rows, evidence, _rows(1, 2))
        opened = await conn.run_sync(
            insert_rows,
            held_contact,
            [
                {
                    "evidence_seq": seq,
                    "channel": "sms",
                    "sender": "+447700900123",
                    "recipient": "+441632960001",
                    "summary": f"held {seq}",
                    "created_at": now,
                    "status": "held",
                }
                for seq in (1, 2)
            ],
            returning=("evidence_seq", "id"),
        )
        stored = (await conn.execute(select(contents.c.sha256, contents.c.data))).all()
        ids = dict(
            (await conn.execute(select(held_contact.c.evidence_seq, held_contact.c.id))).all()
        )
    assert sorted((s, bytes(d)) for s, d in stored) == [("a" * 64, b"abc"), ("b" * 64, b"de")]
    assert dict(opened) == ids and set(ids) == {1, 2}


async def test_no_rows_is_no_statement(store: Store) -> None:
    async with store.engine.begin() as conn:
        assert await conn.run_sync(insert_rows, evidence, [], returning=("seq",)) == []


async def test_a_naive_timestamp_is_refused_as_the_column_type_refuses_it(store: Store) -> None:
    row = _rows(1, 1)[0]
    row["occurred_at"] = datetime(2026, 11, 21, 10, 0)
    with pytest.raises(Exception, match="naive datetime"):
        async with store.engine.begin() as conn:
            await conn.run_sync(insert_rows, evidence, [row])


def test_sqlite_rows_skip_sqlalchemys_per_row_work_but_not_a_columns_default() -> None:
    """On SQLite the rows go to the driver as the statement SQLAlchemy compiles, each value
    through its column's bind processing; a column with a default the rows leave out
    takes SQLAlchemy's own insert, which fills it."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

    from gateway.store.bulk_insert import _plain_insert

    metadata = MetaData()
    noted = Table(
        "noted",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("note", String, default="filled in"),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        assert _plain_insert(evidence, tuple(_rows(1, 1)[0]), False, conn.dialect) is not None
        assert _plain_insert(noted, ("id",), False, conn.dialect) is None
        assert _plain_insert(noted, ("id", "note"), True, conn.dialect) is not None
        insert_rows(conn, noted, [{"id": 1}, {"id": 2}])
        insert_rows(
            conn, noted, [{"id": 3, "note": "given"}, {"id": 1, "note": "x"}], skip_duplicates=True
        )
        stored = conn.execute(select(noted.c.id, noted.c.note).order_by(noted.c.id)).all()
    assert [tuple(row) for row in stored] == [(1, "filled in"), (2, "filled in"), (3, "given")]
