"""Several gateways on one Redis: one cap, and what happens when Redis fails.

Faults are real: a private ``redis-server`` (tests/gateway/redis_support.py) is stopped
with SIGTERM, frozen with SIGSTOP, and started again empty. The machine's shared Redis
on 6379 is never touched but for keys under the test's own prefix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from gateway.app import SERVICE, STORE, create_app
from gateway.config.settings import Settings
from gateway.counters.breaker import BreakerState
from gateway.counters.shared import SharedCounter, watch
from gateway.decisions.service import Handled
from rules.decision import Action, HoldReason
from rules.models import Channel
from tests.conftest import sqlite_url
from tests.gateway.redis_support import RedisServer
from tests.gateway.shared_support import (
    REDIS_URL,
    START,
    FakeClock,
    SharedGateway,
    capped_policy,
    delete_prefix,
    email,
    new_prefix,
    shared_gateway,
    shared_redis_or_skip,
)

pytestmark = pytest.mark.redis

# A decision while Redis is down or hung must not wait on it: one timeout at most.
DECISION_BOUND_S = 0.5
RECOVERY_BOUND_S = 10.0


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


async def eventually(check: Callable[[], Awaitable[bool]], bound_s: float) -> float:
    """Seconds until ``check()`` holds; fails the test after ``bound_s``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > bound_s:
            pytest.fail(f"not so after {bound_s}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def send(gateway: SharedGateway, key: str) -> tuple[Action, bool]:
    handled = await gateway.service.handle(email(), contact_key=key, content=key.encode())
    if handled.record is not None:
        # The evidence says what the answer said.
        assert handled.record.degraded is handled.degraded
    return handled.decision.action, handled.degraded


async def test_two_gateways_share_one_cap_exactly(database_url: str) -> None:
    await shared_redis_or_skip()
    clock, prefix = FakeClock(START), new_prefix()
    try:
        async with (
            shared_gateway(database_url, REDIS_URL, clock, prefix) as a,
            shared_gateway(database_url, REDIS_URL, clock, prefix) as b,
        ):
            await a.store.upsert_policy(capped_policy(5), actor="test")
            b.service.policy_changed_elsewhere()  # what the fan-out does
            assert (await b.service.policy()).version == (await a.service.policy()).version
            # Connections opened first, as a running gateway has them: this is about one
            # cap shared exactly, not about connecting twenty times at once on a busy
            # machine (where a slow connect rightly counts as Redis being slow).
            await asyncio.gather(*(g.quick.ping() for g in (a, b) for _ in range(10)))
            handled = await asyncio.gather(
                *(
                    (a, b)[i % 2].service.handle(email(), contact_key=f"m{i}", content=b"%d" % i)
                    for i in range(20)
                )
            )
            actions = [h.decision.action for h in handled]
            assert actions.count(Action.DELIVER) == 5
            assert [h.decision.hold_reason for h in handled].count(HoldReason.EXCESS) == 15
            assert not any(h.degraded for h in handled)
            assert await a.email_count() == 5
            assert (await a.store.evidence_head()).seq == 20
            assert (await a.store.verify_evidence()).ok
    finally:
        await delete_prefix(REDIS_URL, prefix)


async def test_redis_stopped_decisions_go_on_degraded_and_capped(
    database_url: str, redis_server: RedisServer
) -> None:
    clock, prefix = FakeClock(START), new_prefix()
    async with (
        shared_gateway(database_url, redis_server.url, clock, prefix) as a,
        shared_gateway(database_url, redis_server.url, clock, prefix) as b,
    ):
        await a.store.upsert_policy(capped_policy(5), actor="test")
        b.service.policy_changed_elsewhere()
        assert [await send((a, b)[i % 2], f"up{i}") for i in range(3)] == [
            (Action.DELIVER, False)
        ] * 3
        assert await a.email_count() == 3

        redis_server.stop()
        # Gateway A counts locally from the evidence (3 so far): two more, then held.
        assert [await send(a, f"down{i}") for i in range(3)] == [
            (Action.DELIVER, True),
            (Action.DELIVER, True),
            (Action.HOLD, True),
        ]
        assert a.counter.breaker.state is BreakerState.OPEN
        # Gateway B builds its local counts from the evidence too, A's degraded ones in it.
        assert await send(b, "down-b") == (Action.HOLD, True)
        records = [await a.store.get_evidence(seq) for seq in range(1, 8)]
        assert [r.degraded for r in records if r is not None] == [False] * 3 + [True] * 4
        assert (await a.store.verify_evidence()).ok


async def test_during_an_outage_each_gateway_tops_up_from_the_evidence(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Gateway A built its local counts before B let three contacts through: at its
    next trial of Redis (which fails), A reads them from the evidence."""
    clock, prefix = FakeClock(START), new_prefix()
    async with (
        shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a,
        shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as b,
    ):
        await a.store.upsert_policy(capped_policy(5), actor="test")
        b.service.policy_changed_elsewhere()
        redis_server.stop()
        assert await send(a, "a1") == (Action.DELIVER, True)
        assert [await send(b, f"b{i}") for i in range(3)] == [(Action.DELIVER, True)] * 3

        async def a_counts_four() -> bool:
            usage = await a.counter.usage("C-1", START, timedelta(days=1))
            return len(usage.delivered.get(Channel.EMAIL, [])) == 4

        assert not await a_counts_four()
        watchdog = asyncio.create_task(watch(a.counter, interval_s=0.05))
        try:
            await eventually(a_counts_four, RECOVERY_BOUND_S)
        finally:
            watchdog.cancel()
        assert await send(a, "a2") == (Action.DELIVER, True)
        assert await send(a, "a3") == (Action.HOLD, True)


async def test_contacts_in_flight_when_redis_stops_are_counted_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Many contacts on one event loop, Redis stopped while they are in flight: some
    were counted on Redis (their evidence perhaps not yet written), the rest locally.
    The cap still holds exactly."""
    clock, prefix = FakeClock(START), new_prefix()
    async with shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a:
        await a.store.upsert_policy(capped_policy(5), actor="test")
        await a.service.policy()

        def contact(key: str) -> asyncio.Task[Handled]:
            return asyncio.create_task(
                a.service.handle(email(), contact_key=key, content=key.encode())
            )

        first = [contact(f"first{i}") for i in range(3)]
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        redis_server.terminate()  # SIGTERM, not waiting for the exit
        second = [contact(f"second{i}") for i in range(26)]
        await asyncio.gather(*first, *second)
        await asyncio.to_thread(redis_server.stop)
        last = await a.service.handle(email(), contact_key="last", content=b"last")
        handled = [t.result() for t in first + second] + [last]
        actions = [h.decision.action for h in handled]
        assert actions.count(Action.DELIVER) == 5 and actions.count(Action.HOLD) == 25
        assert last.degraded and not all(h.degraded for h in handled)
        assert (await a.store.evidence_head()).seq == 30
        assert (await a.store.verify_evidence()).ok


async def test_redis_back_empty_after_an_outage_is_reloaded_by_the_watchdog(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    clock, prefix = FakeClock(START), new_prefix()
    async with shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a:
        await a.store.upsert_policy(capped_policy(5), actor="test")
        assert [await send(a, f"up{i}") for i in range(3)] == [(Action.DELIVER, False)] * 3
        redis_server.stop()
        assert await send(a, "down") == (Action.DELIVER, True)
        redis_server.start()  # empty: no persistence
        assert not await a.seeded() and await a.email_count() == 0

        watchdog = asyncio.create_task(watch(a.counter, interval_s=0.05))
        try:
            await eventually(lambda: _healthy(a.counter), RECOVERY_BOUND_S)
        finally:
            watchdog.cancel()
        # The three counted on Redis and the one counted locally are all back in Redis.
        assert await a.seeded() and await a.email_count() == 4
        assert await send(a, "back1") == (Action.DELIVER, False)
        assert await send(a, "back2") == (Action.HOLD, False)
        assert await a.email_count() == 5


async def test_redis_that_restarted_empty_unnoticed_is_rebuilt(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """No contact saw the restart (Redis was back before the next one): only the
    missing ``seeded`` marker tells, and the watchdog rebuilds Redis from the evidence."""
    clock, prefix = FakeClock(START), new_prefix()
    async with (
        shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a,
        shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as b,
    ):
        await a.store.upsert_policy(capped_policy(3), actor="test")
        b.service.policy_changed_elsewhere()
        assert [await send(a, f"up{i}") for i in range(2)] == [(Action.DELIVER, False)] * 2
        redis_server.stop()
        redis_server.start()
        # Both gateways' watchdogs notice; rebuilding twice at once is harmless.
        watchdogs = [asyncio.create_task(watch(g.counter, interval_s=0.05)) for g in (a, b)]
        try:
            await eventually(a.seeded, RECOVERY_BOUND_S)
            await eventually(lambda: _healthy(a.counter, b.counter), RECOVERY_BOUND_S)
        finally:
            for task in watchdogs:
                task.cancel()
        assert await a.email_count() == 2
        assert await send(b, "after1") == (Action.DELIVER, False)
        assert await send(a, "after2") == (Action.HOLD, False)


@pytest.mark.parametrize("fault", ["stopped", "hung"])
async def test_a_decision_does_not_wait_on_a_failed_redis(
    tmp_path: Path, redis_server: RedisServer, fault: str
) -> None:
    """Stopped (connections refused) or hung (SIGSTOP: connected, never answers), the
    breaker opens on the first contact and no contact waits longer than the bound."""
    clock, prefix = FakeClock(START), new_prefix()
    async with shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a:
        await a.store.upsert_policy(capped_policy(5), actor="test")
        assert await send(a, "warm") == (Action.DELIVER, False)  # a pooled connection
        if fault == "stopped":
            redis_server.stop()
        else:
            redis_server.pause()
        for i in range(5):
            started = time.monotonic()
            outcome = await send(a, f"m{i}")
            elapsed = time.monotonic() - started
            assert elapsed < DECISION_BOUND_S, f"contact {i} took {elapsed:.3f}s"
            assert outcome == (Action.DELIVER if i < 4 else Action.HOLD, True)
            assert a.counter.breaker.state is BreakerState.OPEN


async def test_serve_with_a_redis_url_counts_on_redis_and_survives_it_going(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    """The app factory as ``serve`` uses it: the server's clock, the production timeouts."""
    settings = Settings(database={"url": sqlite_url(tmp_path)}, redis={"url": redis_server.url})
    app = create_app(settings)
    await aiohttp_client(app)
    service, store = app[SERVICE], app[STORE]
    assert isinstance(service.counter, SharedCounter) and not service.counter.degraded
    probe = Redis.from_url(redis_server.url)
    try:
        assert await probe.exists("cg:seeded")  # rebuilt at start
        await store.upsert_policy(capped_policy(5), actor="test")
        handled = await service.handle(email(at=START), contact_key="live", content=b"1")
        assert handled.decision.action is Action.DELIVER and not handled.degraded
        assert await probe.zcard("cg:{C-1}:email") == 1
    finally:
        await probe.aclose()
    redis_server.stop()
    handled = await service.handle(email(at=START), contact_key="gone", content=b"2")
    assert handled.decision.action is Action.DELIVER and handled.degraded
    assert handled.record is not None and handled.record.degraded


async def test_a_gateway_started_while_redis_is_down_catches_up_when_it_returns(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    tmp_path: Path,
    redis_server: RedisServer,
) -> None:
    redis_server.stop()
    settings = Settings(database={"url": sqlite_url(tmp_path)}, redis={"url": redis_server.url})
    app = create_app(settings)
    await aiohttp_client(app)  # starts: the counters are rebuilt locally
    service, store = app[SERVICE], app[STORE]
    assert isinstance(service.counter, SharedCounter) and service.counter.degraded
    await store.upsert_policy(capped_policy(5), actor="test")
    handled = await service.handle(email(at=START), contact_key="early", content=b"1")
    assert handled.decision.action is Action.DELIVER and handled.degraded

    redis_server.start()
    counter = service.counter
    await eventually(lambda: _healthy(counter), RECOVERY_BOUND_S)  # the app's watchdog
    probe = Redis.from_url(redis_server.url)
    try:
        assert await probe.exists("cg:seeded")
        assert await probe.zscore("cg:{C-1}:email", "early") is not None
    finally:
        await probe.aclose()
    handled = await service.handle(email(at=START), contact_key="later", content=b"2")
    assert handled.decision.action is Action.DELIVER and not handled.degraded


async def _healthy(*counters: SharedCounter) -> bool:
    return not any(c.degraded for c in counters)


async def test_a_count_given_back_while_redis_hangs_is_gone_from_redis_when_it_returns(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """A contact's record failed while Redis hung (SIGSTOP: it keeps its data): its
    count is given back locally at once, and taken out of Redis when Redis returns,
    not left there to hold a later contact as excess (issue 16)."""
    clock, prefix = FakeClock(START), new_prefix()
    async with shared_gateway(sqlite_url(tmp_path), redis_server.url, clock, prefix) as a:
        await a.store.upsert_policy(capped_policy(2), actor="test")
        limits = [
            cl
            for r in (await a.service.policy()).active_restrictions("C-1", START)
            for cl in r.limits
        ]
        assert await a.counter.consume("C-1", "unrecorded", Channel.EMAIL, START, limits)
        assert await a.email_count() == 1
        redis_server.pause()
        try:
            await a.counter.release("C-1", "unrecorded", Channel.EMAIL)
            assert a.counter.degraded
            usage = await a.counter.usage("C-1", START, timedelta(days=1))
            assert usage.delivered == {}
        finally:
            redis_server.resume()
        watchdog = asyncio.create_task(watch(a.counter, interval_s=0.05))
        try:
            await eventually(lambda: _healthy(a.counter), RECOVERY_BOUND_S)
        finally:
            watchdog.cancel()
        assert await a.email_count() == 0
        assert [await send(a, f"m{i}") for i in range(3)] == [
            (Action.DELIVER, False),
            (Action.DELIVER, False),
            (Action.HOLD, False),
        ]
