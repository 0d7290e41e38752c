"""``GET /metrics``: Prometheus text, with values counted from real contact.

Mail goes in over SMTP to a running gateway, calls come in as signed Twilio webhooks,
the upstream is a real aiosmtpd server (or a closed port), and faults are real: a
PostgreSQL database dropped under the gateway. Every value is read back by parsing the
page with prometheus_client's own parser.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.app import STORE, create_app
from gateway.config.settings import Settings
from gateway.mail.lifecycle import MAIL
from gateway.mail.queue import FIRST_RETRY
from gateway.twilio.wiring import TWILIO
from tests.channels import twilio_kit
from tests.conftest import postgres_base_url, sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    STAFF,
    START,
    FakeClock,
    Upstream,
    free_port,
    gateway_settings,
    message,
    policy,
    transact,
)
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER

STRANGER = "stranger@example.com"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: TestClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def drop_database(url: str) -> None:
    admin = create_async_engine(
        make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            name = make_url(url).database
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def test_held_email_is_counted_and_the_store_gauges_are_read_when_scraped(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    app = create_app(
        gateway_settings(database_url, f"maildir:{tmp_path / 'mail'}"), clock=FakeClock()
    )
    client = await aiohttp_client(app)
    empty = await scrape(client)
    assert value(empty, "gateway_held_queue_depth") == 0
    assert value(empty, "gateway_evidence_chain_length") == 0
    assert value(empty, "gateway_store_up") == 1
    assert value(empty, "gateway_contacts_total", channel="email", decision="hold") is None

    await app[STORE].upsert_policy(
        policy({"handling": "no_contact", "notify_customer": False}), actor="test"
    )
    port = app[MAIL].listener.port
    assert (await transact(port, CUSTOMER, [STAFF], message())).code == 250
    assert (await transact(port, STRANGER, [STAFF], message(STRANGER))).code == 250

    samples = await scrape(client)
    assert value(samples, "gateway_contacts_total", channel="email", decision="hold") == 1
    assert value(samples, "gateway_contacts_total", channel="email", decision="deliver") == 1
    assert value(samples, "gateway_decision_seconds_count", channel="email") == 2
    assert value(samples, "gateway_held_queue_depth") == 1
    assert value(samples, "gateway_evidence_chain_length") == 1
    assert value(samples, "gateway_upstream_relay_failures_total", kind="unavailable") is None

    # Reviewed and filed: no longer waiting, though its evidence stays in the chain.
    [held] = await app[STORE].list_held()
    await app[STORE].mark_reviewed(held.id, actor="officer.a")
    samples = await scrape(client)
    assert value(samples, "gateway_held_queue_depth") == 0
    assert value(samples, "gateway_evidence_chain_length") == 1


async def test_relay_failures_are_counted_by_kind(aiohttp_client: Any, tmp_path: Path) -> None:
    upstream = Upstream(refuse={"gone@example.org": "550 5.1.1 no such mailbox"})
    clock = FakeClock()
    settings = gateway_settings(sqlite_url(tmp_path), f"smtp://127.0.0.1:{upstream.port}")
    app = create_app(settings, clock=clock)
    client = await aiohttp_client(app)
    mail = app[MAIL]
    try:
        # The upstream is down: queued, and counted as not reached.
        reply = await transact(mail.listener.port, STRANGER, [STAFF], message(STRANGER))
        assert reply.code == 250 and "queued" in reply.text
        samples = await scrape(client)
        assert value(samples, "gateway_upstream_relay_failures_total", kind="unavailable") == 1

        # The queue's next try fails the same way: counted again.
        clock.now += FIRST_RETRY
        async with asyncio.timeout(10):
            assert await mail.worker.step() == 1
        samples = await scrape(client)
        assert value(samples, "gateway_upstream_relay_failures_total", kind="unavailable") == 2

        # Back, but busy after DATA (temporary), then refusing a mailbox (permanent).
        await upstream.start()
        upstream.data_reply = "451 4.3.0 busy, try later"
        sent = message(STRANGER, message_id="<busy@example.com>")
        assert (await transact(mail.listener.port, STRANGER, [STAFF], sent)).code == 250
        upstream.data_reply = None
        sent = message(STRANGER, to=["gone@example.org"], message_id="<gone@example.com>")
        assert (
            await transact(mail.listener.port, STRANGER, ["gone@example.org"], sent)
        ).code == 550
        samples = await scrape(client)
        assert value(samples, "gateway_upstream_relay_failures_total", kind="temporary") == 1
        assert value(samples, "gateway_upstream_relay_failures_total", kind="permanent") == 1

        # Delivered once the upstream takes it: nothing more is counted.
        clock.now += timedelta(hours=1)
        async with asyncio.timeout(10):
            assert await mail.worker.step() == 2
        samples = await scrape(client)
        assert len(upstream.to(STAFF)) == 2
        assert value(samples, "gateway_upstream_relay_failures_total", kind="unavailable") == 2
        assert value(samples, "gateway_upstream_relay_failures_total", kind="temporary") == 1
    finally:
        await upstream.stop()


async def test_store_down_still_scrapes_and_degraded_contact_is_counted(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path
) -> None:
    twilio = {"auth_token": twilio_kit.TOKEN, "answer_timeout": 0.5, "routes": twilio_kit.ROUTES}
    gateway = await twilio_kit.start(
        aiohttp_client,
        twilio_kit.settings(postgres_url, tmp_path / "mail", twilio=twilio),
        twilio_kit.FakeClock(START),
    )
    await gateway.load(twilio_kit.policy({"channels": [], "handling": "no_contact"}))
    port = gateway.app[MAIL].listener.port
    assert (await transact(port, CUSTOMER, [STAFF], message())).code == 250
    # A caller who is nobody in the policy is decided without I/O, and still counted.
    _, root, _ = await gateway.call(twilio_kit.UNKNOWN_CALLER)
    assert twilio_kit.verbs(root) == ["Dial"]
    samples = await scrape(gateway.client)
    assert value(samples, "gateway_contacts_total", channel="voice", decision="connect") == 1
    assert value(samples, "gateway_held_queue_depth") == 1
    assert value(samples, "gateway_evidence_chain_length") == 1

    await drop_database(postgres_url)
    samples = await scrape(gateway.client)
    assert value(samples, "gateway_store_up") == 0
    assert value(samples, "gateway_held_queue_depth") == 1, "left as it was, not zeroed"
    assert value(samples, "gateway_evidence_chain_length") == 1

    # Email: 451 (the sender retries), counted as deferred for the store.
    reply = await transact(port, CUSTOMER, [STAFF], message(message_id="<again@example.net>"))
    assert reply.code == 451
    # A call: put through undecided, counted as such.
    params = twilio_kit.call_params("CA" + "d" * 32, CUSTOMER_PHONE, STAFF_NUMBER)
    response = await gateway.post("/twilio/voice", params)
    assert response.status == 200
    assert twilio_kit.verbs(ET.fromstring(await response.text())) == ["Dial"]
    await gateway.app[TWILIO].drain()
    samples = await scrape(gateway.client)
    degraded = "gateway_degraded_decisions_total"
    assert value(samples, degraded, channel="email", reason="store_unavailable") == 1
    assert value(samples, degraded, channel="voice", reason="no_decision") == 1
    assert value(samples, "gateway_contacts_total", channel="voice", decision="connect") == 1


async def test_decided_on_local_counters_when_redis_is_down(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings = Settings(
        database={"url": sqlite_url(tmp_path)},
        upstream=f"maildir:{tmp_path / 'mail'}",
        smtp={"port": 0, "hostname": "gateway.test"},
        redis={"url": closed},
    )
    app = create_app(settings, clock=FakeClock())
    client = await aiohttp_client(app)
    limit = {"channel": "email", "max": 2, "per": "P1D"}
    await app[STORE].upsert_policy(
        policy({"limits": [limit], "notify_customer": False}), actor="test"
    )
    port = app[MAIL].listener.port
    assert (await transact(port, CUSTOMER, [STAFF], message())).code == 250
    assert (await transact(port, STRANGER, [STAFF], message(STRANGER))).code == 250
    samples = await scrape(client)
    degraded = "gateway_degraded_decisions_total"
    assert value(samples, degraded, channel="email", reason="redis_unavailable") == 1
    assert value(samples, "gateway_contacts_total", channel="email", decision="deliver") == 2
