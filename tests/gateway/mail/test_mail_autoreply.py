"""Auto-replies: what the customer is told, once a day, and never where RFC 3834 forbids.

Also the sender-authenticity rules: the edge's Authentication-Results are believed only
under the trusted authserv-id and above the edge's Received line; an unauthenticated
sender is never auto-replied to.
"""

from __future__ import annotations

import asyncio
import mailbox
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    FakeClock,
    Gateway,
    Received,
    Upstream,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)

HELD = {
    "channels": ["voice"],
    "call_windows": [{"days": ["wed"], "start": "10:00", "end": "12:00"}],
}
EDGE = "mx.example.org"
EDGE_TRACE = ("Received", "from mail.example.net by mx.example.org; Tue, 24 Nov 2026 10:29:00")
SENDER_TRACE = ("Received", "from laptop by mail.example.net; Tue, 24 Nov 2026 10:28:00")


def edge_says(results: str) -> tuple[str, str]:
    return ("Authentication-Results", f"{EDGE}; {results}")


@dataclass
class Env:
    gateway: Gateway
    upstream: Upstream
    clock: FakeClock

    async def send(self, data: bytes | None = None, *, mail_from: str = CUSTOMER) -> int:
        data = message() if data is None else data
        reply = await transact(self.gateway.port, mail_from, [STAFF], data)
        await flush(self.gateway)
        return reply.code

    def replies(self) -> list[Received]:
        return [m for m in self.upstream.messages if m.mail_from == "<>"]


async def flush(gateway: Gateway) -> None:
    """Let the queue worker deliver everything that is due (bounded)."""
    async with asyncio.timeout(10):
        await gateway.mail.worker.step()
        await gateway.mail.worker.settled()


@asynccontextmanager
async def start(database_url: str, restriction: dict[str, Any], **smtp: Any) -> AsyncIterator[Env]:
    clock = FakeClock()
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}", **smtp)
        async with running_gateway(settings, clock, policy(restriction)) as gateway:
            yield Env(gateway, upstream, clock)


@pytest.fixture
async def env(sqlite_database_url: str) -> AsyncIterator[Env]:
    async with start(sqlite_database_url, HELD) as running:
        yield running


@pytest.fixture
async def edge_env(sqlite_database_url: str) -> AsyncIterator[Env]:
    async with start(sqlite_database_url, HELD, trusted_authserv_id=EDGE) as running:
        yield running


async def test_the_customer_is_told_what_is_allowed_instead(database_url: str) -> None:
    async with start(database_url, HELD) as env:
        assert await env.send(message(subject="My boiler")) == 250
        [reply] = env.replies()
    assert reply.rcpt_tos == [CUSTOMER] and reply.mail_from == "<>"
    assert reply.header("Auto-Submitted") == "auto-replied"
    assert reply.header("Subject") == "Auto: My boiler"
    assert reply.header("In-Reply-To") == "<m1@example.net>"
    assert reply.header("From") == STAFF
    text = reply.text()
    assert "we cannot accept emails from you" in text
    assert "by phone to Jane Smith on 01632 960001" in text
    assert "next time you can call is Wednesday 25 November between 10 am and 12 noon" in text


async def test_at_most_one_reply_a_day(env: Env) -> None:
    assert await env.send(message(message_id="<d1@x>")) == 250
    assert await env.send(message(message_id="<d2@x>")) == 250
    assert len(env.replies()) == 1
    env.clock.now += timedelta(days=1)
    assert await env.send(message(message_id="<d3@x>")) == 250
    assert len(env.replies()) == 2


async def test_a_retried_message_is_not_answered_twice(env: Env) -> None:
    for _ in range(3):
        assert await env.send(message(message_id="<same@x>")) == 250
    assert len(env.replies()) == 1


SUPPRESSED = [
    pytest.param({"mail_from": ""}, (), id="null sender"),
    pytest.param({"mail_from": "MAILER-DAEMON@example.net"}, (), id="mailer-daemon"),
    pytest.param({"mail_from": "owner-list@example.net"}, (), id="owner- address"),
    pytest.param({}, [("Auto-Submitted", "auto-generated")], id="auto-generated"),
    pytest.param({}, [("Auto-Submitted", "auto-replied")], id="auto-replied"),
    pytest.param({}, [("Precedence", "bulk")], id="precedence bulk"),
    pytest.param({}, [("Precedence", "list")], id="precedence list"),
    pytest.param({}, [("Precedence", "junk")], id="precedence junk"),
    pytest.param({}, [("List-Id", "<tenants.example.net>")], id="List-Id"),
    pytest.param({}, [("List-Unsubscribe", "<mailto:leave@example.net>")], id="List-Unsubscribe"),
]


@pytest.mark.parametrize(("envelope", "headers"), SUPPRESSED)
async def test_never_answered(
    env: Env, envelope: dict[str, str], headers: list[tuple[str, str]]
) -> None:
    assert await env.send(message(headers=headers, message_id="<auto@x>"), **envelope) == 250
    assert env.replies() == []
    [record] = await env.gateway.store.list_evidence()
    assert record.details["auto_reply_suppressed"]
    # The day's one notice is still there for a message that may be answered.
    assert await env.send(message(message_id="<human@x>")) == 250
    assert [r.rcpt_tos for r in env.replies()] == [[CUSTOMER]]


async def test_auto_submitted_no_is_answered(env: Env) -> None:
    assert await env.send(message(headers=[("Auto-Submitted", "no")])) == 250
    assert len(env.replies()) == 1


async def test_authenticated_sender_is_answered(edge_env: Env) -> None:
    headers = [edge_says("dmarc=pass header.from=example.net"), EDGE_TRACE, SENDER_TRACE]
    assert await edge_env.send(message(headers=headers)) == 250
    assert len(edge_env.replies()) == 1
    [record] = await edge_env.gateway.store.list_evidence()
    assert record.details["authenticated"] is True
    assert record.details["authentication"]["results"]["dmarc"] == "pass"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([EDGE_TRACE], id="no results at all"),
        pytest.param(
            [edge_says("spf=fail smtp.mailfrom=example.net; dkim=none"), EDGE_TRACE], id="fail"
        ),
        pytest.param(
            [("Authentication-Results", "mx.elsewhere.example; dmarc=pass"), EDGE_TRACE],
            id="someone else's results",
        ),
        pytest.param(
            [EDGE_TRACE, edge_says("dmarc=pass header.from=example.net"), SENDER_TRACE],
            id="forged below the edge's Received",
        ),
    ],
)
async def test_unauthenticated_sender_is_never_answered(
    edge_env: Env, headers: list[tuple[str, str]]
) -> None:
    assert await edge_env.send(message(headers=headers)) == 250
    assert edge_env.replies() == []
    [record] = await edge_env.gateway.store.list_evidence()
    assert record.details["authenticated"] is False


async def test_forged_results_are_stripped_from_relayed_mail(tmp_path: Path) -> None:
    deliver = {"channels": ["email"]}
    async with start(sqlite_url(tmp_path), deliver, trusted_authserv_id=EDGE) as env:
        genuine = edge_says("spf=pass smtp.mailfrom=alex@example.net")
        forged = edge_says("dmarc=pass header.from=example.net (forged)")
        data = message(headers=[genuine, EDGE_TRACE, forged, SENDER_TRACE])
        assert await env.send(data) == 250
        [delivered] = env.upstream.messages
        [record] = await env.gateway.store.list_evidence()
    assert delivered.rcpt_tos == [OFFICER]
    assert b"(forged)" not in delivered.content
    assert b"spf=pass smtp.mailfrom=alex@example.net" in delivered.content
    assert record.details["authenticated"] is True
    assert record.details["authentication"]["forged_fields_stripped"] == 1


async def test_in_maildir_mode_replies_go_to_the_outbox(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = gateway_settings(sqlite_url(tmp_path), f"maildir:{tmp_path / 'mail'}")
    async with running_gateway(settings, clock, policy(HELD)) as gateway:
        assert (await transact(gateway.port, CUSTOMER, [STAFF], message())).code == 250
        await flush(gateway)
    outbox = mailbox.Maildir(tmp_path / "mail" / "outbox", create=False)
    [reply] = list(outbox)
    assert reply["To"] == CUSTOMER and reply["Return-Path"] == "<>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert not (tmp_path / "mail" / STAFF).exists(), "held mail is not delivered"
