"""The evidence check for long chains: the fast scan first, the reference when in doubt.

``verify_fast`` answers only "intact" or "don't know"; for "don't know" (a problem
found, a chain whose rows and head disagree, an in-memory database the scan cannot
open) the store runs the reference ``verify_chain``, which names the first bad record.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.chain import scan as evidence_scan
from gateway.chain.links import VerifyResult


async def verify_fast(engine: AsyncEngine, *, processes: int = 1) -> VerifyResult | None:
    """The chain checked by the fast scan, or None when only the reference can tell."""
    url = engine.url.render_as_string(hide_password=False)
    found = await evidence_scan.confirm(url, processes=processes, tree=False)
    if found is None:
        return None
    return VerifyResult(
        ok=True,
        records_checked=found.head_seq,
        head_seq=found.head_seq,
        first_bad_seq=None,
        problem="",
    )
