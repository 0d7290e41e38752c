"""Export one customer's evidence as CSV or JSON that anyone can check without our code.

How to verify an export independently
-------------------------------------
Each record carries ``seq``, ``prev_hash``, ``hash`` and every field the hash covers.

* JSON: for each object in ``records``, remove the ``hash`` key and serialise the rest
  with ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``;
  the lowercase hex SHA-256 of the UTF-8 bytes must equal ``hash``. In Python::

      body = {k: v for k, v in record.items() if k != "hash"}
      text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
      assert hashlib.sha256(text.encode()).hexdigest() == record["hash"]

* CSV: the ``canonical_json`` column is exactly the text that was hashed; its SHA-256
  must equal the ``hash`` column, and decoding it must give the values in the other
  columns (which are there for people to read; empty means null, JSON-valued fields are
  written as canonical JSON).

Records are consecutive in the gateway's single chain only where their ``seq`` values
are: a record whose ``prev_hash`` equals the previous exported record's ``hash`` directly
follows it. The ``chain`` section (JSON) or the ``chain_head_*`` columns (CSV) give the
head of the whole chain when the export was made: anyone later holding the database can
run ``contact-gateway evidence verify`` and confirm that record ``head_seq`` still has
``head_hash``, which proves nothing up to that point was changed since the export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.chain.links import (
    GENESIS_HASH,
    HASH_ALGORITHM,
    ChainHead,
    VerifyResult,
    canonical_json,
    chain_hash,
    format_instant,
)
from gateway.store import NotFound, Store
from gateway.store.casework.records import customer_exists
from gateway.store.engine import read_transaction
from gateway.store.evidence import ENTRY_FIELDS, HASHED_FIELDS, EvidenceRecord

if TYPE_CHECKING:
    from gateway.evidence.proofs import ExportProofs

EXPORT_FORMAT = "contact-gateway evidence export"
EXPORT_VERSION = 1
RECORD_COLUMNS: tuple[str, ...] = ("seq", "hash", "prev_hash", "recorded_at", *ENTRY_FIELDS)
CSV_COLUMNS: tuple[str, ...] = (
    *RECORD_COLUMNS,
    "canonical_json",
    "chain_head_seq",
    "chain_head_hash",
    "leaf_hash",
    "inclusion_proof",
    "checkpoint_tree_size",
    "checkpoint",
    "verifier_key",
)
_JSON_VALUED = {"reasons", "counts", "details"}


async def customer_records(store: Store, customer_id: str) -> list[EvidenceRecord]:
    """The records to export for ``customer_id``, in chain order.

    A known customer with no records yet gets none (an empty export is an answer);
    an id that is no customer and that no record names raises ``NotFound``, so a
    mistyped id is not taken for a customer with a clean record."""
    records = await store.evidence_for_customer(customer_id)
    if not records:
        async with read_transaction(store.engine, "finding the customer") as conn:
            known = await customer_exists(conn, customer_id)
        if not known:
            raise NotFound(
                f"there is no customer '{customer_id}', and no evidence records name that id"
            )
    return records


def record_object(record: EvidenceRecord) -> dict[str, Any]:
    """A record as plain JSON values: exactly the hashed fields, plus ``hash``."""
    body = json.loads(canonical_json(record.hashed_fields()))
    ordered = {name: body[name] for name in RECORD_COLUMNS if name != "hash"}
    return {"seq": ordered.pop("seq"), "hash": record.hash, **ordered}


def recompute_hash(obj: Mapping[str, Any]) -> str:
    """The hash an exported record object should carry (everything but ``hash``)."""
    return chain_hash({k: v for k, v in obj.items() if k != "hash"})


def export_json(
    records: Sequence[EvidenceRecord],
    head: ChainHead,
    *,
    customer_id: str,
    exported_at: datetime,
    verification: VerifyResult | None = None,
    proofs: ExportProofs | None = None,
) -> str:
    """One customer's records with the chain proof, as a JSON document; with ``proofs``,
    also the signed checkpoint and each record's inclusion proof (``checkpoint`` and
    ``proofs``, beside the records so that each record object stays exactly what was
    hashed)."""
    document = {
        "export": {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "customer_id": customer_id,
            "exported_at": format_instant(exported_at),
            "record_count": len(records),
        },
        "chain": {
            "head_seq": head.seq,
            "head_hash": head.hash,
            "hash_algorithm": "SHA-256",
            "genesis_prev_hash": GENESIS_HASH,
            "hashed_fields": sorted(HASHED_FIELDS),
            "how_to_recompute_a_hash": HASH_ALGORITHM,
            "how_to_check_this_file": (
                "For each object in records: remove the 'hash' key, serialise the rest as "
                "described, and compare the SHA-256 with 'hash'."
            ),
            "verification_at_export": None
            if verification is None
            else {
                "ok": verification.ok,
                "records_checked": verification.records_checked,
                "head_seq": verification.head_seq,
                "first_bad_seq": verification.first_bad_seq,
                "problem": verification.problem,
            },
        },
        "records": [record_object(r) for r in records],
    }
    if proofs is not None:
        document["checkpoint"] = proofs.section()
        document["proofs"] = proofs.proof_rows(records)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in _JSON_VALUED:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _proof_cell(proofs: ExportProofs | None, seq: int) -> str:
    """The inclusion proof's hashes, space-separated ("" for a tree of one record, whose
    proof is empty); ``unavailable`` when the record has none."""
    if proofs is None:
        return ""
    path = proofs.paths.get(seq)
    return "unavailable" if path is None else " ".join(path)


def export_csv(
    records: Sequence[EvidenceRecord], head: ChainHead, proofs: ExportProofs | None = None
) -> str:
    """One customer's records as CSV, one row each, with the text that was hashed; with
    ``proofs``, each row's leaf hash and inclusion proof (hex, space-separated) and the
    signed checkpoint and verifier key they are checked against."""
    made = None if proofs is None else proofs.checkpoint
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        obj = record_object(record)
        body = {k: v for k, v in obj.items() if k != "hash"}
        writer.writerow(
            [
                *(_cell(name, obj[name]) for name in RECORD_COLUMNS),
                canonical_json(body),
                str(head.seq),
                head.hash,
                "" if proofs is None else proofs.leaves.get(record.seq, ""),
                _proof_cell(proofs, record.seq),
                "" if made is None else str(made.tree_size),
                "" if made is None else made.note,
                "" if proofs is None or proofs.verifier_key is None else proofs.verifier_key,
            ]
        )
    return out.getvalue()
