"""Usage counters: exact sliding logs, all-or-nothing, idempotent.

One suite, every implementation: the in-process counter (one gateway on SQLite), the
Redis counter (several gateways), on the real Redis at 127.0.0.1:6379, and the shared
counter in front of it (Redis up, and Redis unreachable: then its local counter). The Redis
counter here is given the test's instants instead of reading the server's clock, so
both run on the same timeline.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from gateway.counters.in_process import InProcessCounter, UsageCounter
from gateway.counters.redis_counter import RedisCounter, customer_keys
from gateway.counters.shared import SharedCounter
from rules.models import Channel, Limit
from rules.policy_index import CompiledLimit
from tests.gateway.redis_support import free_port

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_client() -> Redis:
    client = Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # unreachable, refused, timed out
        await client.aclose()
        message = f"Redis at {REDIS_URL} is not usable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    return client


async def no_evidence() -> list[tuple[str, str, datetime, str]]:
    return []


@pytest.fixture(
    params=[
        "in-process",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("shared", marks=pytest.mark.redis),
        "shared, Redis down",
    ]
)
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[UsageCounter]:
    """The shared counter (gateway.counters.shared) must answer exactly alike with Redis
    up and with Redis down (then from its local counter)."""
    if request.param == "in-process":
        yield InProcessCounter()
        return
    if request.param == "shared, Redis down":
        down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
        try:
            yield SharedCounter(RedisCounter(down, server_clock=False), evidence=no_evidence)
        finally:
            await down.aclose()
        return
    client = await redis_client()
    prefix = f"cgtest{secrets.token_hex(4)}"
    redis_counter = RedisCounter(client, server_clock=False, prefix=prefix)
    try:
        if request.param == "shared":
            yield SharedCounter(redis_counter, evidence=no_evidence, timeout_s=2.0)
        else:
            yield redis_counter
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def cap(channel: Channel | None, maximum: int, per: str) -> CompiledLimit:
    limit = Limit(channel=channel.value if channel else "any", max=maximum, per=per)
    return CompiledLimit(limit=limit, period=limit.period, channel=channel)


async def test_consume_checks_every_cap_and_records_only_when_all_allow(
    counter: UsageCounter,
) -> None:
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


async def test_a_retried_contact_is_counted_once(counter: UsageCounter) -> None:
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert await counter.consume("C-1", "same", Channel.EMAIL, NOW, caps)
    assert await counter.consume("C-1", "same", Channel.EMAIL, NOW, caps)
    usage = await counter.usage("C-1", NOW, timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW]}


async def test_a_contact_key_is_counted_once_whatever_its_channel(counter: UsageCounter) -> None:
    caps = [cap(None, 5, "P1D")]
    assert await counter.consume("C-1", "same", Channel.EMAIL, NOW, caps)
    assert await counter.consume("C-1", "same", Channel.SMS, NOW + timedelta(minutes=1), caps)
    usage = await counter.usage("C-1", NOW + timedelta(minutes=1), timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW]}


async def test_a_cap_added_later_counts_the_contacts_before_it(counter: UsageCounter) -> None:
    """Contacts are counted per channel even while no cap names their channel."""
    assert await counter.consume("C-1", "a", Channel.SMS, NOW, [cap(Channel.EMAIL, 5, "P1D")])
    assert await counter.consume("C-1", "b", Channel.SMS, NOW, [])
    later = [cap(Channel.SMS, 2, "P1D"), cap(Channel.EMAIL, 5, "P1D")]
    assert not await counter.consume("C-1", "c", Channel.SMS, NOW + timedelta(hours=1), later)
    assert await counter.consume("C-1", "d", Channel.EMAIL, NOW + timedelta(hours=1), later)


async def test_sliding_period_frees_places_as_contacts_age_out(counter: UsageCounter) -> None:
    caps = [cap(Channel.VOICE, 1, "PT12H")]
    assert await counter.consume("C-1", "a", Channel.VOICE, NOW, caps)
    assert not await counter.consume("C-1", "b", Channel.VOICE, NOW + timedelta(hours=11), caps)
    assert await counter.consume("C-1", "c", Channel.VOICE, NOW + timedelta(hours=12), caps)


async def test_customers_are_counted_separately_and_unknown_usage_is_empty(
    counter: UsageCounter,
) -> None:
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert await counter.consume("C-1", "a", Channel.EMAIL, NOW, caps)
    assert await counter.consume("C-2", "b", Channel.EMAIL, NOW, caps)
    assert (await counter.usage("C-3", NOW, timedelta(days=1))).delivered == {}


async def test_load_seeds_from_evidence(counter: UsageCounter) -> None:
    old = [("C-1", "email", NOW - timedelta(days=30, minutes=i), f"old{i}") for i in range(70)]
    loaded = await counter.load([*old, ("C-1", "email", NOW - timedelta(hours=1), "recent")])
    assert loaded == 71
    usage = await counter.usage("C-1", NOW, timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW - timedelta(hours=1)]}
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert not await counter.consume("C-1", "new", Channel.EMAIL, NOW, caps)


async def test_a_released_count_frees_its_place_and_nothing_else(counter: UsageCounter) -> None:
    """A contact whose record failed gives its count back (issue 16)."""
    caps = [cap(Channel.SMS, 2, "P1D")]
    assert await counter.consume("C-1", "kept", Channel.SMS, NOW, caps)
    assert await counter.consume("C-1", "failed", Channel.SMS, NOW + timedelta(minutes=1), caps)
    assert not await counter.consume("C-1", "third", Channel.SMS, NOW + timedelta(minutes=2), caps)
    await counter.release("C-1", "failed", Channel.SMS)
    await counter.release("C-1", "never-counted", Channel.SMS)
    usage = await counter.usage("C-1", NOW + timedelta(minutes=2), timedelta(days=1))
    assert usage.delivered == {Channel.SMS: [NOW]}
    assert await counter.consume("C-1", "third", Channel.SMS, NOW + timedelta(minutes=2), caps)


async def test_a_restored_count_counts_whatever_the_caps_say(counter: UsageCounter) -> None:
    """A record that committed although its writer was told it failed counts again."""
    caps = [cap(Channel.EMAIL, 1, "P1D")]
    assert await counter.consume("C-1", "a", Channel.EMAIL, NOW, caps)
    await counter.restore("C-1", "b", Channel.EMAIL, NOW + timedelta(minutes=1), caps)
    await counter.restore("C-1", "a", Channel.EMAIL, NOW + timedelta(minutes=5), caps)  # kept
    usage = await counter.usage("C-1", NOW + timedelta(minutes=5), timedelta(days=1))
    assert usage.delivered == {Channel.EMAIL: [NOW, NOW + timedelta(minutes=1)]}


async def test_in_process_log_drops_entries_that_can_never_count_again() -> None:
    counter = InProcessCounter()
    old = [("C-1", "email", NOW - timedelta(days=30, minutes=i), f"old{i}") for i in range(70)]
    await counter.load(old)
    assert await counter.consume("C-1", "new", Channel.EMAIL, NOW, [cap(Channel.EMAIL, 5, "P1D")])
    assert len(counter._logs["C-1"]) == 1


@pytest.mark.redis
async def test_redis_script_survives_a_script_flush() -> None:
    """After a Redis restart the script cache is empty: EVALSHA gets NOSCRIPT and the
    script is loaded again, without the caller noticing."""
    client = await redis_client()
    prefix = f"cgtest{secrets.token_hex(4)}"
    try:
        redis_counter = RedisCounter(client, server_clock=False, prefix=prefix)
        caps = [cap(Channel.EMAIL, 1, "P1D")]
        assert await redis_counter.consume("C-1", "a", Channel.EMAIL, NOW, caps)
        await client.script_flush()
        assert not await redis_counter.consume("C-1", "b", Channel.EMAIL, NOW, caps)
        assert await redis_counter.seeded() is False
        await redis_counter.load([])
        assert await redis_counter.seeded() is True
        # One cluster slot per customer: every key carries the customer's hash tag.
        assert all("{C-1}" in key for key in customer_keys("C-1", prefix))
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.redis
async def test_redis_counters_with_different_prefixes_do_not_meet() -> None:
    """Two deployments on one Redis (GATEWAY_REDIS_PREFIX): their counts and their
    ``seeded`` markers are their own."""
    client = await redis_client()
    north, south = f"cgtest{secrets.token_hex(4)}", f"cgtest{secrets.token_hex(4)}"
    try:
        a = RedisCounter(client, server_clock=False, prefix=north)
        b = RedisCounter(client, server_clock=False, prefix=south)
        caps = [cap(Channel.EMAIL, 1, "P1D"), cap(None, 1, "P1D")]
        await a.load([("C-1", "sms", NOW - timedelta(hours=1), "early")])
        assert not await a.consume("C-1", "x", Channel.EMAIL, NOW, caps)
        assert await b.consume("C-1", "x", Channel.EMAIL, NOW, caps)
        assert (await a.usage("C-1", NOW, timedelta(days=1))).delivered == {
            Channel.SMS: [NOW - timedelta(hours=1)]
        }
        assert (await b.usage("C-1", NOW, timedelta(days=1))).delivered == {Channel.EMAIL: [NOW]}
        assert await a.seeded() and not await b.seeded()
    finally:
        for prefix in (north, south):
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
        await client.aclose()


@pytest.mark.redis
async def test_redis_server_clock_counts_across_gateways() -> None:
    """With the server's clock, two gateways (two clients) share one count."""
    first, second = await redis_client(), await redis_client()
    prefix = f"cgtest{secrets.token_hex(4)}"
    try:
        caps = [cap(Channel.SMS, 3, "PT12H")]
        a = RedisCounter(first, prefix=prefix)
        b = RedisCounter(second, prefix=prefix)
        results = [
            await (a if i % 2 else b).consume("C-7", f"m{i}", Channel.SMS, NOW, caps)
            for i in range(6)
        ]
        assert results == [True, True, True, False, False, False]
        usage = await a.usage("C-7", datetime.now(UTC), timedelta(hours=12))
        assert len(usage.delivered[Channel.SMS]) == 3
    finally:
        keys = [k async for k in first.scan_iter(match=f"{prefix}:*")]
        if keys:
            await first.delete(*keys)
        await first.aclose()
        await second.aclose()
