"""``contact-gateway evidence verify``: the fast scan first, the reference when in doubt.

A chain of a million records is checked in a few seconds by ``gateway.chain.scan``,
which needs only the settings and the database driver. Only when it cannot say the
chain is intact (a broken record, rows and head that disagree, a database it cannot
open) is the store opened and the reference check run, which names the first bad
record in plain words; so loading the rest of the service is paid only then.

The same pass works out the Merkle tree over the records from their chain hashes
(``gateway.chain.tree_scan``), prints its size and root (to compare with a signed
checkpoint), and compares the stored tree with it: a stored node that disagrees is
named by its first leaf, and fails the check as a broken record does.
"""

from __future__ import annotations

import os
import sys

from gateway.chain import scan as evidence_scan
from gateway.chain.tree_scan import TreeCheck
from gateway.common.plurals import counted
from gateway.config.database_url import announce_database
from gateway.config.settings import Settings


async def evidence_verify(settings: Settings) -> int:
    """Check the whole chain; print what was found. 0 intact, 1 broken."""
    found = await evidence_scan.confirm(settings.database.url, processes=os.cpu_count() or 1)
    if found is not None and found.tree is not None:
        announce_database(settings)
        return _intact(found.head_seq, found.head_seq, found.tree)
    from gateway.cli.commands import opened_store

    async with opened_store(settings) as store:
        result = await store.verify_evidence(fast=False)
        tree = await store.check_tree() if result.ok else None
    if result.ok and tree is not None:
        return _intact(result.records_checked, result.head_seq, tree)
    where = "" if result.first_bad_seq is None else f" at record {result.first_bad_seq}"
    print(f"evidence chain BROKEN{where}: {result.problem}", file=sys.stderr)
    return 1


def _intact(records: int, head_seq: int, tree: TreeCheck) -> int:
    print(f"evidence chain verified: {counted(records, 'record')}, head seq {head_seq}")
    print(tree.describe())
    if tree.problem is not None:
        print(
            f"evidence tree BROKEN at leaf {tree.first_bad_leaf}: {tree.problem}", file=sys.stderr
        )
        return 1
    return 0
