"""A PostgreSQL outage must not leave counts behind for texts that were never delivered.

Two real ``contact-gateway serve`` processes share one Redis and a private PostgreSQL
server, which the test stops for real while a customer under a cap of 15 texts a day
sends 30 texts, as signed Twilio webhooks, several a second. A text decided just as
the database stops is counted in Redis, its record fails and it goes to the SMS spool;
that count must be undone, or the spool's replay (and every later text) reads it as a
delivered text and holds texts that the cap still allows. Afterwards exactly 15 texts
are delivered and 15 held as excess, and Redis counts exactly the 15 delivered ones.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from gateway.counters.redis_counter import channel_key
from gateway.store import Store
from rules.models import Channel, Policy
from tests.gateway.mail_support import OFFICER, upstream_server
from tests.gateway.postgres_support import PostgresServer
from tests.gateway.redis_support import RedisServer
from tests.gateway.serve_support import Instance, stop_all, wait_for
from tests.gateway.test_scale_faults import spools_empty
from tests.rules.factories import CUSTOMER_PHONE, OFFICERS, STAFF_NUMBER, customer, restriction

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

CAP = 15
TEXTS = 30
# Five texts before the stop, about twenty during the outage, the rest after it: the
# shape that matters. A text takes about 10 ms either way (a stopped database refuses
# connections at once), so the gap only spaces them out; a longer outage would mostly
# lengthen the spool's back-off (1, 2, 4, 8 s) before the replay after it.
GAP_S = 0.15
STOP_AFTER = 5  # texts answered before PostgreSQL is stopped
OUTAGE_S = 3.0


def capped_texts() -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [
                restriction(
                    starts="2020-01-01T00:00:00Z",
                    channels=["email", "voice", "sms"],
                    limits=[{"channel": "sms", "max": CAP, "per": "P1D"}],
                    notify_customer=False,
                )
            ],
        }
    )


async def test_a_postgres_outage_leaves_no_count_for_an_undelivered_text(
    tmp_path: Path,
) -> None:
    with RedisServer() as redis, PostgresServer() as postgres:
        async with await Store.open(postgres.url) as store:
            await store.upsert_policy(capped_texts(), actor="test")
        async with upstream_server() as upstream:
            gateways = [
                Instance(name, tmp_path, postgres.url, upstream.port, redis.url)
                for name in ("a", "b")
            ]
            statuses: dict[str, int] = {}
            try:
                await asyncio.gather(*(g.start() for g in gateways))
                outage: asyncio.Task[None] | None = None

                async def restart_later() -> None:
                    await asyncio.sleep(OUTAGE_S)  # the outage's length, not a wait
                    await asyncio.to_thread(postgres.start)

                async with aiohttp.ClientSession() as session:
                    for n in range(TEXTS):
                        if n == STOP_AFTER:
                            await asyncio.to_thread(postgres.stop)
                            outage = asyncio.create_task(restart_later())
                        sid = f"SM{n:032x}"
                        statuses[sid] = await gateways[n % 2].text(
                            session, sid, CUSTOMER_PHONE, STAFF_NUMBER, f"Text {n}"
                        )
                        await asyncio.sleep(GAP_S)
                assert outage is not None
                async with asyncio.timeout(60):
                    await outage
                await wait_for(lambda: spools_empty(gateways), "the SMS spools to drain", 120)
            finally:
                await stop_all(*gateways)
            logs = "\n".join(g.tail() for g in gateways)
            assert set(statuses.values()) == {200}, logs
            spooled = sum(g.log.read_text().count("kept in the spool until") for g in gateways)
            assert spooled > 0, "the outage must have been felt by texts"

            async with await Store.open(postgres.url, migrate=False) as store:
                records = await store.evidence_for_customer("C-1")
                held = await store.list_held(limit=1_000)
            keys = Counter(r.contact_key for r in records)
            assert all(keys[sid] == 1 for sid in statuses), keys  # each recorded once
            delivered = {r.contact_key for r in records if r.action == "deliver"}
            excess = {r.contact_key for r in records if r.hold_reason == "excess"}
            print(f"\ndelivered={len(delivered)} held_as_excess={len(excess)} of {TEXTS}")
            assert (len(delivered), len(excess)) == (CAP, TEXTS - CAP), logs
            assert {r.contact_key for r in records if r.counted} == delivered
            assert len(held) == TEXTS - CAP

            # Redis counts the delivered texts, and nothing else.
            client = Redis.from_url(redis.url)
            try:
                counted = await client.zrange(channel_key("C-1", Channel.SMS), 0, -1)
            finally:
                await client.aclose()
            assert {m.decode() for m in counted} == delivered

            # Each delivered text reached the named officer, by email.
            async def forwarded() -> bool:
                return len(upstream.to(OFFICER)) >= CAP

            await wait_for(forwarded, "the delivered texts to be forwarded", 60)
            assert len(upstream.to(OFFICER)) == CAP
