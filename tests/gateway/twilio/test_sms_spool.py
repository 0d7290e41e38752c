"""Texts that arrive while the store is down: kept in the local spool, recorded once later.

The store is taken away for real. PostgreSQL: the test's database stops accepting
connections and its backends are terminated (``StoreUnavailable``), then it is allowed
again. SQLite: another connection holds the file's write lock, as a backup or a second
process might, so recording runs into the webhook's time limit. Either way Twilio gets
``200`` and an empty ``<Response/>``, the text is a file in the spool, and the worker
records it once the store answers: once, dated when it arrived, then the file goes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mailbox
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.app import create_app
from gateway.config.settings import SettingsError, load_settings
from gateway.mail.lifecycle import MAIL
from gateway.spool.maildir import SpoolUnusable
from gateway.spool.replay import REPLAY_TIMING, ReplayTiming
from gateway.store import EvidenceRecord, Store
from gateway.twilio.sms_spool import SmsSpool, SpooledText
from tests.channels.twilio_kit import (
    ACCOUNT_SID,
    TOKEN,
    FakeClock,
    Gateway,
    new_sid,
    policy,
    settings,
    start,
    verbs,
)
from tests.conftest import postgres_base_url, sqlite_url
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
ANSWER_TIMEOUT = 0.5
FAST = ReplayTiming(first_gap=0.05, longest_gap=0.25, attempt_timeout=1.0, poll=0.25)
DEADLINE_S = 20.0
HELD = {"channels": ["email"]}  # a text is held, and the customer told what is allowed
DELIVERED = {"channels": ["sms"]}  # a text goes to the named officer, Jane Smith


class Outage:
    """Takes the gateway's database away for real, and gives it back."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self._lock: sqlite3.Connection | None = None

    @property
    def sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    async def down(self, *, spare: int | None = None) -> None:
        """``spare``: a PostgreSQL backend (pid) of the test's own to leave connected."""
        if self.sqlite:
            assert self.url.database is not None
            self._lock = sqlite3.connect(self.url.database, isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")
            return
        await self._admin(
            f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.url.database}' AND pid <> pg_backend_pid()"
            + ("" if spare is None else f" AND pid <> {int(spare)}"),
        )

    async def up(self) -> None:
        if self.sqlite:
            if self._lock is not None:
                self._lock.execute("ROLLBACK")
                self._lock.close()
                self._lock = None
            return
        await self._admin(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS true')

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(
            make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()


@dataclass
class Env:
    gateway: Gateway
    outage: Outage
    spool: Path
    clock: FakeClock


@pytest.fixture
async def env(aiohttp_client: Any, database_url: str, tmp_path: Path) -> AsyncIterator[Env]:
    outage = Outage(database_url)
    clock = FakeClock(NOW)
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT}
    gateway = await start(
        aiohttp_client,
        settings(database_url, tmp_path, twilio=twilio, spool_dir=tmp_path / "spool"),
        clock,
        {REPLAY_TIMING: FAST},
    )
    try:
        yield Env(gateway, outage, tmp_path / "spool", clock)
    finally:
        await outage.up()


async def post_text(gateway: Gateway, sid: str, body: str) -> ClientResponse:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER_PHONE,
        "To": STAFF_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    return await gateway.post("/twilio/sms", params)


async def answered_empty(response: ClientResponse) -> bool:
    body = await response.text()
    return response.status == 200 and verbs(ET.fromstring(body)) == []


def kept(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.glob("*.json")) if spool.is_dir() else []


async def until(what: str, check: Callable[[], Any]) -> None:
    """Wait (bounded) for ``check()`` to be true; ``check`` may be a coroutine function."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


async def records_for(gateway: Gateway, sid: str) -> list[EvidenceRecord]:
    return [r for r in await gateway.evidence() if r.contact_key == sid]


async def test_a_text_while_the_store_is_down_is_kept_then_recorded_once(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = env.gateway
    await gateway.load(policy(HELD))
    await env.outage.down()
    sid = new_sid("SM")
    assert await answered_empty(await post_text(gateway, sid, "The fence, again"))
    assert kept(env.spool) == [f"{sid}.json"]
    saved = json.loads((env.spool / f"{sid}.json").read_text())
    assert saved["message_sid"] == sid and saved["params"]["Body"] == "The fence, again"
    assert datetime.fromisoformat(saved["received_at"]) == NOW
    # Twilio retries while it is still down: the same answer, one file, first arrival kept.
    env.clock.now = NOW + timedelta(minutes=1)
    assert await answered_empty(await post_text(gateway, sid, "The fence, again"))
    assert kept(env.spool) == [f"{sid}.json"]
    assert (
        json.loads((env.spool / f"{sid}.json").read_text())["received_at"] == saved["received_at"]
    )
    # The worker tries, finds the store still down, and keeps the text.
    await until(
        "a replay to find the store down",
        lambda: any(f"cannot take text {sid} yet" in r.getMessage() for r in caplog.records),
    )
    assert kept(env.spool) == [f"{sid}.json"]
    if env.outage.sqlite:  # readers still get in: nothing is on the record yet
        assert await gateway.evidence() == []
    env.clock.now = NOW + timedelta(minutes=10)
    await env.outage.up()
    await until("the spool to empty", lambda: kept(env.spool) == [])
    (record,) = await records_for(gateway, sid)
    assert record.occurred_at == NOW, "dated when it arrived, not when it was replayed"
    assert (record.action, record.hold_reason) == ("hold", "channel_not_allowed")
    assert await gateway.store.get_content(record.content_sha256 or "") == b"The fence, again"
    # Twilio retries after the replay: still one record, nothing spooled.
    retry = await post_text(gateway, sid, "The fence, again")
    assert retry.status == 200 and kept(env.spool) == []
    assert len(await records_for(gateway, sid)) == 1
    # No late reply used up the day's one notice: the next live text gets it.
    root, _ = await gateway.text("Hello?")
    assert [m.text for m in root.findall("Message")] != []


@pytest.mark.postgres
async def test_a_replayed_text_is_forwarded_to_the_named_officer(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path
) -> None:
    outage = Outage(postgres_url)
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT}
    gateway = await start(
        aiohttp_client,
        settings(postgres_url, tmp_path, twilio=twilio, spool_dir=tmp_path / "spool"),
        FakeClock(NOW),
        {REPLAY_TIMING: FAST},
    )
    await gateway.load(policy(DELIVERED))
    sid = new_sid("SM")
    try:
        await outage.down()
        assert await answered_empty(await post_text(gateway, sid, "The boiler is noisy"))
        assert kept(tmp_path / "spool") == [f"{sid}.json"]
    finally:
        await outage.up()
    box = tmp_path / "jane.smith@example.org"

    async def emailed() -> bool:
        await gateway.app[MAIL].worker.step()
        return (box / "new").is_dir() and any((box / "new").iterdir())

    await until("the officer's email", emailed)
    (mail,) = (message_from_bytes(p.read_bytes()) for p in (box / "new").iterdir())
    assert mail["X-Twilio-MessageSid"] == sid
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes) and b"The boiler is noisy" in payload
    (record,) = await records_for(gateway, sid)
    assert (record.action, record.deliver_to, record.occurred_at) == (
        "deliver",
        "jane.smith@example.org",
        NOW,
    )
    assert kept(tmp_path / "spool") == [] and len(mailbox.Maildir(box, create=False)) == 1


async def test_a_spool_left_by_a_crashed_process_is_drained_at_start_up(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    config = settings(database_url, tmp_path, spool_dir=spool_dir)
    first = await start(aiohttp_client, config, FakeClock(NOW))
    await first.load(policy(DELIVERED))
    recorded = new_sid("SM")
    await first.text("Recorded before the crash", sid=recorded)
    await first.client.close()
    # What the crashed process left: the text it had recorded (its file not yet
    # deleted) and one it never could.
    spool = SmsSpool(spool_dir)
    waiting = new_sid("SM")
    earlier = NOW - timedelta(hours=2)
    for sid, body, at in ((recorded, "Recorded before the crash", NOW), (waiting, "Kept", earlier)):
        params = {"MessageSid": sid, "From": CUSTOMER_PHONE, "To": STAFF_NUMBER, "Body": body}
        assert await spool.keep(SpooledText(sid, at, params))
    assert len(kept(spool_dir)) == 2
    second = await start(aiohttp_client, config, FakeClock(NOW + timedelta(hours=1)))
    await until("the spool to drain at start-up", lambda: kept(spool_dir) == [])
    (old,) = await records_for(second, recorded)
    assert old.occurred_at == NOW
    (new,) = await records_for(second, waiting)
    assert (new.occurred_at, new.action) == (earlier, "deliver")
    assert len(await second.evidence()) == 2
    # Both reach the officer, once each: a replayed text is forwarded even when its
    # record was already there, and the email is keyed by the MessageSid.
    mail = second.app[MAIL]

    async def all_sent() -> bool:
        await mail.worker.step()
        return await mail.queue.pending() == 0

    await until("the officer's emails", all_sent)
    box = mailbox.Maildir(tmp_path / "jane.smith@example.org", create=False)
    sids = sorted(str(m["X-Twilio-MessageSid"]) for m in box)
    assert sids == sorted([recorded, waiting])


async def test_a_corrupt_spool_file_is_moved_aside_with_an_error(
    aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    garbage = b'{"format": 1, "message_sid": "SMtorn", "rece'
    (spool_dir / "SMtorn.json").write_bytes(garbage)
    no_time = json.dumps({"format": 1, "message_sid": "SMnotime", "params": {}}).encode()
    (spool_dir / "SMnotime.json").write_bytes(no_time)
    good = new_sid("SM")
    params = {"MessageSid": good, "From": CUSTOMER_PHONE, "To": STAFF_NUMBER, "Body": "Fine"}
    await SmsSpool(spool_dir).keep(SpooledText(good, NOW, params))
    caplog.set_level(logging.ERROR, logger="gateway.twilio.sms_spool")
    store = await Store.open(sqlite_url(tmp_path), migrate=True)
    await store.upsert_policy(policy(HELD), actor="test")
    await store.close()
    gateway = await start(
        aiohttp_client,
        settings(sqlite_url(tmp_path), tmp_path, spool_dir=spool_dir),
        FakeClock(NOW),
        {REPLAY_TIMING: FAST},
    )
    await until("the good text to be replayed", lambda: kept(spool_dir) == [])
    assert (spool_dir / "bad" / "SMtorn.json").read_bytes() == garbage
    assert (spool_dir / "bad" / "SMnotime.json").read_bytes() == no_time
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("not JSON" in e and str(spool_dir / "SMtorn.json") in e for e in errors)
    assert any(
        "received_at is missing" in e and str(spool_dir / "SMnotime.json") in e for e in errors
    )
    assert len(await records_for(gateway, good)) == 1


async def test_a_text_that_cannot_be_kept_either_gets_503(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    database = sqlite_url(tmp_path)
    spool_dir = tmp_path / "spool"
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT}
    gateway = await start(
        aiohttp_client,
        settings(database, tmp_path, twilio=twilio, spool_dir=spool_dir),
        FakeClock(NOW),
        {REPLAY_TIMING: FAST},
    )
    await gateway.load(policy(HELD))
    # The spool breaks (its tmp/ is no longer a directory) and the store is down.
    (spool_dir / "tmp").rmdir()
    (spool_dir / "tmp").write_text("not a directory")
    outage = Outage(database)
    await outage.down()
    try:
        response = await post_text(gateway, new_sid("SM"), "Lost?")
        assert response.status == 503, "Twilio must use the fallback URL, not drop it"
        assert kept(spool_dir) == []
    finally:
        await outage.up()


def test_the_spool_directory_setting_names_the_variable(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    for value, words in (
        ("", "must name a directory"),
        (str(a_file), "exists and is not a directory"),
        (str(a_file / "spool"), "is not a directory, so"),
    ):
        with pytest.raises(SettingsError, match="GATEWAY_SPOOL_DIR") as raised:
            load_settings(spool_dir=value)
        assert words in str(raised.value)
    assert load_settings(spool_dir=str(tmp_path / "new" / "spool")).spool_dir == (
        tmp_path / "new" / "spool"
    )


async def test_a_spool_that_cannot_be_made_stops_start_up(tmp_path: Path) -> None:
    config = settings(sqlite_url(tmp_path), tmp_path, spool_dir=tmp_path / "later" / "spool")
    (tmp_path / "later").write_text("became a file after the settings were read")
    app = create_app(config, clock=FakeClock(NOW))
    server = TestServer(app)
    with pytest.raises(SpoolUnusable, match="GATEWAY_SPOOL_DIR"):
        await server.start_server()
    await server.close()


@pytest.mark.slow
async def test_a_text_whose_forward_fails_is_kept_and_forwarded_by_the_replay(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path
) -> None:
    """The evidence is written but the officer's copy cannot be queued (the mail queue's
    table is locked for longer than the forward may take): Twilio still gets its 200, so
    the text goes to the spool, and the replay forwards it once the queue is free."""
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT}
    gateway = await start(
        aiohttp_client,
        settings(postgres_url, tmp_path, twilio=twilio, spool_dir=tmp_path / "spool"),
        FakeClock(NOW),
        {REPLAY_TIMING: FAST},
    )
    await gateway.load(policy(DELIVERED))
    sid = new_sid("SM")
    locker = create_async_engine(postgres_url, poolclass=NullPool)
    try:
        async with locker.connect() as conn:
            await conn.execute(text("LOCK TABLE mail_queue IN ACCESS EXCLUSIVE MODE"))
            response = await post_text(gateway, sid, "The boiler is noisy")
            assert response.status == 200
            assert kept(tmp_path / "spool") == [f"{sid}.json"]
            await conn.rollback()
    finally:
        await locker.dispose()
    box = tmp_path / "jane.smith@example.org"

    async def emailed() -> bool:
        await gateway.app[MAIL].worker.step()
        return (box / "new").is_dir() and any((box / "new").iterdir())

    await until("the officer's email", emailed)
    assert len(mailbox.Maildir(box, create=False)) == 1
    assert len(await records_for(gateway, sid)) == 1
    assert kept(tmp_path / "spool") == []
