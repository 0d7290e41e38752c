"""The evidence chain: appending, hashing, idempotency, concurrency, usage rebuild.

Tamper detection is in test_evidence_tamper.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.chain.links import ChainHead, stored_json
from gateway.store import (
    GENESIS_HASH,
    EvidenceEntry,
    HoldEntry,
    Store,
    StoreError,
    entry_from_decision,
    evidence_db,
)
from gateway.store.evidence_db import seal
from gateway.store.schema import contents, evidence, held_contact
from rules.decision import (
    Action,
    Contact,
    Decision,
    HoldReason,
    LimitCount,
    Reason,
    WindowOccurrence,
)
from rules.models import Channel
from tests.gateway.store_factory import T0, independent_hash, make_entry, record_many


async def test_records_form_a_chain_from_genesis(store: Store) -> None:
    await record_many(store, 3)
    first, second, third = await store.evidence_for_customer("C-1001")
    assert [r.seq for r in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert await store.evidence_head() == (await store.evidence_head()).__class__(3, third.hash)
    result = await store.verify_evidence()
    assert result.ok, result.problem
    assert (result.records_checked, result.head_seq, result.first_bad_seq) == (3, 3, None)
    assert "intact" in result.describe()


async def test_hash_is_the_documented_sha256_of_canonical_json(store: Store) -> None:
    result = await store.record_contact(make_entry(1))
    record = result.record
    fields = {name: getattr(record, name) for name in record.hashed_fields()}
    assert "hash" not in fields
    assert {"seq", "prev_hash", "recorded_at", "occurred_at", "details"} <= set(fields)
    assert record.hash == independent_hash(fields)
    stored = await store.get_evidence(1)
    assert stored == record


async def test_timestamps_come_back_utc_with_microseconds(store: Store) -> None:
    london = datetime(2026, 7, 1, 10, 15, 30, 654321, tzinfo=ZoneInfo("Europe/London"))
    result = await store.record_contact(make_entry(1, occurred_at=london))
    stored = await store.get_evidence(result.record.seq)
    assert stored is not None
    assert stored.occurred_at == london
    assert stored.occurred_at.tzinfo is UTC
    assert stored.occurred_at.microsecond == 654321
    assert stored.occurred_at.hour == 9  # 10:15 BST is 09:15 UTC
    assert stored.recorded_at.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_entry(1, occurred_at=datetime(2026, 1, 1, 12, 0))


async def test_same_contact_key_is_recorded_once(store: Store) -> None:
    entry = make_entry(1, action="hold", counted=False)
    first = await store.record_contact(entry, content=b"raw message", hold=HoldEntry(summary="s"))
    again = await store.record_contact(entry, content=b"raw message", hold=HoldEntry(summary="s"))
    assert first.created and not again.created
    assert again.record == first.record
    assert again.held_id == first.held_id is not None
    async with store.engine.connect() as conn:
        counts = [
            (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (evidence, held_contact, contents)
        ]
    assert counts == [1, 1, 1]
    assert (await store.evidence_head()).seq == 1


async def test_content_is_stored_once_and_referenced_by_sha256(store: Store) -> None:
    body = b"From: alex@example.net\r\n\r\nhello\r\n"
    digest = hashlib.sha256(body).hexdigest()
    one = await store.record_contact(make_entry(1), content=body)
    two = await store.record_contact(make_entry(2), content=body)
    assert one.record.content_sha256 == two.record.content_sha256 == digest
    assert one.record.content_ref == f"sha256:{digest}"
    assert await store.get_content(digest) == body
    assert await store.get_content(digest.upper()) == body
    assert await store.get_content("0" * 64) is None
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(contents))).scalar_one() == 1


async def test_content_hash_must_match_the_content(store: Store) -> None:
    with pytest.raises(StoreError, match="does not match the content"):
        await store.record_contact(make_entry(1, content_sha256="a" * 64), content=b"other")
    assert (await store.evidence_head()).seq == 0


async def test_later_outcome_is_a_new_record_pointing_back(store: Store) -> None:
    call = (await store.record_contact(make_entry(1, channel="voice", action="connect"))).record
    outcome = make_entry(
        2,
        kind="call_outcome",
        contact_key=f"{call.contact_key}:status",
        channel="voice",
        action="connect",
        counted=False,
        details={"refers_to": call.seq, "call_duration": 63},
    )
    added = await store.append_evidence(outcome)
    assert added.created and added.record.seq == 2
    assert added.record.details == {"refers_to": 1, "call_duration": 63}
    assert (await store.get_evidence(1)) == call  # never updated
    assert (await store.append_evidence(outcome)).created is False
    assert (await store.verify_evidence()).ok


async def test_fifty_concurrent_contacts_make_one_valid_chain(store: Store) -> None:
    results = await asyncio.gather(*(store.record_contact(make_entry(n)) for n in range(50)))
    assert sorted(r.record.seq for r in results) == list(range(1, 51))
    verdict = await store.verify_evidence()
    assert verdict.ok, verdict.problem
    assert verdict.records_checked == 50


async def test_two_stores_on_one_database_keep_one_chain(database_url: str) -> None:
    """Two engines with their own locks stand in for two gateway processes."""
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        await asyncio.gather(
            *(first.record_contact(make_entry(n)) for n in range(0, 40, 2)),
            *(second.record_contact(make_entry(n)) for n in range(1, 40, 2)),
        )
        verdict = await first.verify_evidence()
        assert verdict.ok, verdict.problem
        assert verdict.records_checked == 40
    finally:
        await first.close()
        await second.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from gateway.store import Store
    from tests.gateway.store_factory import make_entry

    async def main(url: str, start: int) -> None:
        store = await Store.open(url)
        try:
            await asyncio.gather(*(store.record_contact(make_entry(n))
                                   for n in range(start, start + 15)))
        finally:
            await store.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


@pytest.mark.slow
async def test_separate_processes_keep_one_chain(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        procs = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, database_url, str(s))
            for s in (0, 100, 200)
        ]
        async with asyncio.timeout(60):
            codes = [await p.wait() for p in procs]
        assert codes == [0, 0, 0]
        verdict = await store.verify_evidence()
        assert verdict.ok, verdict.problem
        assert verdict.records_checked == 45
    finally:
        await store.close()


# ---------------------------------------------------------------- usage and decisions


async def test_counted_since_lists_delivered_contacts_only(store: Store) -> None:
    await store.record_contact(make_entry(1))
    await store.record_contact(make_entry(2, counted=False, action="hold"))
    await store.record_contact(make_entry(3, channel="email", sender="alex@example.net"))
    await store.record_contact(make_entry(4, customer_id=None, restriction_id=None))
    counted = await store.counted_since(T0 + timedelta(minutes=1))
    assert [(c.channel, c.occurred_at, c.contact_key) for c in counted] == [
        ("sms", T0 + timedelta(minutes=1), make_entry(1).contact_key),
        ("email", T0 + timedelta(minutes=3), make_entry(3).contact_key),
    ]
    assert {c.customer_id for c in counted} == {"C-1001"}
    assert len(await store.counted_since(T0 + timedelta(minutes=2))) == 1


def test_entry_from_decision_keeps_what_a_replay_needs() -> None:
    at = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    contact = Contact(
        channel=Channel.VOICE,
        sender="+447700900123",
        recipient="+441632960001",
        at=at,
        emergency_requested=True,
    )
    window = WindowOccurrence(
        day="Tuesday 10 November",
        words="Tuesday 10 November between 10 am and 12 noon",
        starts_at=at + timedelta(days=7),
        ends_at=at + timedelta(days=7, hours=2),
    )
    decision = Decision(
        action=Action.MESSAGE,
        reasons=(Reason("outside_call_window", "Outside", "R-1", "call_windows[0]"),),
        customer_id="C-1",
        restriction_id="R-1",
        hold_reason=HoldReason.OUTSIDE_CALL_WINDOW,
        counts=(LimitCount("R-1", "voice", 1, "P1D", 0),),
        next_window=window,
        offer_emergency=True,
    )
    entry = entry_from_decision(
        decision, contact, contact_key="CA123", policy_version=7, details={"call_sid": "CA123"}
    )
    assert isinstance(entry, EvidenceEntry)
    assert (entry.channel, entry.action, entry.hold_reason) == (
        "voice",
        "message",
        "outside_call_window",
    )
    assert entry.reasons == [
        {
            "code": "outside_call_window",
            "text": "Outside",
            "restriction_id": "R-1",
            "clause": "call_windows[0]",
        }
    ]
    assert entry.counts == [
        {"restriction_id": "R-1", "channel": "voice", "max": 1, "per": "P1D", "used": 0}
    ]
    assert entry.policy_version == 7 and entry.counted is False
    assert entry.details["emergency_requested"] is True
    assert entry.details["offer_emergency"] is True
    assert entry.details["next_window"]["starts_at"] == "2026-11-10T10:00:00Z"
    assert entry.details["call_sid"] == "CA123"
    assert entry.occurred_at == at


def test_a_sealed_record_is_the_record_the_plain_constructor_builds() -> None:
    """``seal`` skips normalising again; the record must be the same as if it had not."""
    from gateway.chain.links import ChainHead
    from gateway.store.evidence import EvidenceRecord
    from gateway.store.evidence_db import seal

    entry = make_entry(3, details={"note": "Café", "nested": {"b": 1, "a": [1, 2]}})
    sealed = seal(entry, ChainHead(seq=2, hash="ab" * 32), T0)
    fields = {**sealed.hashed_fields(), "hash": sealed.hash}
    assert sealed == EvidenceRecord(**fields)
    assert sealed.hash == independent_hash(sealed.hashed_fields())
    with pytest.raises(ValueError, match="exactly the fields"):
        EvidenceRecord.from_normalised({k: v for k, v in fields.items() if k != "hash"})


_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),  # 1e-07, 1e+16: written differently
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
)
_JSON_VALUES = st.recursive(
    _JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    details=st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=5),
    reasons=st.lists(st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=3), max_size=2),
    sender=st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20),
)
def test_sealing_hashes_exactly_the_documented_canonical_json(
    details: dict[str, object], reasons: list[dict[str, object]], sender: str
) -> None:
    """The seal writes the canonical JSON with orjson where it may (no float anywhere)
    and with the standard library elsewhere; either way the hash is the documented one,
    and the JSON columns are stored as the text that was hashed."""
    entry = make_entry(4, details=details, reasons=reasons, sender=sender)
    sealed = seal(entry, ChainHead(seq=3, hash="cd" * 32), T0)
    assert sealed.hash == independent_hash(sealed.hashed_fields())
    if entry.json_texts is not None:
        assert entry.json_texts == tuple(
            stored_json(v) for v in (entry.reasons, entry.counts, entry.details)
        )


def test_everyday_records_are_sealed_without_the_standard_library_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quick path is the one taken for the records a gateway writes all day."""

    def refused(fields: object) -> str:
        raise AssertionError("canonical_json was used")

    monkeypatch.setattr(evidence_db, "chain_hash", refused)
    entry = make_entry(5, details={"note": "Café — “quoted”", "n": [1, None, True]})
    sealed = seal(entry, ChainHead(seq=4, hash="ef" * 32), T0)
    assert sealed.hash == independent_hash(sealed.hashed_fields())
    with_float = make_entry(6, details={"ratio": 1e-7})
    assert with_float.json_texts is None
    with pytest.raises(AssertionError, match="canonical_json was used"):
        seal(with_float, ChainHead(seq=5, hash="ef" * 32), T0)


def test_pointing_an_entry_at_its_content_changes_only_those_fields() -> None:
    entry = make_entry(7)
    digest = hashlib.sha256(b"the message").hexdigest()
    pointed = entry.with_content_ref(digest, f"sha256:{digest}")
    assert pointed == replace(entry, content_sha256=digest, content_ref=f"sha256:{digest}")
    assert pointed.json_texts == entry.json_texts and entry.content_sha256 is None
    with pytest.raises(ValueError, match="not a SHA-256 hex"):
        entry.with_content_ref("ABC", "sha256:ABC")
