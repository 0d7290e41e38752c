"""Two gateways as one: two ``contact-gateway serve`` processes on one PostgreSQL and
one Redis count a customer's cap once, and write one evidence chain between them.

A customer capped at 5 emails a day sends 50 emails and makes 50 calls at the same
moment, spread over both gateways: exactly 5 emails are delivered and 45 held as
excess, the 50 calls are put through to the named officer, and there are 100 evidence
records in one unbroken chain. The Redis is a private ``redis-server`` (so no other
test's keys are in it) and the database a fresh one on the machine's PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from gateway.store import Store
from rules.models import Policy
from tests.gateway.mail_support import CUSTOMER, OFFICER, STAFF, upstream_server
from tests.gateway.redis_support import RedisServer
from tests.gateway.serve_support import (
    Instance,
    delivered_ids,
    held_ids,
    stop_all,
    wait_for,
)
from tests.rules.factories import CUSTOMER_PHONE, OFFICERS, STAFF_NUMBER, customer, restriction

CAP = 5
EMAILS = 50
CALLS = 50
OFFICER_PHONE = "+441632960001"


def capped_policy() -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [
                restriction(
                    starts="2020-01-01T00:00:00Z",
                    channels=["email", "voice"],
                    limits=[{"channel": "email", "max": CAP, "per": "P1D"}],
                    notify_customer=False,
                )
            ],
        }
    )


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
async def test_two_gateways_share_one_cap_and_one_chain(postgres_url: str, tmp_path: Path) -> None:
    async with await Store.open(postgres_url) as store:
        await store.upsert_policy(capped_policy(), actor="test")
    with RedisServer() as redis:
        async with upstream_server() as upstream:
            gateways = [
                Instance(name, tmp_path, postgres_url, upstream.port, redis.url)
                for name in ("a", "b")
            ]
            try:
                await asyncio.gather(*(g.start() for g in gateways))
                async with aiohttp.ClientSession() as session:
                    mails = [
                        gateways[i % 2].send_mail(CUSTOMER, STAFF, f"<cap-{i}@test>")
                        for i in range(EMAILS)
                    ]
                    calls = [
                        gateways[i % 2].call(session, f"CA{i:032x}", CUSTOMER_PHONE, STAFF_NUMBER)
                        for i in range(CALLS)
                    ]
                    answers = await asyncio.gather(*mails, *calls)
            finally:
                await stop_all(*gateways)
            logs = "\n".join(g.tail() for g in gateways)

            mail_replies, call_replies = answers[:EMAILS], answers[EMAILS:]
            assert [r.code for r in mail_replies] == [250] * EMAILS, logs
            dialled: Counter[str] = Counter()
            for status, twiml in call_replies:
                assert status == 200 and twiml is not None, logs
                dial = twiml.find("Dial")
                assert dial is not None, logs
                dialled[(dial.findtext("Number") or dial.text or "").strip()] += 1
            assert dialled == Counter({OFFICER_PHONE: CALLS})

            async def all_delivered() -> bool:
                return sum(delivered_ids(upstream).values()) >= CAP

            await wait_for(all_delivered, "the delivered emails to reach the upstream")
            delivered = delivered_ids(upstream)
            assert all(m.rcpt_tos == [OFFICER] for m in upstream.messages)

    async with await Store.open(postgres_url) as store:
        held = await held_ids(store)
        records = await store.list_evidence(limit=1000)
        verified = await store.verify_evidence()
    sent = {f"<cap-{i}@test>" for i in range(EMAILS)}
    assert sum(delivered.values()) == CAP and set(delivered.values()) == {1}
    assert sum(held.values()) == EMAILS - CAP and set(held.values()) == {1}
    assert set(delivered) | set(held) == sent and not set(delivered) & set(held)

    assert len(records) == EMAILS + CALLS
    outcomes = Counter((r.channel, r.action, r.hold_reason) for r in records)
    assert outcomes == Counter(
        {
            ("email", "deliver", None): CAP,
            ("email", "hold", "excess"): EMAILS - CAP,
            ("voice", "connect", None): CALLS,
        }
    )
    degraded = [
        (r.seq, r.channel, r.details.get("degraded_because")) for r in records if r.degraded
    ]
    assert not degraded, degraded
    assert verified.ok and verified.records_checked == EMAILS + CALLS, verified.describe()
