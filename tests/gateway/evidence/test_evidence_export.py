"""Exports must let someone without our code recompute every record's hash."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

from gateway.evidence.export import CSV_COLUMNS, export_csv, export_json, recompute_hash
from gateway.store import Store
from tests.gateway.store_factory import make_entry

EXPORTED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def sha256_of_canonical(obj: dict[str, object]) -> str:
    """What the export's instructions tell a reader to do, written out by hand."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def _records(store: Store) -> None:
    await store.record_contact(make_entry(1), content=b"first")
    await store.record_contact(make_entry(2, customer_id="C-other"))
    await store.record_contact(make_entry(3, action="hold", counted=False, deliver_to=None))


async def test_json_export_can_be_checked_independently(store: Store) -> None:
    await _records(store)
    records = await store.evidence_for_customer("C-1001")
    head = await store.evidence_head()
    verdict = await store.verify_evidence()
    document = json.loads(
        export_json(
            records, head, customer_id="C-1001", exported_at=EXPORTED_AT, verification=verdict
        )
    )
    assert document["export"]["customer_id"] == "C-1001"
    assert document["export"]["exported_at"] == "2026-12-01T12:00:00.000000Z"
    assert document["chain"]["head_seq"] == 3
    assert document["chain"]["head_hash"] == head.hash
    assert document["chain"]["verification_at_export"]["ok"] is True
    assert "sort_keys=True" in document["chain"]["how_to_recompute_a_hash"]
    exported = document["records"]
    assert [r["seq"] for r in exported] == [1, 3]
    for obj in exported:
        body = {k: v for k, v in obj.items() if k != "hash"}
        assert sha256_of_canonical(body) == obj["hash"]
        assert recompute_hash(obj) == obj["hash"]
        assert set(body) == set(document["chain"]["hashed_fields"])
    assert exported[0]["occurred_at"] == "2026-11-03T09:31:15.123456Z"
    assert exported[0]["details"]["note"] == "Café — “quoted”"
    assert exported[1]["prev_hash"] != exported[0]["hash"]  # record 2 is someone else's


async def test_json_export_shows_a_changed_record(store: Store) -> None:
    await _records(store)
    records = await store.evidence_for_customer("C-1001")
    document = json.loads(
        export_json(
            records, await store.evidence_head(), customer_id="C-1001", exported_at=EXPORTED_AT
        )
    )
    forged = dict(document["records"][0], sender="+447700900999")
    assert recompute_hash(forged) != forged["hash"]


async def test_csv_export_carries_the_hashed_text(store: Store) -> None:
    await _records(store)
    records = await store.evidence_for_customer("C-1001")
    head = await store.evidence_head()
    rows = list(csv.DictReader(io.StringIO(export_csv(records, head))))
    assert len(rows) == 2
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, record in zip(rows, records, strict=True):
        canonical = row["canonical_json"]
        assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == row["hash"] == record.hash
        decoded = json.loads(canonical)
        assert str(decoded["seq"]) == row["seq"]
        assert decoded["sender"] == row["sender"]
        assert decoded["prev_hash"] == row["prev_hash"]
        assert decoded["occurred_at"] == row["occurred_at"]
        assert json.loads(row["reasons"]) == decoded["reasons"]
        assert row["counted"] == ("true" if decoded["counted"] else "false")
        assert (row["chain_head_seq"], row["chain_head_hash"]) == ("3", head.hash)
    assert rows[1]["deliver_to"] == ""  # null
