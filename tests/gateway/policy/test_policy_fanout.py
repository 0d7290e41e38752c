"""Rule changes fan out to every gateway within a second (Redis pub/sub), and still
arrive, through the periodic version check, while Redis is down.

Each gateway here has its own store (its own pool) on one database, as separate
processes would: a change made through gateway A's store is invisible to gateway B's
until B reads the version again. B's periodic check is set to an hour, so only the
fan-out can tell it in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from redis.asyncio import Redis

from gateway.app import open_service
from gateway.config.settings import Settings
from gateway.counters.redis_client import redis_from_settings
from gateway.decisions.service import POLICY_RECHECK_S, ContactService
from gateway.policy import fanout as policy_fanout
from gateway.policy.fanout import PolicyFanout, announce_policy
from gateway.shared_state import redis_tasks
from gateway.store import Store
from rules.models import Channel, Limit
from rules.policy_index import CompiledLimit
from tests.conftest import sqlite_url
from tests.gateway.redis_support import RedisServer
from tests.gateway.shared_support import (
    REDIS_URL,
    START,
    TEST_TIMEOUT_MS,
    FakeClock,
    SharedGateway,
    capped_policy,
    delete_prefix,
    new_prefix,
    shared_gateway,
    shared_redis_or_skip,
)

pytestmark = pytest.mark.redis

FAN_OUT_BOUND_S = 1.0  # SPEC §2: rules changes seen by all within a second
HOUR = 3600.0
RECONNECT_BOUND_S = 15.0


async def eventually(check: Callable[[], Awaitable[bool]], bound_s: float) -> float:
    """Seconds until ``check()`` holds; fails the test after ``bound_s``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > bound_s:
            pytest.fail(f"not so after {bound_s}s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@asynccontextmanager
async def fanning_out(
    gateway: SharedGateway, channel: str, *, recheck_s: float = HOUR
) -> AsyncIterator[PolicyFanout]:
    fanout = PolicyFanout(
        gateway.service,
        gateway.store,
        gateway.patient,
        subscribed_recheck_s=recheck_s,
        channel=channel,
    )
    task = asyncio.create_task(fanout.run())
    try:
        yield fanout
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def subscribed(*fanouts: PolicyFanout) -> bool:
    return all(f.subscribed for f in fanouts)


def sees_version(service: ContactService, version: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await service.policy()).version == version

    return check


async def test_a_rule_change_on_one_gateway_reaches_another_within_a_second(
    database_url: str,
) -> None:
    await shared_redis_or_skip()
    clock, prefix = FakeClock(START), new_prefix()
    channel = f"{prefix}:policy"
    try:
        async with (
            shared_gateway(database_url, REDIS_URL, clock, prefix) as a,
            shared_gateway(database_url, REDIS_URL, clock, prefix) as b,
            shared_gateway(database_url, REDIS_URL, clock, prefix) as deaf,
            fanning_out(a, channel) as fan_a,
            fanning_out(b, channel) as fan_b,
        ):
            await eventually(lambda: subscribed(fan_a, fan_b), RECONNECT_BOUND_S)
            deaf.service.set_policy_recheck(HOUR)  # no fan-out: the control
            before = (await b.service.policy()).version
            assert (await deaf.service.policy()).version == before

            summary = await a.store.upsert_policy(capped_policy(5), actor="test")
            assert summary.policy_version > before
            took = await eventually(
                sees_version(b.service, summary.policy_version), FAN_OUT_BOUND_S
            )
            assert took < FAN_OUT_BOUND_S
            assert fan_b.heard == 1 and fan_a.heard == 0  # nobody hears itself
            # Without the fan-out the change would have waited for the hourly check.
            assert (await deaf.service.policy()).version == before
    finally:
        await delete_prefix(REDIS_URL, prefix)


async def test_rule_changes_arrive_while_redis_is_down_and_after_it_returns(
    tmp_path: Path,
) -> None:
    with RedisServer() as server:
        clock, prefix = FakeClock(START), new_prefix()
        channel = f"{prefix}:policy"
        url = sqlite_url(tmp_path)
        async with (
            shared_gateway(url, server.url, clock, prefix) as a,
            shared_gateway(url, server.url, clock, prefix) as b,
            fanning_out(a, channel) as fan_a,
            fanning_out(b, channel) as fan_b,
        ):
            await eventually(lambda: subscribed(fan_a, fan_b), RECONNECT_BOUND_S)
            await b.service.policy()

            server.stop()

            async def unsubscribed() -> bool:
                return not fan_b.subscribed

            await eventually(unsubscribed, RECONNECT_BOUND_S)
            # Not listening: B re-reads the version every POLICY_RECHECK_S again.
            first = await a.store.upsert_policy(capped_policy(5), actor="test")
            took = await eventually(sees_version(b.service, first.policy_version), 1.0)
            assert took < FAN_OUT_BOUND_S and POLICY_RECHECK_S < FAN_OUT_BOUND_S

            server.start()
            await eventually(lambda: subscribed(fan_a, fan_b), RECONNECT_BOUND_S)
            await b.service.policy()  # re-read once on resubscribing; an hour from now on
            second = await a.store.upsert_policy(capped_policy(4), actor="test")
            await eventually(sees_version(b.service, second.policy_version), FAN_OUT_BOUND_S)
            # Heard at least the second change (the first may be heard too: A retries
            # an announcement Redis could not take, for a few seconds).
            assert fan_b.heard >= 1


async def test_rules_import_in_another_process_is_announced(tmp_path: Path) -> None:
    """``contact-gateway rules import`` runs as a process of its own: it announces the
    new version on the default channel, and the gateways listening there hear it."""
    with RedisServer() as server:
        clock, prefix = FakeClock(START), new_prefix()
        url = sqlite_url(tmp_path)
        async with (
            shared_gateway(url, server.url, clock, prefix) as cli,
            shared_gateway(url, server.url, clock, prefix) as b,
        ):
            fanout = PolicyFanout(b.service, b.store, b.patient, subscribed_recheck_s=HOUR)
            task = asyncio.create_task(fanout.run())
            try:
                await eventually(lambda: subscribed(fanout), RECONNECT_BOUND_S)
                await b.service.policy()
                summary = await cli.store.upsert_policy(capped_policy(5), actor="cli")
                settings = Settings(redis={"url": server.url})
                assert await announce_policy(settings, summary.policy_version) is None
                await eventually(sees_version(b.service, summary.policy_version), FAN_OUT_BOUND_S)
                assert fanout.heard == 1
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        server.stop()
        problem = await announce_policy(Settings(redis={"url": server.url}), 9)
        assert problem is not None and "within" in problem


async def test_a_subscription_that_goes_silent_is_given_up_and_renewed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung Redis (SIGSTOP) resets no connection: only an unanswered PING tells the
    subscription is dead. A quiet but healthy one answers its PINGs and stays."""
    monkeypatch.setattr(policy_fanout, "LISTEN_S", 0.05)
    monkeypatch.setattr(policy_fanout, "PING_AFTER_S", 0.2)
    monkeypatch.setattr(policy_fanout, "DEAD_AFTER_S", 0.5)
    with RedisServer() as server:
        clock, prefix = FakeClock(START), new_prefix()
        async with (
            shared_gateway(sqlite_url(tmp_path), server.url, clock, prefix) as b,
            fanning_out(b, f"{prefix}:policy") as fan_b,
        ):
            await eventually(lambda: subscribed(fan_b), RECONNECT_BOUND_S)
            await asyncio.sleep(1.0)  # quiet, several PINGs answered
            assert fan_b.subscribed

            server.pause()

            async def unsubscribed() -> bool:
                return not fan_b.subscribed

            await eventually(unsubscribed, 3.0)
            server.resume()
            await eventually(lambda: subscribed(fan_b), RECONNECT_BOUND_S)


async def test_gateways_with_different_prefixes_share_a_redis_but_nothing_else(
    tmp_path: Path,
) -> None:
    """Two deployments (GATEWAY_REDIS_PREFIX north and south, each its own database) on
    one Redis, built as ``serve`` builds them: neither sees the other's counts or hears
    the other's rule changes, and every key either writes carries its prefix."""
    with RedisServer() as server:
        clock = FakeClock(START)
        caps = [cap_per_day(1)]
        async with (
            deployment(tmp_path, server.url, "north", clock) as north,
            deployment(tmp_path, server.url, "north", clock) as north_too,
            deployment(tmp_path, server.url, "south", clock) as south,
        ):
            fanouts = (north.fanout, north_too.fanout, south.fanout)
            await eventually(lambda: subscribed(*fanouts), RECONNECT_BOUND_S)

            # The counters run on the Redis server's clock, as in production.
            now = datetime.now(UTC)
            counted = [
                await north.service.counter.consume("C-1", "n1", Channel.EMAIL, now, caps),
                await south.service.counter.consume("C-1", "s1", Channel.EMAIL, now, caps),
                await north_too.service.counter.consume("C-1", "n2", Channel.EMAIL, now, caps),
            ]
            assert counted == [True, True, False]  # south's email is not north's
            usage = await south.service.counter.usage("C-1", now, timedelta(days=1))
            assert len(usage.delivered[Channel.EMAIL]) == 1

            summary = await north.store.upsert_policy(capped_policy(5), actor="test")
            await eventually(lambda: heard(north_too.fanout), FAN_OUT_BOUND_S)
            await asyncio.sleep(0.2)  # time for a stray announcement to arrive
            assert south.fanout.heard == 0
            south_settings = Settings(redis={"url": server.url, "prefix": "south"})
            assert await announce_policy(south_settings, summary.policy_version) is None
            await eventually(lambda: heard(south.fanout), FAN_OUT_BOUND_S)
            await asyncio.sleep(0.2)  # time for a stray announcement to arrive
            assert [f.heard for f in fanouts] == [0, 1, 1]

            probe = Redis.from_url(server.url)
            try:
                keys = {key.decode() async for key in probe.scan_iter()}
            finally:
                await probe.aclose()
            assert {"north:seeded", "south:seeded"} <= keys
            assert all(key.startswith(("north:", "south:")) for key in keys)


def cap_per_day(maximum: int) -> CompiledLimit:
    limit = Limit(channel="email", max=maximum, per="P1D")
    return CompiledLimit(limit=limit, period=limit.period, channel=Channel.EMAIL)


async def heard(fanout: PolicyFanout) -> bool:
    return fanout.heard > 0


class Deployment(NamedTuple):
    service: ContactService
    store: Store
    fanout: PolicyFanout


@asynccontextmanager
async def deployment(
    directory: Path, redis_url: str, prefix: str, clock: FakeClock
) -> AsyncIterator[Deployment]:
    """One ``serve`` process's service and fan-out, wired by gateway.app and
    gateway.shared_state from its settings; its database is named after its prefix."""
    settings = Settings(
        database={"url": f"sqlite+aiosqlite:///{directory / prefix}.db"},
        redis={"url": redis_url, "prefix": prefix, "timeout_ms": TEST_TIMEOUT_MS},
    )
    quick = redis_from_settings(settings)
    patient = redis_from_settings(settings, patient=True)
    assert quick is not None and patient is not None
    try:
        store, service = await open_service(settings, clock, redis=(quick, patient))
        try:
            async with redis_tasks(service, store, patient, prefix=prefix) as fanout:
                assert fanout is not None
                yield Deployment(service, store, fanout)
        finally:
            await store.close()
    finally:
        await quick.aclose()
        await patient.aclose()
