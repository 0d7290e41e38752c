"""Group commit of evidence: contacts recorded together share a transaction, and each
still gets exactly its own outcome (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from gateway.store import EvidenceEntry, HoldEntry, Store, StoreError

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def entry(key: str | None, **overrides: Any) -> EvidenceEntry:
    values: dict[str, Any] = {
        "contact_key": key,
        "occurred_at": NOW,
        "channel": "voice",
        "sender": "+447700900123",
        "recipient": "+441632960000",
        "action": "message",
        "customer_id": "C-1",
        "restriction_id": "R-1",
    }
    values.update(overrides)
    return EvidenceEntry(**values)


@contextmanager
def counting_commits() -> Iterator[list[int]]:
    """Commits on every engine while in the block."""
    commits = [0]

    def _commit(conn: Any) -> None:
        commits[0] += 1

    event.listen(Engine, "commit", _commit)
    try:
        yield commits
    finally:
        event.remove(Engine, "commit", _commit)


async def test_concurrent_contacts_share_transactions_and_the_chain_holds(store: Store) -> None:
    with counting_commits() as commits:
        results = await asyncio.gather(
            *(store.record_contact(entry(f"k{i}"), content=b"c%d" % (i % 3)) for i in range(40))
        )
    assert all(r.created for r in results)
    assert sorted(r.record.seq for r in results) == list(range(1, 41))
    assert [r.record.contact_key for r in results] == [f"k{i}" for i in range(40)]
    assert 0 < commits[0] < 10  # 40 contacts, a handful of transactions
    assert (await store.verify_evidence()).ok
    assert (await store.evidence_head()).seq == 40
    assert await store.get_content(results[4].record.content_sha256 or "") == b"c1"


async def test_the_same_key_twice_in_one_batch_is_recorded_once(store: Store) -> None:
    first, second, held = await asyncio.gather(
        store.record_contact(entry("same"), hold=HoldEntry(summary="held")),
        store.record_contact(entry("same"), hold=HoldEntry(summary="held")),
        store.record_contact(entry("other")),
    )
    assert first.created and not second.created
    assert second.record.seq == first.record.seq
    assert first.held_id is not None and second.held_id == first.held_id
    assert held.created and held.held_id is None
    assert len(await store.list_held()) == 1
    again = await store.record_contact(entry("same"))
    assert not again.created and again.held_id == first.held_id


async def test_a_bad_contact_fails_alone(store: Store) -> None:
    bad = HoldEntry(summary=None)  # type: ignore[arg-type]  # NOT NULL in the database
    outcomes = await asyncio.gather(
        store.record_contact(entry("a")),
        store.record_contact(entry("b"), hold=bad),
        store.record_contact(entry("c")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], StoreError)
    assert [o.record.contact_key for o in (outcomes[0], outcomes[2])] == ["a", "c"]  # type: ignore[union-attr]
    assert await store.find_evidence("b") is None
    assert (await store.verify_evidence()).ok


async def test_a_caller_that_stops_waiting_does_not_lose_the_record(store: Store) -> None:
    waiting = asyncio.ensure_future(store.record_contact(entry("gone")))
    others = [asyncio.ensure_future(store.record_contact(entry(f"o{i}"))) for i in range(3)]
    await asyncio.sleep(0)  # queued, not yet written
    waiting.cancel()
    await asyncio.gather(*others)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await store.close()  # waits for everything handed in
    reopened = await Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        assert await reopened.find_evidence("gone") is not None
        assert (await reopened.verify_evidence()).ok
    finally:
        await reopened.close()


@pytest.mark.postgres
async def test_postgres_connections_plan_each_statement_for_its_parameters(
    pg_store: Store,
) -> None:
    """Set once per connection, outside any transaction: a rolled-back transaction, or
    the appender's own, leaves it in force."""
    show = text("SHOW plan_cache_mode")
    async with pg_store.engine.connect() as conn:
        assert (await conn.execute(show)).scalar_one() == "force_custom_plan"
        await conn.rollback()
        assert (await conn.execute(show)).scalar_one() == "force_custom_plan"
    await pg_store.record_contact(entry("CA-plan"))
    async with pg_store.engine.connect() as conn:
        assert (await conn.execute(show)).scalar_one() == "force_custom_plan"


def count_statements(store: Store) -> list[str]:
    seen: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    return seen


@pytest.mark.postgres
async def test_postgres_appends_after_its_own_head_in_one_statement(pg_store: Store) -> None:
    """Once the appender knows the head, a batch is one statement, sent to asyncpg
    directly (so SQLAlchemy runs none: no BEGIN, lock, look-up or COMMIT), with its
    content and held contact, and the chain holds."""
    await pg_store.record_contact(entry("first"))  # learns the head: the locking path
    statements = count_statements(pg_store)
    with counting_commits() as commits:
        held = await pg_store.record_contact(
            entry("held", action="voicemail"), content=b"a voicemail", hold=HoldEntry(summary="vm")
        )
        plain = await pg_store.record_contact(entry("plain"))
    assert statements == [] and commits == [0]
    assert (held.record.seq, plain.record.seq) == (2, 3)
    assert held.created and held.held_id is not None and plain.held_id is None
    assert [h.id for h in await pg_store.list_held()] == [held.held_id]
    assert await pg_store.get_content(held.record.content_sha256 or "") == b"a voicemail"
    assert (await pg_store.evidence_head()).seq == 3
    assert (await pg_store.verify_evidence()).ok


@pytest.mark.postgres
async def test_postgres_a_head_moved_by_another_gateway_is_never_written_past(
    postgres_url: str,
) -> None:
    """Gateway A's head is stale once B appends: A's one-statement attempt writes
    nothing, and the locking path appends after B's record."""
    a, b = await Store.open(postgres_url), await Store.open(postgres_url)
    try:
        await a.record_contact(entry("a1"))
        await b.record_contact(entry("b1"))
        statements = count_statements(a)
        late = await a.record_contact(entry("a2"))
        assert late.created and late.record.seq == 3
        assert late.record.prev_hash == (await b.find_evidence("b1")).hash  # type: ignore[union-attr]
        assert "SELECT" in statements  # the one statement wrote nothing: the locking path
        statements.clear()
        await a.record_contact(entry("a3"))  # B may still be busy: A locks for a while
        assert statements[0] == "SELECT" and "WITH" not in statements
        assert (await a.verify_evidence()).ok
    finally:
        await a.close()
        await b.close()


@pytest.mark.postgres
async def test_postgres_a_key_already_recorded_is_not_recorded_again(pg_store: Store) -> None:
    """The head is the appender's own, but the key is recorded: the one statement writes
    nothing, and the contact gets its first record back, as on the locking path."""
    first = await pg_store.record_contact(entry("again"), hold=HoldEntry(summary="held"))
    await pg_store.record_contact(entry("between"))
    retry = await pg_store.record_contact(entry("again"), hold=HoldEntry(summary="held"))
    assert not retry.created and retry.record == first.record
    assert retry.held_id == first.held_id
    assert (await pg_store.evidence_head()).seq == 2
    assert len(await pg_store.list_held()) == 1


@pytest.mark.postgres
async def test_postgres_a_kept_connection_that_died_costs_no_contact(pg_store: Store) -> None:
    """The connection kept for one-statement appends is cut (a server restart, an idle
    timeout): the next contact is still recorded, by the locking path on a fresh
    connection, and the one after is one statement again."""
    await pg_store.record_contact(entry("one"))
    await pg_store.record_contact(entry("two"))  # the kept connection is now open
    async with pg_store.engine.connect() as admin:
        cut = text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert (await admin.execute(cut)).all()
        await admin.commit()
    statements = count_statements(pg_store)
    after = await pg_store.record_contact(entry("three"))
    assert after.created and after.record.seq == 3
    assert "SELECT" in statements  # the locking path took it
    statements.clear()
    again = await pg_store.record_contact(entry("four"))
    assert again.record.seq == 4 and statements == []  # one statement again
    assert (await pg_store.verify_evidence()).ok
