"""Faults under load, with two real ``contact-gateway serve`` processes sharing one
PostgreSQL and one Redis: Redis stopped and started again (empty), PostgreSQL stopped
and started again, one gateway killed with SIGKILL.

Afterwards, every email answered ``250`` and every webhook answered ``200`` must have
been delivered or held exactly once (nothing lost, nothing doubled), the evidence chain
must verify, and decisions made on local counters must be marked degraded. Each fault
is real and bounded: a private ``redis-server`` or PostgreSQL server (so the machine's
shared ones keep serving other tests) stopped and started by the test, or a process
killed; the load is a bounded number of contacts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from gateway.counters.redis_counter import customer_keys
from gateway.store import Store
from rules.models import Policy
from tests.gateway.mail_support import CUSTOMER, OFFICER, STAFF, Upstream, upstream_server
from tests.gateway.postgres_support import PostgresServer
from tests.gateway.redis_support import RedisServer
from tests.gateway.serve_support import (
    Instance,
    delivered_ids,
    held_ids,
    stop_all,
    wait_for,
)
from tests.rules.factories import CUSTOMER_PHONE, OFFICERS, STAFF_NUMBER, customer, restriction

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

CONCURRENCY = 6


def fault_policy() -> Policy:
    """One restricted customer whose contact is all counted (the cap never bites, so
    every email is delivered to the named officer and the counts are easy to check)."""
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [
                restriction(
                    starts="2020-01-01T00:00:00Z",
                    channels=["email", "voice", "sms"],
                    limits=[{"channel": "email", "max": 10_000, "per": "P1D"}],
                    notify_customer=False,
                )
            ],
        }
    )


def sender_of(n: int) -> str:
    """Every third email from the restricted customer, the rest from strangers."""
    return CUSTOMER if n % 3 == 0 else f"person{n}@example.com"


@dataclass
class Load:
    """Emails sent round-robin over the gateways that are in rotation, CONCURRENCY at a time."""

    gateways: list[Instance]
    replies: dict[str, int | None] = field(default_factory=dict)  # Message-ID -> final code

    @property
    def answered(self) -> int:
        return sum(1 for code in self.replies.values() if code is not None)

    async def send(self, numbers: Sequence[int]) -> None:
        queue = iter(numbers)

        async def client() -> None:
            for n in queue:
                gateway = self.gateways[n % len(self.gateways)]
                mid = f"<load-{n}@test>"
                try:
                    reply = await gateway.send_mail(sender_of(n), STAFF, mid)
                except Exception:  # the gateway vanished under us: no answer
                    self.replies[mid] = None
                    continue
                self.replies[mid] = reply.code

        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))

    def acknowledged(self) -> set[str]:
        return {mid for mid, code in self.replies.items() if code == 250}


async def when(condition: Callable[[], bool], action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action`` once ``condition`` holds (bounded: 60 s)."""
    for _ in range(6000):
        if condition():
            await action()
            return
        await asyncio.sleep(0.01)
    pytest.fail("the load never reached the point where the fault was to be injected")


async def drained(database_url: str, upstream: Upstream, load: Load) -> None:
    """Wait until every acknowledged email has been delivered or held (bounded)."""

    async def done() -> bool:
        async with await Store.open(database_url, migrate=False) as store:
            handled = delivered_ids(upstream) + await held_ids(store)
        return all(handled[mid] for mid in load.acknowledged())

    await wait_for(done, "every acknowledged email to be delivered or held", 120)


async def assert_exactly_once(database_url: str, upstream: Upstream, load: Load) -> list[str]:
    """Every acknowledged email delivered or held exactly once, the rest at most once;
    returns the Message-IDs of the customer's emails that were handled."""
    delivered = delivered_ids(upstream)
    async with await Store.open(database_url, migrate=False) as store:
        held = await held_ids(store)
        verified = await store.verify_evidence()
    handled = delivered + held
    for mid, code in load.replies.items():
        if code == 250:
            assert handled[mid] == 1, f"{mid} was answered 250 and handled {handled[mid]} times"
        else:
            assert handled[mid] <= 1, f"{mid} (answered {code}) was handled {handled[mid]} times"
    assert verified.ok, verified.describe()
    return [mid for mid in handled if int(mid.split("-")[1].split("@")[0]) % 3 == 0]


async def test_redis_stopped_under_load_degrades_then_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    async with await Store.open(postgres_url) as store:
        await store.upsert_policy(fault_policy(), actor="test")
    with RedisServer() as redis:
        async with upstream_server() as upstream:
            gateways = [
                Instance(name, tmp_path, postgres_url, upstream.port, redis.url)
                for name in ("a", "b")
            ]
            try:
                await asyncio.gather(*(g.start() for g in gateways))
                load = Load(gateways)
                sending = asyncio.create_task(load.send(range(150)))
                await when(lambda: load.answered >= 40, lambda: asyncio.to_thread(redis.stop))
                await when(lambda: load.answered >= 90, lambda: asyncio.to_thread(redis.start))
                async with asyncio.timeout(120):
                    await sending
                await wait_for(
                    lambda: all_ready(gateways), "both gateways to reload the restarted Redis"
                )
                after = Load(gateways)
                await after.send(range(150, 180))
            finally:
                await stop_all(*gateways)
            logs = "\n".join(g.tail() for g in gateways)
            assert set(load.replies.values()) == {250}, logs  # Redis down is no reason to defer
            assert set(after.replies.values()) == {250}, logs
            everything = Load(gateways, {**load.replies, **after.replies})
            await drained(postgres_url, upstream, everything)
            customer_mail = await assert_exactly_once(postgres_url, upstream, everything)
            assert all(m.rcpt_tos == [OFFICER] for m in upstream.to(OFFICER))

            async with await Store.open(postgres_url, migrate=False) as store:
                records = await store.evidence_for_customer("C-1")
            by_key = {r.details.get("message_id"): r for r in records}
            degraded = [r for r in records if r.degraded]
            assert len(records) == len(customer_mail) == 60
            assert degraded, "contacts decided while Redis was down must be marked degraded"
            late = [by_key[f"load-{n}@test"] for n in range(150, 180) if n % 3 == 0]
            assert not any(r.degraded for r in late), "Redis was back and reloaded"
            # Redis, rebuilt from the evidence, holds every counted contact once.
            client = Redis.from_url(redis.url)
            try:
                email_key = customer_keys("C-1")[0]
                assert email_key.endswith(":email")
                assert await client.zcard(email_key) == sum(r.counted for r in records)
            finally:
                await client.aclose()


async def all_ready(gateways: Sequence[Instance]) -> bool:
    async with aiohttp.ClientSession() as session:
        for gateway in gateways:
            url = f"http://127.0.0.1:{gateway.http_port}/readyz"
            async with session.get(url) as response:
                if (await response.json()).get("redis") != "ok":
                    return False
    return True


async def test_postgres_stopped_under_load_loses_nothing(tmp_path: Path) -> None:
    with RedisServer() as redis, PostgresServer() as postgres:
        async with await Store.open(postgres.url) as store:
            await store.upsert_policy(fault_policy(), actor="test")
        async with upstream_server() as upstream:
            gateways = [
                Instance(name, tmp_path, postgres.url, upstream.port, redis.url)
                for name in ("a", "b")
            ]
            calls: dict[str, int] = {}
            texts: dict[str, int] = {}
            try:
                await asyncio.gather(*(g.start() for g in gateways))
                load = Load(gateways)
                async with aiohttp.ClientSession() as session:

                    async def webhooks() -> None:
                        for n in range(60):
                            gateway = gateways[n % 2]
                            sid = f"CA{n:032x}"
                            status, twiml = await gateway.call(
                                session, sid, CUSTOMER_PHONE, STAFF_NUMBER
                            )
                            assert twiml is not None and twiml.find("Dial") is not None
                            calls[sid] = status
                            sid = f"SM{n:032x}"
                            texts[sid] = await gateway.text(
                                session, sid, CUSTOMER_PHONE, STAFF_NUMBER, f"Text {n}"
                            )
                            await asyncio.sleep(0.02)

                    sending = asyncio.gather(load.send(range(150)), webhooks())
                    await when(
                        lambda: load.answered >= 40, lambda: asyncio.to_thread(postgres.stop)
                    )
                    await when(
                        lambda: load.answered >= 100, lambda: asyncio.to_thread(postgres.start)
                    )
                    async with asyncio.timeout(180):
                        await sending
                await wait_for(lambda: spools_empty(gateways), "the spools to drain", 60)
            finally:
                await stop_all(*gateways)
            logs = "\n".join(g.tail() for g in gateways)
            codes = Counter(load.replies.values())
            assert set(codes) <= {250, 451}, (codes, logs)  # never a 5xx, never lost
            assert codes[451] > 0, "the outage must have been felt by restricted mail"
            assert set(calls.values()) == {200} and set(texts.values()) == {200}, logs
            await drained(postgres.url, upstream, load)
            await assert_exactly_once(postgres.url, upstream, load)
            async with await Store.open(postgres.url, migrate=False) as store:
                records = await store.evidence_for_customer("C-1")
                incidents = [
                    r for r in await store.list_evidence(limit=10_000) if r.kind == "incident"
                ]
        keys = Counter(r.contact_key for r in [*records, *incidents])
        for sid in texts:
            assert keys[sid] == 1, f"text {sid} was answered 200 and recorded {keys[sid]} times"
        for sid in calls:  # put through with a decision, or as a degraded incident
            assert keys[sid] + keys[f"{sid}:incident"] >= 1, f"call {sid} has no record"
        assert all(r.degraded for r in incidents)
        assert max(keys.values()) == 1


async def spools_empty(gateways: Sequence[Instance]) -> bool:
    for gateway in gateways:
        folder = gateway.folder / f"{gateway.name}-spool"
        for kept in (folder, folder / "incidents"):  # texts, and calls' incidents
            if kept.exists() and any(kept.glob("*.json")):
                return False
    return True


async def test_one_gateway_killed_under_load_the_other_carries_on(
    postgres_url: str, tmp_path: Path
) -> None:
    async with await Store.open(postgres_url) as store:
        await store.upsert_policy(fault_policy(), actor="test")
    with RedisServer() as redis:
        async with upstream_server() as upstream:
            a, b = (
                Instance(name, tmp_path, postgres_url, upstream.port, redis.url)
                for name in ("a", "b")
            )
            try:
                await asyncio.gather(a.start(), b.start())
                load = Load([a, b])
                sending = asyncio.create_task(load.send(range(120)))
                await when(lambda: load.answered >= 50, a.kill)
                async with asyncio.timeout(120):
                    await sending
                # The load balancer takes the dead gateway out; the other carries on.
                later = Load([b])
                await later.send(range(120, 160))
                await a.start()  # and the killed one comes back
                back = Load([a])
                await back.send(range(160, 170))
            finally:
                await stop_all(a, b)
            assert a.process is not None
            logs = b.tail()
            assert set(later.replies.values()) == {250}, logs
            assert set(back.replies.values()) == {250}, a.tail()
            everything = Load([a, b], {**load.replies, **later.replies, **back.replies})
            assert 50 <= len(load.acknowledged()) < 120, "the kill came mid-load"
            await drained(postgres_url, upstream, everything)
            await assert_exactly_once(postgres_url, upstream, everything)
