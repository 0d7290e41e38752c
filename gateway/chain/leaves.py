"""The Merkle leaves of the evidence log, read straight from the records' chain hashes.

``evidence verify --checkpoint`` recomputes every checkpoint's root from here: the
records' own ``hash`` column, in ``seq`` order, never the stored tree
(``evidence_tree``), which is derived data a rewriter could rewrite too. Read with the
database's own driver, as the fast scan reads (``gateway.chain.scan``), so the check
loads no store.
"""

from __future__ import annotations

import asyncio
import sqlite3

from gateway.chain.merkle import record_leaf
from gateway.chain.scan import target_for_url

_SQL = "SELECT seq, hash FROM evidence WHERE seq <= {limit} ORDER BY seq"


class LeavesUnreadable(Exception):
    """The records could not be read with the database's own driver."""


def _check(rows: list[tuple[int, str]]) -> list[bytes]:
    """Leaf hashes for records 1..n; a gap in ``seq`` ends the leaves there (a record
    missing from the middle means the log holds only the records before it in order)."""
    leaves = []
    for expected, (seq, chain_hash) in enumerate(rows, start=1):
        if seq != expected:
            break
        try:
            leaves.append(record_leaf(chain_hash))
        except ValueError:
            raise LeavesUnreadable(
                f"record {seq}'s hash '{chain_hash[:20]}' is not 64 hex digits"
            ) from None
    return leaves


def _sqlite_rows(path: str, limit: int) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(int(s), str(h)) for s, h in conn.execute(_SQL.format(limit=int(limit)))]
    finally:
        conn.close()


async def _postgres_rows(dsn: str, limit: int) -> list[tuple[int, str]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(_SQL.format(limit=int(limit)))
    finally:
        await conn.close()
    return [(int(r[0]), str(r[1])) for r in rows]


async def record_leaves(url: str, limit: int) -> list[bytes]:
    """The leaf hashes of records 1, 2, ... up to ``limit`` (fewer when the log holds
    fewer, or a record is missing: leaves stop before the first gap)."""
    target = target_for_url(url)
    if target is None:
        raise LeavesUnreadable(f"the records cannot be read directly from {url.split(':')[0]}")
    kind, address = target
    try:
        if kind == "sqlite":
            rows = await asyncio.to_thread(_sqlite_rows, address, limit)
        else:
            rows = await _postgres_rows(address, limit)
        return _check(rows)
    except LeavesUnreadable:
        raise
    except Exception as exc:
        raise LeavesUnreadable(f"the records could not be read: {exc}") from exc
