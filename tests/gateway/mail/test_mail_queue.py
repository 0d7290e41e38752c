"""The mail queue and the Maildir upstream: durable, shared safely, released mail sent on."""

from __future__ import annotations

import asyncio
import mailbox
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.mail.queue import QueueWorker, retry_gap
from gateway.mail.release import release_held_email
from gateway.mail.transport import SmtpTransport
from gateway.store import HeldStateError, MailQueue, NewMail, Store
from tests.conftest import sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    START,
    FakeClock,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)


def test_retry_gaps_double_up_to_half_an_hour() -> None:
    gaps = [retry_gap(n) for n in range(1, 9)]
    assert gaps[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert gaps[-1] == timedelta(minutes=30) and max(gaps) == timedelta(minutes=30)


async def test_maildir_delivery_one_folder_per_recipient(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    settings = gateway_settings(sqlite_url(tmp_path), f"maildir:{root}")
    restriction = {"channels": ["email"], "notify_customer": False}
    async with running_gateway(settings, FakeClock(), policy(restriction)) as gateway:
        two = ["housing@example.org", "Repairs@Example.org"]
        assert (
            await transact(gateway.port, "x@example.com", two, message("x@example.com"))
        ).code == 250
        assert (await transact(gateway.port, CUSTOMER, [STAFF], message())).code == 250
    [housing] = list(mailbox.Maildir(root / "housing@example.org", create=False))
    [repairs] = list(mailbox.Maildir(root / "repairs@example.org", create=False))
    [officer] = list(mailbox.Maildir(root / OFFICER, create=False))
    assert housing["Return-Path"] == "<x@example.com>" and housing["Delivered-To"] == STAFF
    assert repairs["Delivered-To"] == "Repairs@Example.org"
    assert officer["X-Contact-Gateway-Redirected-To"] == OFFICER
    assert officer["Return-Path"] == f"<{CUSTOMER}>"


async def test_maildir_that_cannot_be_written_queues_until_it_can(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    root.write_text("a file where the Maildir root should be")
    clock = FakeClock()
    settings = gateway_settings(sqlite_url(tmp_path), f"maildir:{root}")
    async with running_gateway(settings, clock) as gateway:
        reply = await transact(gateway.port, "x@example.com", [STAFF], message("x@example.com"))
        assert reply.code == 250 and "queued" in reply.text
        root.unlink()
        clock.now += timedelta(minutes=1)
        await gateway.mail.worker.step()
        await gateway.mail.worker.settled()
        assert await gateway.mail.queue.pending() == 0
    assert len(list(mailbox.Maildir(root / STAFF, create=False))) == 1


async def test_released_email_goes_to_its_original_recipients(database_url: str) -> None:
    clock = FakeClock()
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        read_and_file = {"handling": "read_and_file", "notify_customer": False}
        async with running_gateway(settings, clock, policy(read_and_file)) as gateway:
            staff = [STAFF, "repairs@example.org"]
            sent = message(to=staff)
            assert (await transact(gateway.port, CUSTOMER, staff, sent)).code == 250
            [held] = await gateway.store.list_held()
            assert upstream.messages == []
            released = await release_held_email(
                gateway.store, gateway.mail.worker, held.id, actor="jsmith", now=clock.now
            )
            await gateway.mail.worker.step()
            await gateway.mail.worker.settled()
            with pytest.raises(HeldStateError):
                await release_held_email(
                    gateway.store, gateway.mail.worker, held.id, actor="jsmith", now=clock.now
                )
    assert released.status == "released" and released.resolved_by == "jsmith"
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == staff and delivered.mail_from == CUSTOMER
    assert delivered.content.endswith(sent)
    assert (
        delivered.header("X-Contact-Gateway-Released")
        == "by jsmith; Tue, 24 Nov 2026 10:30:00 +0000"
    )


async def test_two_gateways_sharing_a_queue_deliver_each_message_once(database_url: str) -> None:
    async with upstream_server() as upstream:
        stores = [await Store.open(database_url) for _ in range(2)]
        try:
            transport = SmtpTransport("127.0.0.1", upstream.port, local_hostname="gw", timeout=10)
            workers = [
                QueueWorker(
                    MailQueue(s.engine),
                    transport,
                    clock=lambda: START,
                    hostname="gw",
                    lifetime=timedelta(days=1),
                )
                for s in stores
            ]
            for i in range(10):
                mail = NewMail(
                    f"k{i}", "relay", "x@example.com", (STAFF,), message(message_id=f"<q{i}@x>")
                )
                assert await workers[0].enqueue(mail)
                assert not await workers[1].enqueue(mail), "the same key is queued once"
            tried = await asyncio.gather(*(w.step() for w in workers))
            assert sum(tried) == 10
            assert await workers[0].queue.pending() == 0
        finally:
            await transport.close()
            for s in stores:
                await s.close()
    assert len(upstream.messages) == 10
    assert len({m.content for m in upstream.messages}) == 10
