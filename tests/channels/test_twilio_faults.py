"""Never strand a caller: faults injected for real, answers bounded in time.

The store is taken away (its PostgreSQL database dropped) or made to hang (a table
lock held by another connection); a call must still be answered with a ``<Dial>`` to
the number dialled, promptly, and never with a ``5xx``.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.twilio.wiring import TWILIO
from tests.channels.twilio_kit import (
    ROUTES,
    STAFF_LINE,
    TOKEN,
    FakeClock,
    Gateway,
    call_params,
    only,
    policy,
    settings,
    start,
    verbs,
)
from tests.conftest import postgres_base_url
from tests.rules.factories import CUSTOMER_PHONE, EMERGENCY, STAFF_NUMBER

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
ANSWER_TIMEOUT = 0.5
# Well under Twilio's 15 s: the decision's own limit plus room for a slow test machine.
BOUND_S = ANSWER_TIMEOUT + 2.0


@pytest.fixture
async def gateway(aiohttp_client: Any, postgres_url: str, tmp_path: Path) -> Gateway:
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT, "routes": ROUTES}
    gateway = await start(
        aiohttp_client, settings(postgres_url, tmp_path, twilio=twilio), FakeClock(NOW)
    )
    await gateway.load(policy({"channels": [], "handling": "no_contact"}))
    return gateway


@asynccontextmanager
async def admin(database: str | None = None) -> AsyncIterator[AsyncConnection]:
    url = make_url(postgres_base_url())
    if database is not None:
        url = url.set(database=database)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def timed_post(gateway: Gateway, path: str, params: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    response = await gateway.post(path, params)
    body = await response.text()
    return response.status, body, time.monotonic() - started


async def test_a_dropped_database_still_connects_the_call(
    gateway: Gateway, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with admin() as conn:
        name = make_url(postgres_url).database
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    params = call_params("CA" + "e" * 32, CUSTOMER_PHONE, STAFF_NUMBER)
    status, body, took = await timed_post(gateway, "/twilio/voice", params)
    assert status == 200 and took < BOUND_S
    root = ET.fromstring(body)
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE
    assert any("incident: call" in r.getMessage() for r in caplog.records)
    # Pressing 1 with no store: straight to the emergency line.
    keypad = dict(params, Digits="1")
    status, body, took = await timed_post(gateway, "/twilio/voice/menu", keypad)
    assert status == 200 and took < BOUND_S
    assert only(ET.fromstring(body), "Dial").text == EMERGENCY
    # The end of the dial is still answered with TwiML, and a text is kept in the spool
    # (tests/gateway/twilio/test_sms_spool.py) and answered with an empty response.
    dialled = dict(params, DialCallStatus="completed", DialCallDuration="5")
    status, body, _ = await timed_post(gateway, "/twilio/voice/dialled", dialled)
    assert status == 200 and verbs(ET.fromstring(body)) == ["Hangup"]
    sms = {"MessageSid": "SM" + "e" * 32, "From": CUSTOMER_PHONE, "To": STAFF_NUMBER, "Body": "x"}
    status, body, _ = await timed_post(gateway, "/twilio/sms", sms)
    assert status == 200 and verbs(ET.fromstring(body)) == []
    assert (tmp_path / "spool" / f"{sms['MessageSid']}.json").is_file()
    ended = dict(params, CallStatus="completed", CallDuration="9")
    status, _, _ = await timed_post(gateway, "/twilio/voice/status", ended)
    assert status == 503
    await gateway.app[TWILIO].drain()


async def test_a_hung_store_answers_within_the_time_limit_and_records_the_incident(
    gateway: Gateway, postgres_url: str
) -> None:
    name = make_url(postgres_url).database
    params = call_params("CA" + "f" * 32, CUSTOMER_PHONE, STAFF_NUMBER)
    async with admin(name) as conn:
        await conn.execute(text("BEGIN"))
        await conn.execute(text("LOCK TABLE evidence_head IN ACCESS EXCLUSIVE MODE"))
        status, body, took = await timed_post(gateway, "/twilio/voice", params)
        await conn.execute(text("ROLLBACK"))
    assert status == 200
    assert ANSWER_TIMEOUT <= took < BOUND_S
    root = ET.fromstring(body)
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE
    # Once the store answers again, the incident is on the record, marked degraded.
    await gateway.app[TWILIO].drain()
    incidents = [r for r in await gateway.evidence() if r.kind == "incident"]
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.degraded and incident.contact_key == f"{params['CallSid']}:incident"
    assert (incident.sender, incident.deliver_to) == (CUSTOMER_PHONE, STAFF_LINE)
    assert "TimeoutError" in incident.details["error"]
    # The gateway recovers: the next call is decided normally.
    _, again, _ = await gateway.call()
    assert verbs(again) == ["Gather", "Say", "Hangup"]


async def test_an_undecided_call_without_a_route_is_not_dialled_back_to_the_number_called(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path
) -> None:
    """The store hangs, so the call is put through undecided, to the number dialled;
    with GATEWAY_TWILIO_ROUTES unset that is the Twilio number itself, a loop: the
    caller is told the line cannot connect them instead, and the incident says so
    (issue 16, item 14d)."""
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT}  # no routes
    gateway = await start(
        aiohttp_client, settings(postgres_url, tmp_path, twilio=twilio), FakeClock(NOW)
    )
    await gateway.load(policy({"channels": [], "handling": "no_contact"}))
    params = call_params("CA" + "c" * 32, CUSTOMER_PHONE, STAFF_NUMBER)
    async with admin(make_url(postgres_url).database) as conn:
        await conn.execute(text("BEGIN"))
        await conn.execute(text("LOCK TABLE evidence_head IN ACCESS EXCLUSIVE MODE"))
        status, body, took = await timed_post(gateway, "/twilio/voice", params)
        await conn.execute(text("ROLLBACK"))
    assert status == 200 and took < BOUND_S
    root = ET.fromstring(body)
    assert verbs(root) == ["Say", "Hangup"]
    words = " ".join(say.text or "" for say in root.iter("Say"))
    assert words.startswith("Sorry, this line cannot connect your call.")
    assert "call 01632 960999" in words and STAFF_NUMBER not in body
    await gateway.app[TWILIO].drain()
    (incident,) = [r for r in await gateway.evidence() if r.kind == "incident"]
    assert (incident.action, incident.deliver_to, incident.degraded) == ("message", None, True)
    assert "GATEWAY_TWILIO_ROUTES" in incident.reasons[0]["text"]
