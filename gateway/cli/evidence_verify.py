"""``contact-gateway evidence verify``: the fast scan first, the reference when in doubt.

A chain of a million records is checked in a few seconds by ``gateway.chain.scan``,
which needs only the settings and the database driver. Only when it cannot say the
chain is intact (a broken record, rows and head that disagree, a database it cannot
open) is the store opened and the reference check run, which names the first bad
record in plain words; so loading the rest of the service is paid only then.
"""

from __future__ import annotations

import os
import sys

from gateway.chain import scan as evidence_scan
from gateway.common.plurals import counted
from gateway.config.database_url import announce_database
from gateway.config.settings import Settings


async def evidence_verify(settings: Settings) -> int:
    """Check the whole chain; print what was found. 0 intact, 1 broken."""
    found = await evidence_scan.confirm(settings.database.url, processes=os.cpu_count() or 1)
    if found is not None:
        announce_database(settings)
        return _intact(found.head_seq, found.head_seq)
    from gateway.cli.commands import opened_store

    async with opened_store(settings) as store:
        result = await store.verify_evidence(fast=False)
    if result.ok:
        return _intact(result.records_checked, result.head_seq)
    where = "" if result.first_bad_seq is None else f" at record {result.first_bad_seq}"
    print(f"evidence chain BROKEN{where}: {result.problem}", file=sys.stderr)
    return 1


def _intact(records: int, head_seq: int) -> int:
    print(f"evidence chain verified: {counted(records, 'record')}, head seq {head_seq}")
    return 0
