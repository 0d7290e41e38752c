"""Faults injected for real: the upstream stopped, refusing, hanging; the database gone.

The rule under test: a message is answered 250 only once it is safe, and a message
answered 250 is delivered (or bounced to its sender) — never lost, never doubled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.mail.queue import FIRST_RETRY
from tests.conftest import postgres_base_url, sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    FakeClock,
    Gateway,
    Received,
    Upstream,
    free_port,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
)

STRANGER = "stranger@example.com"


@dataclass
class Env:
    gateway: Gateway
    upstream: Upstream
    clock: FakeClock

    async def deliver_due(self, *, after: timedelta = FIRST_RETRY) -> None:
        """Move time on and let the queue worker finish whatever is due (bounded)."""
        self.clock.now += after
        async with asyncio.timeout(10):
            await self.gateway.mail.worker.step()
            await self.gateway.mail.worker.settled()


@asynccontextmanager
async def start_env(
    database_url: str, *, upstream_up: bool = True, **smtp: Any
) -> AsyncIterator[Env]:
    clock = FakeClock()
    upstream = Upstream()
    if upstream_up:
        await upstream.start()
    try:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}", **smtp)
        restriction = {"channels": ["email"], "notify_customer": False}
        async with running_gateway(settings, clock, policy(restriction)) as gateway:
            yield Env(gateway, upstream, clock)
    finally:
        await upstream.stop()


@pytest.fixture
async def env(sqlite_database_url: str) -> AsyncIterator[Env]:
    async with start_env(sqlite_database_url) as running:
        yield running


@pytest.fixture
async def stored(database_url: str) -> AsyncIterator[Env]:
    """On SQLite and PostgreSQL: the queue must keep mail on both."""
    async with start_env(database_url) as running:
        yield running


@pytest.fixture
async def down(database_url: str) -> AsyncIterator[Env]:
    async with start_env(database_url, upstream_up=False) as running:
        yield running


@pytest.fixture
async def down_lite(sqlite_database_url: str) -> AsyncIterator[Env]:
    async with start_env(sqlite_database_url, upstream_up=False) as running:
        yield running


async def test_upstream_down_queues_then_delivers_once_it_returns(down: Env) -> None:
    sent = message(STRANGER, message_id="<down@x>")
    reply = await transact(down.gateway.port, STRANGER, [STAFF], sent)
    assert reply.code == 250 and "queued" in reply.text
    [queued] = await down.gateway.mail.queue.list_queued()
    assert queued.recipients == (STAFF,) and "unavailable" in str(queued.last_error)
    await down.deliver_due()  # still down: tried, kept for later
    [still] = await down.gateway.mail.queue.list_queued()
    assert still.attempts == 1 and "unavailable" in str(still.last_error)
    await down.upstream.start()
    await down.deliver_due(after=timedelta(minutes=1))
    await down.deliver_due(after=timedelta(hours=1))
    [delivered] = down.upstream.messages
    assert delivered.rcpt_tos == [STAFF] and delivered.content.endswith(sent)
    assert await down.gateway.mail.queue.pending() == 0


async def test_redirected_mail_waits_for_the_upstream_and_is_recorded_once(down_lite: Env) -> None:
    sent = message(message_id="<redirect-down_lite@x>")
    for _ in range(2):  # the client retries too, as if it had not heard the 250
        assert (await transact(down_lite.gateway.port, CUSTOMER, [STAFF], sent)).code == 250
    assert len(await down_lite.gateway.store.list_evidence()) == 1
    assert await down_lite.gateway.mail.queue.pending() == 1
    await down_lite.upstream.start()
    await down_lite.deliver_due()
    [delivered] = down_lite.upstream.messages
    assert delivered.rcpt_tos == [OFFICER]
    assert delivered.header("X-Contact-Gateway-Redirected-To") == OFFICER


async def test_upstream_saying_try_later_after_data(stored: Env) -> None:
    stored.upstream.data_reply = "451 4.3.0 Mailbox busy"
    reply = await transact(stored.gateway.port, STRANGER, [STAFF], message(STRANGER))
    assert reply.code == 250 and "queued" in reply.text
    [queued] = await stored.gateway.mail.queue.list_queued()
    assert "Mailbox busy" in str(queued.last_error) and queued.attempts == 0
    stored.upstream.data_reply = None
    await stored.deliver_due()
    assert len(stored.upstream.messages) == 1
    await stored.deliver_due(after=timedelta(hours=2))
    assert len(stored.upstream.messages) == 1, "delivered once, not again"


async def test_upstream_refusing_after_data_is_passed_on_and_nothing_kept(env: Env) -> None:
    env.upstream.data_reply = "554 5.7.1 Message rejected as spam"
    reply = await transact(env.gateway.port, STRANGER, [STAFF], message(STRANGER))
    assert reply.code == 554
    assert reply.text.startswith("5.7.1 Message rejected as spam")
    assert await env.gateway.mail.queue.pending() == 0


async def test_recipient_refused_after_others_accepted_gets_a_bounce(env: Env) -> None:
    env.upstream.refuse["gone@example.org"] = "550 5.1.1 No such user"
    sent = message(STRANGER, to=[STAFF, "gone@example.org"], subject="Two of you")
    reply = await transact(env.gateway.port, STRANGER, [STAFF, "gone@example.org"], sent)
    assert reply.code == 250
    await env.deliver_due(after=timedelta(0))
    delivered, bounce = env.upstream.messages
    assert delivered.rcpt_tos == [STAFF]
    assert (bounce.mail_from, bounce.rcpt_tos) == ("<>", [STRANGER])
    report = BytesParser(policy=SMTP).parsebytes(bounce.content)
    assert report.get_content_type() == "multipart/report"
    status = next(
        p for p in report.iter_parts() if p.get_content_type() == "message/delivery-status"
    )
    blocks = status.get_payload()
    assert isinstance(blocks, list)
    assert blocks[1]["Final-Recipient"] == "rfc822; gone@example.org"
    assert blocks[1]["Status"] == "5.1.1"


async def test_queue_lifetime_ends_in_a_bounce(tmp_path: Path) -> None:
    async with start_env(sqlite_url(tmp_path), upstream_up=False, queue_lifetime="PT1H") as env:
        sent = message(STRANGER, subject="Lost in the post")
        assert (await transact(env.gateway.port, STRANGER, [STAFF], sent)).code == 250
        assert (await transact(env.gateway.port, "", [STAFF], message("x@example.com"))).code == 250
        await env.deliver_due(after=timedelta(hours=2))  # past the lifetime, still down
        [bounce] = await env.gateway.mail.queue.list_queued()
        assert bounce.kind == "bounce" and bounce.recipients == (STRANGER,)
        await env.upstream.start()
        await env.deliver_due(after=timedelta(0))
        [delivered] = env.upstream.messages
    assert (delivered.mail_from, delivered.rcpt_tos) == ("<>", [STRANGER])
    assert "before the time limit for retrying ran out" in delivered.text()
    assert "Lost in the post" in delivered.text()


class Hanging:
    """A server that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.port = free_port()
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> Hanging:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)

        self._server = await asyncio.start_server(silent, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self.writers:
            writer.close()
        await self._server.wait_closed()


async def test_hanging_upstream_times_out_and_the_message_is_queued(tmp_path: Path) -> None:
    async with Hanging() as hanging:
        settings = gateway_settings(
            sqlite_url(tmp_path), f"smtp://127.0.0.1:{hanging.port}", relay_timeout=0.3
        )
        async with running_gateway(settings, FakeClock()) as gateway:
            reply = await transact(gateway.port, STRANGER, [STAFF], message(STRANGER))
            assert reply.code == 250 and "queued" in reply.text
            assert await gateway.mail.queue.pending() == 1


@dataclass
class SlowUpstream(Upstream):
    """Keeps each message on its final dot (as a mailbox server commits it to its queue)
    and answers only when the test says so: an upstream slower than the relay timeout."""

    answer: asyncio.Event = field(default_factory=asyncio.Event)
    kept: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        self.kept.set()
        await self.answer.wait()
        return "250 2.0.0 Ok: stored"


async def test_an_upstream_answering_after_the_relay_timeout_gets_the_message_once(
    database_url: str,
) -> None:
    """RFC 1047's duplicate: the upstream has the message but answers the final dot late.
    The sender is answered at the relay timeout (the message queued), but the upstream's
    late acceptance settles the queued message: the worker does not send it again."""
    upstream = SlowUpstream()
    await upstream.start()
    try:
        settings = gateway_settings(
            database_url, f"smtp://127.0.0.1:{upstream.port}", relay_timeout=2.0
        )
        clock = FakeClock()
        async with running_gateway(settings, clock) as gateway:
            env = Env(gateway, upstream, clock)
            sent = message(STRANGER, message_id="<slow@x>")
            reply = await transact(gateway.port, STRANGER, [STAFF], sent)
            assert reply.code == 250 and "queued" in reply.text
            assert await gateway.mail.queue.pending() == 1, "safe before the 250"
            async with asyncio.timeout(30):
                await upstream.kept.wait()  # the upstream has it, and has not answered yet
            # For the 10 minutes RFC 5321 gives the reply to the final dot, nothing is sent
            # again while the upstream has not answered.
            clock.now += timedelta(minutes=10)
            async with asyncio.timeout(30):
                assert await gateway.mail.worker.step() == 0
            upstream.answer.set()
            async with asyncio.timeout(30):
                await gateway.mail.worker.settled()  # the first attempt has its answer
            assert await gateway.mail.queue.pending() == 0
            await env.deliver_due(after=timedelta(hours=1))
            await env.deliver_due(after=timedelta(days=1))
    finally:
        await upstream.stop()
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [STAFF] and delivered.content.endswith(sent)


async def _drop(database_url: str) -> None:
    name = make_url(database_url).database
    admin = create_async_engine(
        make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.mark.postgres
async def test_store_unavailable_answers_451(postgres_url: str) -> None:
    async with start_env(postgres_url) as env:
        assert (await transact(env.gateway.port, STRANGER, [STAFF], message(STRANGER))).code == 250
        await _drop(postgres_url)
        # A restricted customer's mail needs its evidence written first: 451 at once.
        reply = await transact(env.gateway.port, CUSTOMER, [STAFF], message(message_id="<c@y>"))
        assert reply.code == 451 and reply.text.startswith("4.3.0")
        # Other mail needs nothing stored; it flows while the policy read a moment ago
        # is fresh (ContactService.POLICY_RECHECK_S), then it too is answered 451.
        codes = []
        for attempt in range(200):  # bounded: about 4 s
            sent = message(STRANGER, message_id=f"<s{attempt}@y>")
            codes.append((await transact(env.gateway.port, STRANGER, [STAFF], sent)).code)
            if codes[-1] == 451:
                break
            await asyncio.sleep(0.02)
        assert codes[-1] == 451 and set(codes) <= {250, 451}
        assert len(env.upstream.messages) == codes.count(250) + 1, "every 250 was delivered"
        assert env.upstream.to(OFFICER) == [], "nothing of the customer's went out"
