"""The in-process usage counter: exact sliding logs, all-or-nothing, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.counters import InProcessCounter
from rules.models import Channel, Limit
from rules.policy_index import CompiledLimit

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def cap(channel: Channel | None, maximum: int, per: str) -> CompiledLimit:
    limit = Limit(channel=channel.value if channel else "any", max=maximum, per=per)
    return CompiledLimit(limit=limit, period=limit.period, channel=channel)


async def test_consume_checks_every_cap_and_records_only_when_all_allow() -> None:
    counter = InProcessCounter()
    caps = [cap(Channel.EMAIL, 2, "P1D"), cap(None, 3, "P7D")]
    results = [
        await counter.consume("C-1", f"k{i}", Channel.EMAIL, NOW + timedelta(minutes=i), caps)
        for i in range(3)
    ]
    assert results == [True, True, False]
    usage = await counter.usage("C-1", NOW + timedelta(minutes=5), timedelta(days=7))
    assert len(usage.delivered[Channel.EMAIL]) == 2
    # The email cap is full, but an SMS still fits the any-channel cap of 3 ...
    assert await counter.consume("C-1", "s1", Channel.SMS, NOW + timedelta(minutes=6), caps)
    # ... and then the any-channel cap is full too.
    assert not await counter.consume("C-1", "s2", Channel.SMS, NOW + timedelta(minutes=7), caps)


async def test_a_retried_contact_is_counted_once() -> None:
    counter = InProcessCounter()
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert await counter.consume("C-1", "same", Channel.EMAIL, NOW, caps)
    assert await counter.consume("C-1", "same", Channel.EMAIL, NOW, caps)
    usage = await counter.usage("C-1", NOW, timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW]}


async def test_sliding_period_frees_places_as_contacts_age_out() -> None:
    counter = InProcessCounter()
    caps = [cap(Channel.VOICE, 1, "PT12H")]
    assert await counter.consume("C-1", "a", Channel.VOICE, NOW, caps)
    assert not await counter.consume("C-1", "b", Channel.VOICE, NOW + timedelta(hours=11), caps)
    assert await counter.consume("C-1", "c", Channel.VOICE, NOW + timedelta(hours=12), caps)


async def test_customers_are_counted_separately_and_unknown_usage_is_empty() -> None:
    counter = InProcessCounter()
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert await counter.consume("C-1", "a", Channel.EMAIL, NOW, caps)
    assert await counter.consume("C-2", "b", Channel.EMAIL, NOW, caps)
    assert (await counter.usage("C-3", NOW, timedelta(days=1))).delivered == {}


async def test_load_seeds_from_evidence_and_old_entries_are_pruned() -> None:
    counter = InProcessCounter()
    old = [("C-1", "email", NOW - timedelta(days=30, minutes=i), f"old{i}") for i in range(70)]
    loaded = await counter.load([*old, ("C-1", "email", NOW - timedelta(hours=1), "recent")])
    assert loaded == 71
    usage = await counter.usage("C-1", NOW, timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW - timedelta(hours=1)]}
    caps = [cap(Channel.EMAIL, 5, "P1D")]
    assert await counter.consume("C-1", "new", Channel.EMAIL, NOW, caps)
    # The 70 month-old entries could never count again and were dropped.
    assert len(counter._logs["C-1"]) == 2
