"""PostgreSQL: a batch of evidence appended in one statement, when the head is as expected.

The locking append (``EvidenceAppender._append_locked``) is a transaction of seven or
eight round trips: BEGIN, lock the head, look for the contact keys, insert the content,
the records and the held contacts, move the head, COMMIT. At a webhook's pace, with one
or two contacts per batch, those trips cost more than everything else a restricted
contact does. But the appender usually knows the head already, from its own last
append, so it can seal the batch first and send all of it as one statement:

    WITH moved AS (UPDATE evidence_head ... WHERE seq and hash are what we sealed after
                   AND none of the contact keys is recorded yet RETURNING id),
         ...    AS (INSERT ... SELECT ... WHERE EXISTS (SELECT 1 FROM moved)), ...
    SELECT (SELECT count(*) FROM moved), <held ids>

One statement is one transaction (the connection is in autocommit), so it is all or
nothing, and durable when it answers. It is sent to asyncpg directly, its values bound
by each column's own SQLAlchemy type first (``bulk_insert.arrays``): SQLAlchemy's
execution costs more Python than the rest of a batch of one, and any failure here
sends the batch down the locking path, which reports it through SQLAlchemy as usual.

The head row is locked by the UPDATE: another writer that moved it first (another
gateway, or one of ours) makes the condition false once the lock is released
(PostgreSQL re-checks an updated row's condition), and then nothing is written and the
caller takes the locking path, which reads the new head, finds any recorded key and
seals again. So the chain and the once-per-key rule hold
exactly as before; this only saves the round trips when nothing stands in the way.
"""

# The SQL here is put together from the schema's own names; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain.links import ChainHead
from gateway.store.bulk_insert import arrays, unnest_insert
from gateway.store.held import RETURNED
from gateway.store.schema import contents, evidence, held_contact

Rows = Sequence[Mapping[str, Any]]


async def append_if_head(
    conn: AsyncConnection,
    was: ChainHead,
    becomes: ChainHead,
    keys: list[str],
    content_rows: Rows,
    evidence_rows: Rows,
    held_rows: Rows,
) -> dict[int, int] | None:
    """Write the rows and move the head from ``was`` to ``becomes``, if the head is
    still ``was`` and no key in ``keys`` is recorded: the held contacts' ids by evidence
    seq. None, with nothing written, otherwise."""
    params: dict[str, Any] = {
        "was_seq": was.seq,
        "was_hash": was.hash,
        "new_seq": becomes.seq,
        "new_hash": becomes.hash,
        "keys": keys,
    }
    content_names = tuple(content_rows[0]) if content_rows else ()
    held_names = tuple(held_rows[0]) if held_rows else ()
    sql, order = _statement(content_names, tuple(evidence_rows[0]), held_names)
    if content_rows:
        params.update(arrays(contents, content_rows, conn.dialect, "c_"))
    params.update(arrays(evidence, evidence_rows, conn.dialect, "e_"))
    if held_rows:
        params.update(arrays(held_contact, held_rows, conn.dialect, "h_"))
    driver = (await conn.get_raw_connection()).driver_connection
    # Straight to asyncpg: the statement is built and its values bound above, and any
    # failure sends the batch down the locking path, which reports it as usual.
    rows = await driver.fetch(sql, *(params[name] for name in order))  # type: ignore[union-attr]
    if not rows or rows[0][0] != 1:
        return None
    return {int(seq): int(id_) for _, seq, id_ in rows if seq is not None}


@lru_cache(maxsize=16)
def _statement(
    content_names: tuple[str, ...], evidence_names: tuple[str, ...], held_names: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """The statement for rows with these keys (none: no such rows), built once, as
    asyncpg takes it ($1, $2 ...), and its parameters' names in that order."""
    ctes = [
        "moved AS (UPDATE evidence_head SET seq = :new_seq, hash = :new_hash"
        " WHERE id = 1 AND seq = :was_seq AND hash = :was_hash AND NOT EXISTS"
        " (SELECT 1 FROM evidence WHERE contact_key = ANY(CAST(:keys AS TEXT[])))"
        " RETURNING id)"
    ]
    if content_names:
        ctes.append(_insert("stored", contents, content_names, "c_", " ON CONFLICT DO NOTHING"))
    ctes.append(_insert("recorded", evidence, evidence_names, "e_"))
    if held_names:
        returned = ", ".join(RETURNED)
        ctes.append(_insert("opened", held_contact, held_names, "h_", f" RETURNING {returned}"))
        final = (
            f"SELECT (SELECT count(*) FROM moved), {returned}"
            " FROM (SELECT 1) AS one LEFT JOIN opened ON true"
        )
    else:
        final = "SELECT (SELECT count(*) FROM moved), NULL, NULL"
    dialect = asyncpg.dialect()  # type: ignore[no-untyped-call]
    compiled = text("WITH " + ", ".join(ctes) + " " + final).compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())


def _insert(name: str, table: Any, names: tuple[str, ...], prefix: str, tail: str = "") -> str:
    """A CTE inserting the rows only if the head moved."""
    guarded = unnest_insert(table, names, prefix, " WHERE EXISTS (SELECT 1 FROM moved)")
    return f"{name} AS ({guarded}{tail})"
