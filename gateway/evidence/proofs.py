"""The Merkle proofs an export carries: each record's leaf hash and inclusion proof
against the latest signed checkpoint, the checkpoint itself and the verifier key.

With them a reader outside checks, without our code (``docs/verify_export.py``), that
every exported record is in the log the organisation signed, at the place it says:
the leaf hash is SHA-256(0x00 || the record's 32-byte hash), and the proof, folded with
it as RFC 9162 says, gives the checkpoint's root. A checkpoint is made first when none
covers the records yet (and a key is configured).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.chain.merkle import record_leaf
from gateway.chain.signing_key import SigningKeyError
from gateway.config.settings import Settings
from gateway.evidence.checkpoints import (
    CheckpointRefused,
    StoredCheckpoint,
    checkpointer_for,
    latest_checkpoint,
    make_checkpoint,
)
from gateway.store import Store, StoreError
from gateway.store.evidence import EvidenceRecord

LEAF_RULE = (
    "leaf hash = lowercase hex SHA-256 of the byte 0x00 followed by the 32 bytes of the "
    "record's hash; interior node = SHA-256 of 0x01, left, right (RFC 9162, as Certificate "
    "Transparency); record seq n is leaf n - 1"
)


@dataclass
class ExportProofs:
    """What an export adds to prove its records are in the signed log."""

    checkpoint: StoredCheckpoint | None
    verifier_key: str | None
    leaves: dict[int, str] = field(default_factory=dict)
    paths: dict[int, list[str]] = field(default_factory=dict)
    problem: str | None = None

    def section(self) -> dict[str, Any]:
        """The JSON export's ``checkpoint`` section."""
        made = self.checkpoint
        return {
            "signed_note": None if made is None else made.note,
            "tree_size": None if made is None else made.tree_size,
            "root_hash": None if made is None else base64.b64encode(made.root).decode(),
            "verifier_key": self.verifier_key,
            "leaf_hash_rule": LEAF_RULE,
            "how_to_check": (
                "python3 verify_export.py THIS_FILE 'PUBLISHED_VERIFIER_KEY' checks every "
                "record's hash, its inclusion proof and the checkpoint's signature"
            ),
            "problem": self.problem,
        }

    def proof_rows(self, records: Sequence[EvidenceRecord]) -> list[dict[str, Any]]:
        """The JSON export's ``proofs``: one per record, in the records' order."""
        return [
            {
                "seq": r.seq,
                "leaf_index": r.seq - 1,
                "leaf_hash": self.leaves.get(r.seq),
                "inclusion_proof": self.paths.get(r.seq),
            }
            for r in records
        ]


async def export_proofs(
    store: Store,
    settings: Settings,
    records: Sequence[EvidenceRecord],
    now: datetime,
    *,
    wake: Callable[[], None] | None = None,
) -> ExportProofs:
    """Proofs for ``records`` against the latest checkpoint, made now if none covers
    them. Never fails the export: what cannot be proved is said in ``problem``."""
    verifier_key, checkpointer, problem = None, None, None
    try:
        checkpointer = checkpointer_for(settings, store, wake)
    except SigningKeyError as exc:
        problem = str(exc)
    if checkpointer is not None:
        verifier_key = checkpointer.verifier.text()
    latest = await latest_checkpoint(store)
    top = max((r.seq for r in records), default=0)
    if latest is None or latest.tree_size < top:
        if checkpointer is None:
            why = problem or "no signing key is configured (GATEWAY_EVIDENCE_SIGNING_KEY)"
            return ExportProofs(
                latest,
                verifier_key,
                problem=f"no checkpoint covers these records and none can be made: {why}",
            )
        try:
            made = await make_checkpoint(checkpointer, now)
        except CheckpointRefused as exc:
            made, problem = None, str(exc)
        if made is None:
            # The proofs are given against the latest checkpoint all the same: what
            # they fail to show is what changed.
            if latest is None:
                return ExportProofs(None, verifier_key, problem=problem)
        else:
            latest = made
    proofs = ExportProofs(latest, verifier_key, problem=problem)
    for record in records:
        proofs.leaves[record.seq] = record_leaf(record.hash).hex()
        try:
            path = await store.inclusion_proof(record.seq, latest.tree_size)
        except (StoreError, ValueError) as exc:
            proofs.problem = proofs.problem or f"record {record.seq} has no proof: {exc}"
            continue
        proofs.paths[record.seq] = [node.hex() for node in path]
    return proofs
