"""Scope and dedicated route through SMTP: a real client, the gateway's listener, and an
aiosmtpd upstream, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.api.deps import API
from gateway.config.teams import TEAMS_SETTING
from gateway.store.casework.casework import write_settings
from tests.gateway.mail_support import (
    CUSTOMER,
    STAFF,
    FakeClock,
    Gateway,
    Upstream,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)

COMPLAINTS = "complaints@example.org"
REPAIRS = "repairs@example.org"
TENANCY = "tenancy.alex@example.org"
TEAMS = {
    "complaints": {"name": "Complaints", "addresses": [COMPLAINTS], "numbers": []},
    "repairs": {"name": "Repairs", "addresses": [REPAIRS], "numbers": []},
}


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[tuple[Gateway, Upstream]]:
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        async with running_gateway(settings, FakeClock()) as gateway:
            async with gateway.app[API].admin.writing("admin", "setting the teams") as tx:
                await write_settings(tx, {TEAMS_SETTING: TEAMS})
            yield gateway, upstream


async def use(gateway: Gateway, **clauses: Any) -> None:
    quiet = {"notify_customer": False, "named_officer": None, **clauses}
    await gateway.store.upsert_policy(policy(quiet), actor="test")


async def send(gateway: Gateway, to: str, subject: str) -> None:
    reply = await transact(gateway.port, CUSTOMER, [to], message(to=[to], subject=subject))
    assert reply.code == 250, reply


async def test_scoped_to_the_complaints_team_holds_complaints_and_leaves_repairs_alone(
    running: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = running
    await use(gateway, handling="read_and_file", scope={"teams": ["complaints"]})
    await send(gateway, COMPLAINTS, "My rent account again")
    await send(gateway, REPAIRS, "My boiler")
    [held] = await gateway.store.list_held()
    assert (held.hold_reason, held.summary) == ("read_and_file", "My rent account again")
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [REPAIRS]
    assert delivered.header("Subject") == "My boiler"
    # Untouched: no restriction header, no redirect, no evidence record of it.
    assert delivered.header("X-Contact-Gateway-Restriction") is None
    assert [r.recipient for r in await gateway.store.list_evidence()] == [COMPLAINTS]


async def test_copying_in_a_service_outside_the_scope_does_not_escape_it(
    running: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = running
    await use(gateway, handling="read_and_file", scope={"teams": ["complaints"]})
    both = message(to=[REPAIRS, COMPLAINTS], subject="To both")
    assert (await transact(gateway.port, CUSTOMER, [REPAIRS, COMPLAINTS], both)).code == 250
    assert upstream.messages == []
    [held] = await gateway.store.list_held()
    assert held.summary == "To both"


async def test_dedicated_route_redirects_mail_sent_elsewhere(
    running: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = running
    await use(gateway, dedicated_route={"email": TENANCY})
    await send(gateway, STAFF, "About my tenancy")
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [TENANCY]
    assert delivered.header("To") == STAFF  # the message itself is unchanged
    assert delivered.header("X-Contact-Gateway-Redirected-To") == TENANCY
    [record] = await gateway.store.list_evidence()
    assert (record.action, record.deliver_to, record.counted) == ("deliver", TENANCY, True)
    assert await gateway.store.list_held() == []


async def test_dedicated_route_that_holds_holds_mail_sent_elsewhere(
    running: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = running
    await use(gateway, dedicated_route={"email": TENANCY, "otherwise": "hold"})
    await send(gateway, STAFF, "A question about my rent statement")
    await send(gateway, TENANCY, "Sent to the right place")
    [held] = await gateway.store.list_held()
    assert (held.hold_reason, held.summary) == ("off_route", "A question about my rent statement")
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [TENANCY]
    assert delivered.header("Subject") == "Sent to the right place"
