"""Reading, locking and checking the hash chains stored in the database.

Both chains (evidence and audit) follow one pattern: a one-row head table holds the last
seq and hash. Appending reads the head *for update* (PostgreSQL holds a row lock until
commit, so processes sharing the database queue here; SQLite's ``BEGIN IMMEDIATE``
already holds the file's write lock), writes the records, and moves the head, all in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain.links import ChainChecker, ChainHead, VerifyResult
from gateway.store.errors import ChainBroken

VERIFY_BATCH = 2000


async def read_head(conn: AsyncConnection, head: Table, *, for_update: bool) -> ChainHead:
    """The chain's head; with ``for_update`` other writers wait until this commits."""
    return await conn.run_sync(read_head_sync, head, for_update=for_update)


def read_head_sync(conn: Connection, head: Table, *, for_update: bool) -> ChainHead:
    """:func:`read_head` on a synchronous connection."""
    query = select(head.c.seq, head.c.hash).where(head.c.id == 1)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise ChainBroken(f"{head.name} has no row: the database was not migrated or was altered")
    return ChainHead(seq=int(row.seq), hash=str(row.hash))


async def write_head(conn: AsyncConnection, head: Table, new: ChainHead) -> None:
    await conn.run_sync(write_head_sync, head, new)


def write_head_sync(conn: Connection, head: Table, new: ChainHead) -> None:
    """:func:`write_head` on a synchronous connection."""
    conn.execute(update(head).where(head.c.id == 1).values(seq=new.seq, hash=new.hash))


async def verify_chain(
    conn: AsyncConnection,
    table: Table,
    head_table: Table,
    hashed_fields: Callable[[Mapping[Any, Any]], Mapping[str, Any]],
    *,
    batch: int = VERIFY_BATCH,
) -> VerifyResult:
    """Walk the chain from record 1 to its head in batches, stopping at the first problem.

    Keyset pages (``seq > last ORDER BY seq LIMIT n``) keep memory flat for any length
    and run the same on both engines; the caller's snapshot transaction keeps the head
    and the records consistent while appends continue.
    """
    try:
        head: ChainHead | None = await read_head(conn, head_table, for_update=False)
    except ChainBroken:
        head = None  # the head row is gone: still check the records, then say so
    checker = ChainChecker()
    last = 0
    while True:
        query = select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        unreadable = None
        try:
            rows = (await conn.execute(query)).mappings().all()
        except (ValueError, TypeError):  # a value the column's type cannot read back
            rows, unreadable = await _one_at_a_time(conn, table, last, batch)
        for row in rows:
            if not checker.feed(hashed_fields(row), str(row["hash"])):
                return checker.finish(head, head_table.name)
        if unreadable is not None:
            checker.unreadable(*unreadable)
        if not rows or unreadable is not None:
            break
        last = int(rows[-1]["seq"])
    return checker.finish(head, head_table.name)


async def _one_at_a_time(
    conn: AsyncConnection, table: Table, after: int, batch: int
) -> tuple[list[Any], tuple[int, Exception] | None]:
    """A batch that could not be read, read again one record at a time: the records
    before the first unreadable one, and that one's seq and what was wrong."""
    rows: list[Any] = []
    while len(rows) < batch:
        query = select(table).where(table.c.seq > after).order_by(table.c.seq).limit(1)
        try:
            row = (await conn.execute(query)).mappings().one_or_none()
        except (ValueError, TypeError) as error:
            seq_query = select(table.c.seq).where(table.c.seq > after).order_by(table.c.seq)
            return rows, (int((await conn.execute(seq_query.limit(1))).scalar_one()), error)
        if row is None:
            break
        rows.append(row)
        after = int(row["seq"])
    return rows, None
