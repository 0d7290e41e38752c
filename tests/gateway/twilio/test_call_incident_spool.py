"""Calls put through while the store is down: the incident kept on disk, recorded once later.

The store is taken away for real, as in ``test_sms_spool``: the test's PostgreSQL
database stops accepting connections and its backends are terminated. A call is still
connected to the number dialled; its incident record, which the store cannot take, is
kept in ``incidents/`` under the spool directory and appended by the worker once the
store answers: once, dated when the call arrived, then the file goes.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.ops.metrics import METRICS
from gateway.spool.maildir import BadSpoolFile
from gateway.spool.replay import REPLAY_TIMING
from gateway.store import EvidenceEntry, EvidenceRecord
from gateway.twilio.incident_spool import IncidentSpool, SpooledIncident
from tests.channels.twilio_kit import (
    ROUTES,
    STAFF_LINE,
    TOKEN,
    FakeClock,
    Gateway,
    new_sid,
    only,
    policy,
    settings,
    start,
    verbs,
)
from tests.gateway.twilio.test_sms_spool import (
    ANSWER_TIMEOUT,
    FAST,
    HELD,
    NOW,
    Outage,
    records_for,
    until,
)
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER


def incident_files(spool: Path) -> list[str]:
    folder = spool / "incidents"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def no_decision_count(gateway: Gateway) -> float:
    value = gateway.app[METRICS].registry.get_sample_value(
        "gateway_degraded_decisions_total", {"channel": "voice", "reason": "no_decision"}
    )
    return value or 0.0


async def connected_to_the_number_dialled(gateway: Gateway, sid: str) -> None:
    _, root, _ = await gateway.call(sid=sid)  # asserts 200 and text/xml
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE


async def start_gateway(aiohttp_client: Any, database: str, tmp_path: Path, at: Any) -> Gateway:
    twilio = {"auth_token": TOKEN, "answer_timeout": ANSWER_TIMEOUT, "routes": ROUTES}
    return await start(
        aiohttp_client,
        settings(database, tmp_path, twilio=twilio, spool_dir=tmp_path / "spool"),
        FakeClock(at),
        {REPLAY_TIMING: FAST},
    )


def incident_entry(call_sid: str, at: Any) -> EvidenceEntry:
    return EvidenceEntry(
        kind="incident",
        contact_key=f"{call_sid}:incident",
        occurred_at=at,
        channel="voice",
        sender=CUSTOMER_PHONE,
        recipient=STAFF_NUMBER,
        action="connect",
        deliver_to=STAFF_NUMBER,
        degraded=True,
        reasons=[{"code": "degraded.no_decision", "text": "No decision could be made."}],
        details={"error": "StoreUnavailable: the database is down", "emergency_requested": False},
    )


async def incidents_of(gateway: Gateway, sid: str) -> list[EvidenceRecord]:
    return await records_for(gateway, f"{sid}:incident")


@pytest.mark.postgres
async def test_a_call_while_the_store_is_down_is_connected_and_its_incident_recorded_once(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    spool = tmp_path / "spool"
    gateway = await start_gateway(aiohttp_client, postgres_url, tmp_path, NOW)
    await gateway.load(policy(HELD))  # a call would be blocked, if it could be decided
    outage = Outage(postgres_url)
    sid = new_sid("CA")
    name = f"{sid}.incident.json"
    try:
        await outage.down()
        await connected_to_the_number_dialled(gateway, sid)
        await until("the incident to be kept", lambda: incident_files(spool) == [name])
        saved = json.loads((spool / "incidents" / name).read_text())["entry"]
        assert saved["contact_key"] == f"{sid}:incident" and saved["degraded"] is True
        assert saved["occurred_at"] == NOW.isoformat()
        # Twilio retries while it is still down: connected again, still one file, the
        # first arrival kept, and the call counted once.
        gateway.clock.now = NOW + timedelta(minutes=1)
        await connected_to_the_number_dialled(gateway, sid)
        await until(
            "the worker to find the store down",
            lambda: any(
                f"cannot take call incident {sid}:incident yet" in r.getMessage()
                for r in caplog.records
            ),
        )
        assert incident_files(spool) == [name]
        assert json.loads((spool / "incidents" / name).read_text())["entry"] == saved
    finally:
        await outage.up()
    await until("the incident spool to empty", lambda: incident_files(spool) == [])
    (record,) = await incidents_of(gateway, sid)
    assert (record.kind, record.degraded, record.action) == ("incident", True, "connect")
    assert record.occurred_at == NOW, "dated when the call arrived, not when replayed"
    assert await gateway.evidence() == [record], "nothing else was recorded, then or since"
    assert (record.sender, record.recipient, record.deliver_to) == (
        CUSTOMER_PHONE,
        STAFF_NUMBER,
        STAFF_LINE,
    )
    assert record.details["error"].startswith(("StoreUnavailable", "TimeoutError"))
    replayed = [
        r.getMessage() for r in caplog.records if f"{sid}:incident (arrived" in r.getMessage()
    ]
    assert len(replayed) == 1 and "replayed: recorded as record" in replayed[0]
    assert no_decision_count(gateway) == 1
    assert (await gateway.store.verify_evidence()).ok
    # A retry after the replay is decided normally and adds no second incident.
    _, root, _ = await gateway.call(sid=sid)
    assert verbs(root) != ["Dial"]
    assert len(await incidents_of(gateway, sid)) == 1 and incident_files(spool) == []


@pytest.mark.postgres
async def test_a_replay_that_outlives_its_time_limit_is_waited_for_not_appended_again(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database comes back slow: the replay's first append waits on the evidence
    chain's head (held locked here by another transaction) past the attempt's time
    limit, and goes on, as every append does. The next round must wait for that append,
    not append again and find the incident "already recorded" by it: the flaky failure
    of the test above on a busy machine (issue 16, item 12)."""
    caplog.set_level(logging.INFO, logger="gateway")
    spool = tmp_path / "spool"
    gateway = await start_gateway(aiohttp_client, postgres_url, tmp_path, NOW)
    await gateway.load(policy(HELD))
    sid = new_sid("CA")

    def timed_out() -> bool:
        return any(
            f"cannot take call incident {sid}:incident yet (TimeoutError" in r.getMessage()
            for r in caplog.records
        )

    locker = create_async_engine(postgres_url, poolclass=NullPool)
    try:
        async with locker.connect() as conn:
            await conn.begin()
            await conn.execute(text("LOCK TABLE evidence_head IN ACCESS EXCLUSIVE MODE"))
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            outage = Outage(postgres_url)
            try:
                await outage.down(spare=pid)  # the lock stays held through the outage
                await connected_to_the_number_dialled(gateway, sid)
                await until("the incident to be kept", lambda: len(incident_files(spool)) == 1)
            finally:
                await outage.up()
            await until("a replay to run out of time on the locked head", timed_out)
            await conn.rollback()  # the head is free: the append under way goes through
    finally:
        await locker.dispose()
    await until("the incident spool to empty", lambda: incident_files(spool) == [])
    (record,) = await incidents_of(gateway, sid)
    assert await gateway.evidence() == [record]
    replayed = [
        r.getMessage() for r in caplog.records if f"{sid}:incident (arrived" in r.getMessage()
    ]
    assert len(replayed) == 1
    assert replayed[0].endswith(f"replayed: recorded as record {record.seq}"), replayed[0]


@pytest.mark.postgres
async def test_incidents_left_by_a_crashed_process_are_drained_at_start_up(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="gateway.twilio.incident_spool")
    first = await start_gateway(aiohttp_client, postgres_url, tmp_path, NOW)
    recorded = incident_entry(new_sid("CA"), NOW - timedelta(hours=1))
    assert (await first.store.append_evidence(recorded)).created
    await first.client.close()
    # What the crashed process left: the incident it had recorded (its file not yet
    # deleted), one it never could, and a file torn mid-write by something else.
    spool = IncidentSpool(tmp_path / "spool")
    waiting = incident_entry(new_sid("CA"), NOW - timedelta(hours=2))
    for entry in (recorded, waiting):
        assert await spool.keep(SpooledIncident(entry))
    torn = b'{"format": 1, "entry": {"kind": "incident", "contact_'
    (spool.directory / "CAtorn.incident.json").write_bytes(torn)
    assert len(incident_files(tmp_path / "spool")) == 3
    second = await start_gateway(aiohttp_client, postgres_url, tmp_path, NOW + timedelta(hours=1))
    await until("the spool to drain", lambda: incident_files(tmp_path / "spool") == [])
    assert [r.contact_key for r in await second.evidence()] == [
        recorded.contact_key,
        waiting.contact_key,
    ]
    (old,) = await records_for(second, recorded.contact_key or "")
    assert old.entry_fields() == recorded.entry_fields()
    (new,) = await records_for(second, waiting.contact_key or "")
    assert new.entry_fields() == waiting.entry_fields(), "appended exactly as it was kept"
    assert (new.occurred_at, new.kind, new.degraded) == (NOW - timedelta(hours=2), "incident", True)
    assert (await second.store.verify_evidence()).ok
    assert no_decision_count(second) == 0, "counted when the call came, not when replayed"
    assert (spool.bad / "CAtorn.incident.json").read_bytes() == torn
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        "not JSON" in e and str(spool.directory / "CAtorn.incident.json") in e for e in errors
    )


@pytest.mark.postgres
async def test_an_incident_that_cannot_be_kept_either_is_logged_and_the_call_still_connected(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await start_gateway(aiohttp_client, postgres_url, tmp_path, NOW)
    await gateway.load(policy(HELD))
    # The incident spool breaks (its tmp/ is no longer a directory) and the store is down.
    broken = tmp_path / "spool" / "incidents" / "tmp"
    broken.rmdir()
    broken.write_text("not a directory")
    outage = Outage(postgres_url)
    sid = new_sid("CA")
    try:
        await outage.down()
        await connected_to_the_number_dialled(gateway, sid)

        def logged() -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.levelno >= logging.ERROR and "nor kept in the incident spool" in r.getMessage()
            ]

        await until("the error naming the call", logged)
        (error,) = logged()
        assert f"call {sid}:incident from {CUSTOMER_PHONE} to {STAFF_NUMBER}" in error
        assert f"connected to {STAFF_LINE}" in error and NOW.isoformat() in error
        assert incident_files(tmp_path / "spool") == []
        assert no_decision_count(gateway) == 1, "counted though nothing could record it"
    finally:
        await outage.up()


async def test_a_kept_incident_reads_back_as_the_same_entry(tmp_path: Path) -> None:
    spool = IncidentSpool(tmp_path)
    sid = new_sid("CA")
    entry = incident_entry(f"{sid}:emergency", NOW)
    assert await spool.keep(SpooledIncident(entry))
    retry = incident_entry(f"{sid}:emergency", NOW + timedelta(minutes=1))
    assert not await spool.keep(SpooledIncident(retry)), "a retry keeps the first"
    assert await spool.holds(f"{sid}:emergency:incident")
    (kept,) = await spool.pending()
    assert kept.path == spool.directory / f"{sid}.emergency.incident.json"
    assert kept.entry == entry and kept.arrived == NOW


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format": 2}, "not a spooled incident of format 1"),
        ({"entry": None}, "entry is missing"),
        ({"entry": {"contact_key": None}}, "entry has no contact_key"),
        ({"entry": {"occurred_at": "yesterday"}}, "occurred_at 'yesterday' is not an ISO"),
        ({"entry": {"occurred_at": "2026-11-24T10:30:00"}}, "has no time zone"),
        ({"entry": {"reasons": "none"}}, "entry's reasons is not a list"),
        ({"entry": {"hash": "0" * 64}}, "fields an evidence entry does not: ['hash']"),
        ({"entry": {"content_sha256": "nope"}}, "not an evidence entry"),
    ],
)
def test_a_file_that_is_not_a_kept_incident_is_refused(
    tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    body = json.loads(SpooledIncident(incident_entry(new_sid("CA"), NOW)).to_json())
    for name, value in change.items():
        if isinstance(value, dict):
            body[name].update(value)
        else:
            body[name] = value
    with pytest.raises(BadSpoolFile) as refused:
        SpooledIncident.from_json(json.dumps(body).encode(), tmp_path / "x.json")
    assert words in str(refused.value)
