"""The store's policy, held contact, audit and availability behaviour, on both engines."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gateway.store import (
    HeldStateError,
    HoldEntry,
    NotFound,
    PolicyConflict,
    Store,
    StoreError,
    StoreUnavailable,
)
from gateway.store.engine import create_engine
from gateway.store.schema import audit_log, officers, restriction_history
from gateway.store.types import UtcDateTime
from rules.models import Customer, Officer, Policy, Representative
from tests.gateway.store_factory import make_entry, make_policy

SPEC_EXAMPLE = {
    "officers": [
        {
            "id": "akhan",
            "name": "Amir Khan",
            "email": "amir.khan@example.org",
            "absent": True,
        },
        {
            "id": "jsmith",
            "name": "Jane Smith",
            "email": "Jane.Smith@example.org",
            "phone": "01632 960001",
            "deputy": "akhan",
        },
    ],
    "customers": [
        {
            "id": "C-1001",
            "name": "Alex Example",
            "emails": ["alex@example.net"],
            "phones": ["07700 900123"],
            "representatives": [
                {"name": "Support worker", "emails": ["worker@charity.example"], "phones": []},
                {"name": "Solicitor", "emails": [], "phones": ["+441632960999"]},
            ],
        }
    ],
    "restrictions": [
        {
            "id": "R-2026-001",
            "customer": "C-1001",
            "reason": "Over 40 calls a week to several staff",
            "proposed_by": "officer.a",
            "authorised_by": "director.b",
            "status": "active",
            "starts": "2026-11-01T09:00:00Z",
            "review_on": "2027-05-01",
            "ends": "2027-11-01T09:00:00Z",
            "channels": ["email"],
            "named_officer": "jsmith",
            "call_windows": [{"days": ["tue"], "start": "10:00", "end": "12:00"}],
            "call_time_limit": 600,
            "limits": [{"channel": "email", "max": 5, "per": "P7D"}],
            "handling": "deliver",
        }
    ],
}


def spec_policy() -> Policy:
    return Policy.model_validate(SPEC_EXAMPLE)


async def audit_count(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(audit_log))).scalar_one())


# ---------------------------------------------------------------------------- policy


async def test_policy_round_trips(store: Store) -> None:
    policy = spec_policy()
    summary = await store.upsert_policy(policy, actor="admin")
    assert (summary.officers.created, summary.customers.created) == (2, 1)
    assert summary.restrictions.created == 1
    assert summary.changed and summary.policy_version == 1
    assert await store.load_policy() == policy
    assert await store.policy_version() == 1


async def test_empty_store_has_an_empty_policy(store: Store) -> None:
    assert await store.load_policy() == Policy()
    assert await store.policy_version() == 0


async def test_reimporting_the_same_policy_changes_nothing(store: Store) -> None:
    await store.upsert_policy(spec_policy(), actor="admin")
    audited = await audit_count(store)
    summary = await store.upsert_policy(spec_policy(), actor="someone else")
    assert not summary.changed
    assert (summary.officers.unchanged, summary.customers.unchanged) == (2, 1)
    assert summary.restrictions.unchanged == 1
    assert summary.policy_version == 1 == await store.policy_version()
    assert await audit_count(store) == audited
    assert len(await store.restriction_history("R-2026-001")) == 1


async def test_changes_are_versioned_audited_and_counted(store: Store) -> None:
    await store.upsert_policy(spec_policy(), actor="admin")
    changed = SPEC_EXAMPLE | {
        "customers": [
            {
                **SPEC_EXAMPLE["customers"][0],
                "emails": ["alex.new@example.net", "alex@example.net"],
                "representatives": [],
            }
        ],
        "restrictions": [
            {**SPEC_EXAMPLE["restrictions"][0], "status": "suspended"},
        ],
    }
    summary = await store.upsert_policy(Policy.model_validate(changed), actor="manager")
    assert (summary.customers.updated, summary.restrictions.updated) == (1, 1)
    assert summary.officers.unchanged == 2
    assert summary.policy_version == 2
    loaded = await store.load_policy()
    assert loaded.customers[0].emails == ["alex.new@example.net", "alex@example.net"]
    assert loaded.customers[0].representatives == []
    assert loaded.restrictions[0].status.value == "suspended"
    history = await store.restriction_history("R-2026-001")
    assert [(h.version, h.action, h.actor) for h in history] == [
        (1, "created", "admin"),
        (2, "suspended", "manager"),
    ]
    assert history[1].data["status"] == "suspended"
    latest = await store.list_audit(limit=2)
    assert {(a.entity, a.action, a.actor) for a in latest} == {
        ("customer", "updated", "manager"),
        ("restriction", "suspended", "manager"),
    }
    customer_entry = next(a for a in latest if a.entity == "customer")
    assert customer_entry.before["emails"] == ["alex@example.net"]
    assert customer_entry.after["emails"] == ["alex.new@example.net", "alex@example.net"]


async def test_items_not_in_an_import_are_left_alone(store: Store) -> None:
    await store.upsert_policy(spec_policy(), actor="admin")
    extra = Policy(customers=[Customer(id="C-2", name="Sam", emails=["sam@example.net"])])
    summary = await store.upsert_policy(extra, actor="admin")
    assert summary.customers.created == 1
    loaded = await store.load_policy()
    assert [c.id for c in loaded.customers] == ["C-1001", "C-2"]
    assert len(loaded.restrictions) == 1 and len(loaded.officers) == 2


async def test_an_address_cannot_belong_to_two_customers(store: Store) -> None:
    await store.upsert_policy(spec_policy(), actor="admin")
    thief = Policy(customers=[Customer(id="C-2", name="Sam", emails=["alex@example.net"])])
    with pytest.raises(PolicyConflict, match=r"'alex@example.net' .* customer 'C-1001'"):
        await store.upsert_policy(thief, actor="admin")
    assert await store.policy_version() == 1
    assert [c.id for c in (await store.load_policy()).customers] == ["C-1001"]


async def test_customers_can_swap_addresses_in_one_import(store: Store) -> None:
    first = Policy(
        customers=[
            Customer(id="A", name="A", emails=["a@example.net"], phones=["+447700900001"]),
            Customer(id="B", name="B", emails=["b@example.net"]),
        ]
    )
    await store.upsert_policy(first, actor="admin")
    swapped = Policy(
        customers=[
            Customer(id="A", name="A", emails=["b@example.net"], phones=["+447700900001"]),
            Customer(id="B", name="B", emails=["a@example.net"]),
        ]
    )
    summary = await store.upsert_policy(swapped, actor="admin")
    assert summary.customers.updated == 2
    assert await store.load_policy() == swapped


async def test_representatives_may_act_for_several_customers(store: Store) -> None:
    worker = Representative(name="Support worker", emails=["worker@charity.example"])
    policy = Policy(
        customers=[
            Customer(id="A", name="A", representatives=[worker]),
            Customer(id="B", name="B", representatives=[worker]),
        ]
    )
    await store.upsert_policy(policy, actor="admin")
    assert await store.load_policy() == policy


@pytest.mark.slow
async def test_ten_thousand_customers_import_in_one_go(store: Store) -> None:
    policy = make_policy(customers=10_000, restrictions=1_000)
    summary = await store.upsert_policy(policy, actor="bulk")
    assert (summary.officers.created, summary.customers.created) == (10, 10_000)
    assert summary.restrictions.created == 1_000
    assert summary.policy_version == 1
    loaded = await store.load_policy()
    assert len(loaded.customers) == 10_000 and len(loaded.restrictions) == 1_000
    assert sum(len(c.representatives) for c in loaded.customers) == 2_000
    assert loaded == policy
    # The same policy with the first 100 customers renamed (copied, not validated again:
    # validating 10,000 customers takes most of a second and proves nothing here).
    renamed = [
        c.model_copy(update={"name": "Renamed"}) if i < 100 else c
        for i, c in enumerate(policy.customers)
    ]
    edited = policy.model_copy(update={"customers": renamed})
    again = await store.upsert_policy(edited, actor="bulk")
    assert (again.customers.updated, again.customers.unchanged) == (100, 9_900)
    assert again.restrictions.unchanged == 1_000
    assert again.policy_version == 2
    assert (await store.verify_audit()).records_checked == 10 + 10_000 + 1_000 + 100


def test_the_store_keeps_every_field_of_the_models() -> None:
    """A new model field needs a column (and a migration) or it would be lost silently."""
    # updated_at and the retirement columns are the store's own, not policy fields.
    store_only = {"updated_at", "retired_at", "retired_by"}
    assert set(Officer.model_fields) == {c.name for c in officers.c} - store_only
    assert set(Customer.model_fields) == {"id", "name", "emails", "phones", "representatives"}
    assert set(Representative.model_fields) == {"name", "emails", "phones"}


# ------------------------------------------------------------------------ held contact


async def _hold(store: Store, n: int, customer: str = "C-1001") -> int:
    result = await store.record_contact(
        make_entry(n, customer_id=customer, action="hold", hold_reason="excess", counted=False),
        content=f"message {n}".encode(),
        hold=HoldEntry(summary=f"Subject {n}"),
    )
    assert result.held_id is not None
    return result.held_id


async def test_held_contact_is_listed_until_dealt_with(store: Store) -> None:
    first = await _hold(store, 1)
    second = await _hold(store, 2, customer="C-2")
    held = await store.list_held()
    assert [h.id for h in held] == [first, second]
    one = held[0]
    assert (one.status, one.summary, one.hold_reason, one.channel) == (
        "held",
        "Subject 1",
        "excess",
        "sms",
    )
    assert one.evidence_seq == 1 and one.created_at.tzinfo is UTC
    assert await store.get_content(one.content_sha256 or "") == b"message 1"
    assert [h.id for h in await store.list_held(customer_id="C-2")] == [second]
    assert await store.count_held() == 2
    assert [h.id for h in await store.list_held(limit=1, offset=1)] == [second]

    released = await store.release_held(first, actor="jsmith", note="urgent repair")
    assert (released.status, released.resolved_by, released.resolution_note) == (
        "released",
        "jsmith",
        "urgent repair",
    )
    assert released.resolved_at is not None
    assert [h.id for h in await store.list_held()] == [second]
    assert [h.id for h in await store.list_held(status="released")] == [first]
    assert len(await store.list_held(status=None)) == 2
    assert await store.get_held(first) == released


async def test_held_contact_status_moves_one_way(store: Store) -> None:
    held_id = await _hold(store, 1)
    reviewed = await store.mark_reviewed(held_id, actor="jsmith", note="read and filed")
    assert reviewed.status == "reviewed"
    with pytest.raises(HeldStateError, match="already reviewed by jsmith"):
        await store.mark_reviewed(held_id, actor="akhan")
    assert (await store.release_held(held_id, actor="akhan")).status == "released"
    with pytest.raises(HeldStateError, match="already released"):
        await store.release_held(held_id, actor="akhan")
    with pytest.raises(NotFound):
        await store.release_held(999, actor="akhan")
    assert await store.get_held(999) is None
    audit = await store.list_audit()
    assert [(a.action, a.actor, a.entity_id) for a in audit[:2]] == [
        ("released", "akhan", str(held_id)),
        ("reviewed", "jsmith", str(held_id)),
    ]
    assert audit[1].before == {"status": "held"}
    assert audit[1].after == {"status": "reviewed", "note": "read and filed"}


# ------------------------------------------------------------------------------ audit


async def test_audit_log_is_a_chain_of_its_own(store: Store) -> None:
    first = await store.append_audit("admin", "create", "user", "u1", None, {"role": "viewer"})
    second = await store.append_audit("admin", "update", "user", "u1", {"role": "viewer"}, {})
    assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    assert [a.seq for a in await store.list_audit()] == [2, 1]
    assert [a.seq for a in await store.list_audit(limit=1, offset=1)] == [1]
    assert (await store.verify_audit()).ok
    assert (await store.evidence_head()).seq == 0  # separate from evidence
    async with store.engine.begin() as conn:
        await conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(actor="mallory"))
    result = await store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "record 1 has been altered" in result.problem


async def test_history_rows_cannot_be_orphaned(store: Store) -> None:
    await store.upsert_policy(spec_policy(), actor="admin")
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(restriction_history))).mappings().all()
    assert [r["restriction_id"] for r in rows] == ["R-2026-001"]


# ----------------------------------------------------------------- opening and errors


async def test_ping_answers_when_the_database_is_up(store: Store) -> None:
    await store.ping()
    assert store.dialect in ("sqlite", "postgresql")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_ping_reports_an_unreachable_database() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/nothing"
    store = Store(create_engine(url))
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await store.close()
    with pytest.raises(StoreUnavailable):
        await Store.open(url)


async def test_an_unusable_sqlite_path_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'file' / 'gateway.db'}")


async def test_open_without_migrating_refuses_an_old_schema(empty_database_url: str) -> None:
    with pytest.raises(StoreError, match="contact-gateway db upgrade"):
        await Store.open(empty_database_url, migrate=False)
    await (await Store.open(empty_database_url)).close()  # migrates
    store = await Store.open(empty_database_url, migrate=False)
    await store.close()


async def test_the_clock_is_a_parameter(database_url: str) -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    async with await Store.open(database_url, clock=lambda: fixed) as store:
        record = (await store.record_contact(make_entry(1))).record
        assert record.recorded_at == fixed
        assert (await store.get_evidence(1)) == record


def test_naive_timestamps_are_refused_by_the_column_type() -> None:
    column = UtcDateTime()
    dialect = create_engine("sqlite+aiosqlite://").dialect
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), dialect)
    aware = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=7)
    stored = column.process_bind_param(aware, dialect)
    assert stored is not None and stored.tzinfo is None
    assert column.process_result_value(stored, dialect) == aware


async def test_a_days_notice_is_claimed_once_across_gateways(
    store: Store, database_url: str
) -> None:
    """Two stores on one database stand for two gateways; the claim they remember
    must never let a second contact of the day tell the customer again."""
    day = datetime(2026, 11, 3, tzinfo=UTC).date()
    claim = {"customer_id": "C-1", "channel": "email", "day": day}
    async with await Store.open(database_url) as other:
        assert await store.claim_notice(**claim, contact_key="first")
        assert not await other.claim_notice(**claim, contact_key="second")
        assert not await store.claim_notice(**claim, contact_key="third")  # remembered
        assert not await other.claim_notice(**claim, contact_key="fourth")
        # A retry of the contact that claimed it is still its claim, on either gateway.
        assert await store.claim_notice(**claim, contact_key="first")
        assert await other.claim_notice(**claim, contact_key="first")
        next_day = {**claim, "day": day + timedelta(days=1)}
        assert await other.claim_notice(**next_day, contact_key="fifth")
        assert not await store.claim_notice(**next_day, contact_key="sixth")
