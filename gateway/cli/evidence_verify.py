"""``contact-gateway evidence verify``: the fast scan first, the reference when in doubt;
then, given checkpoints kept outside, that the log still extends each of them.

A chain of a million records is checked in a few seconds by ``gateway.chain.scan``,
which needs only the settings and the database driver. Only when it cannot say the
chain is intact (a broken record, rows and head that disagree, a database it cannot
open) is the store opened and the reference check run, which names the first bad
record in plain words; so loading the rest of the service is paid only then.

The same pass works out the Merkle tree over the records from their chain hashes
(``gateway.chain.tree_scan``), prints its size and root (to compare with a signed
checkpoint), and compares the stored tree with it: a stored node that disagrees is
named by its first leaf, and fails the check as a broken record does.

With ``--checkpoint FILE...`` each signed checkpoint is read and its signature checked
with the verifier key (``--key``, or the configured key's public half); then the root
over the log's first N records, recomputed from the records' own chain hashes
(``gateway.chain.leaves``, never the stored tree), must be each checkpoint's root. The
first checkpoint contradicted (in order of size) is named in one line, with why.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.chain import scan as evidence_scan
from gateway.chain.checkpoint import CheckpointError, VerifierKey
from gateway.chain.leaves import LeavesUnreadable, record_leaves
from gateway.chain.tree_scan import TreeCheck
from gateway.chain.witnessed import (
    Contradiction,
    contradiction_in_roots,
    first_contradiction,
    read_witnessed,
)
from gateway.cli.failed import CommandFailed
from gateway.common.plurals import counted
from gateway.config.database_url import announce_database
from gateway.config.settings import Settings


async def evidence_verify(
    settings: Settings,
    *,
    checkpoints: Sequence[Path] | None = None,
    key: str | None = None,
) -> int:
    """Check the whole chain, then the checkpoints given; print what was found.
    0 intact, 1 broken or contradicted."""
    verifier = _verifier(settings, key) if checkpoints else None
    # The fast scan reads every record's chain hash anyway: it also gives the tree's
    # root at each checkpoint's size, so the checkpoints need no second read.
    sizes = _sizes(checkpoints or ())
    found = await evidence_scan.confirm(
        settings.database.url, processes=os.cpu_count() or 1, sizes=sizes
    )
    scanned: Mapping[int, bytes] | None = None
    if found is not None and found.tree is not None:
        announce_database(settings)
        chain_ok, head_seq = _intact(found.head_seq, found.head_seq, found.tree), found.head_seq
        scanned = found.tree.roots
    else:
        from gateway.cli.commands import opened_store

        async with opened_store(settings) as store:
            result = await store.verify_evidence(fast=False)
            tree = await store.check_tree() if result.ok else None
        head_seq = result.head_seq
        if result.ok and tree is not None:
            chain_ok = _intact(result.records_checked, result.head_seq, tree)
        else:
            where = "" if result.first_bad_seq is None else f" at record {result.first_bad_seq}"
            print(f"evidence chain BROKEN{where}: {result.problem}", file=sys.stderr)
            chain_ok = 1
    if not checkpoints or verifier is None:
        return chain_ok
    return max(
        chain_ok, await _check_checkpoints(settings, checkpoints, verifier, head_seq, scanned)
    )


def _sizes(paths: Sequence[Path]) -> list[int]:
    """The tree sizes the checkpoint files claim (their second line), for the scan to
    work out roots at; a file that cannot be read is reported by the check itself."""
    sizes = []
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError, IndexError, ValueError):
            sizes.append(int(path.read_text(encoding="utf-8").split("\n")[1]))
    return sizes


def _verifier(settings: Settings, key: str | None) -> VerifierKey:
    if key is None:
        from gateway.cli.evidence_key import configured_verifier_key

        return configured_verifier_key(settings)
    text = key
    if "+" not in key or Path(key).is_file():
        try:
            text = Path(key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandFailed(
                f"--key {key} is neither a verifier key (name+id+key) nor a readable file: {exc}"
            ) from None
    try:
        return VerifierKey.parse(text)
    except CheckpointError as exc:
        raise CommandFailed(f"--key: {exc}") from None


async def _check_checkpoints(
    settings: Settings,
    paths: Sequence[Path],
    key: VerifierKey,
    head_seq: int,
    scanned: Mapping[int, bytes] | None,
) -> int:
    try:
        witnessed = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise Contradiction(str(path), f"cannot be read: {exc}") from None
            witnessed.append(read_witnessed(str(path), text, key))
        if scanned is not None and all(
            w.checkpoint.size in scanned or w.checkpoint.size > head_seq for w in witnessed
        ):
            # The fast scan confirmed records 1..head_seq in order, with these roots.
            problem = contradiction_in_roots(witnessed, head_seq, head_seq, scanned)
        else:
            largest = max(w.checkpoint.size for w in witnessed)
            try:
                leaves = await record_leaves(settings.database.url, largest)
            except LeavesUnreadable as exc:
                print(f"cannot check the checkpoints: {exc}", file=sys.stderr)
                return 1
            problem = first_contradiction(witnessed, head_seq, leaves)
        if problem is not None:
            raise problem
    except Contradiction as exc:
        print(f"checkpoint CONTRADICTED: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join(str(w.checkpoint.size) for w in witnessed)
    print(
        f"the log extends {counted(len(witnessed), 'signed checkpoint')} "
        f"(sizes {sizes}) signed by {key.name}+{key.key_id.hex()}"
    )
    return 0


def _intact(records: int, head_seq: int, tree: TreeCheck) -> int:
    print(f"evidence chain verified: {counted(records, 'record')}, head seq {head_seq}")
    print(tree.describe())
    if tree.problem is not None:
        print(
            f"evidence tree BROKEN at leaf {tree.first_bad_leaf}: {tree.problem}", file=sys.stderr
        )
        return 1
    return 0
