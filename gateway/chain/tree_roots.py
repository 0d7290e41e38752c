"""The Merkle tree's roots at given sizes, worked out from the records themselves.

For checking checkpoints: a signed checkpoint says "the first n records have root r";
:func:`recompute_roots` gives the root at each such n from the records' chain hashes
(never from the stored ``evidence_tree``), in the same pass as the chain's fast check.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.chain import scan
from gateway.chain.tree_scan import TreeCheck


async def recompute_roots(
    url: str, sizes: Iterable[int] = (), *, processes: int = 1
) -> TreeCheck | None:
    """The tree over the records of the database at ``url``, from their chain hashes,
    with its root at each of ``sizes`` that exists (``roots``; a size beyond the records
    has none), checked by the fast scan in up to ``processes`` workers, and the stored
    tree compared (``problem``). None when the fast scan cannot confirm the chain intact
    (then the chain's own check, ``Store.verify_evidence``, says what is wrong)."""
    found = await scan.confirm(url, processes=processes, sizes=sizes)
    return None if found is None else found.tree
