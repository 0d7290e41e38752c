"""The evidence check for long chains: the fast scan first, the reference when in doubt.

``verify_fast`` answers only "intact" or "don't know"; for "don't know" (a problem
found, a chain whose rows and head disagree, an in-memory database the scan cannot
open) the store runs the reference ``verify_chain``, which names the first bad record.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import evidence_scan
from gateway.store.chain import VerifyResult
from gateway.store.chain_db import read_head
from gateway.store.engine import read_transaction, sqlite_file
from gateway.store.schema import evidence, evidence_head

log = logging.getLogger(__name__)

# Below this a second process costs more to start than it saves.
MIN_PER_PROCESS = 100_000


def _scanner(engine: AsyncEngine) -> tuple[str, str] | None:
    """The scan's name for the database and its address (a DSN or a file)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    path = sqlite_file(url.render_as_string(hide_password=False))
    return None if path is None else ("sqlite", path)


async def verify_fast(engine: AsyncEngine, *, processes: int = 1) -> VerifyResult | None:
    """The chain checked by the fast scan, or None when only the reference can tell."""
    scanner = _scanner(engine)
    if scanner is None:
        return None
    kind, target = scanner
    async with read_transaction(engine, "verifying evidence", snapshot=True) as conn:
        head = await read_head(conn, evidence_head, for_update=False)
        query = select(func.count(), func.min(evidence.c.seq), func.max(evidence.c.seq))
        count, low, high = (await conn.execute(query)).one()
    if head.seq == 0 or count != head.seq or low != 1 or high != head.seq:
        return None  # empty, or rows and head disagree: the reference says how
    ranges = evidence_scan.split(head.seq, min(processes, head.seq // MIN_PER_PROCESS))
    try:
        if len(ranges) == 1:
            scan = evidence_scan.SCANS[kind]
            results = [await asyncio.to_thread(scan, target, *ranges[0])]
        else:
            results = list(
                await asyncio.gather(
                    *(evidence_scan.scan_in_process(kind, target, a, b) for a, b in ranges)
                )
            )
    except Exception:  # the reference check will meet the same fault and name it
        log.warning("the fast evidence scan failed; checking with the reference", exc_info=True)
        return None
    if not evidence_scan.stitched(results, head.hash):
        return None
    return VerifyResult(
        ok=True, records_checked=head.seq, head_seq=head.seq, first_bad_seq=None, problem=""
    )
