"""What Twilio tells us after a call was answered, and Twilio's retries.

Status callbacks, the ``<Dial>`` action and the ``<Record>`` action add new evidence
records that refer to the call's first record (evidence is append-only); a retried
CallSid gets the same answer and is recorded once.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.channels.twilio_kit import (
    UNKNOWN_CALLER,
    FakeClock,
    Gateway,
    call_params,
    only,
    policy,
    said,
    settings,
    sign,
    start,
    verbs,
)
from tests.conftest import sqlite_url
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def gateway(
    aiohttp_client: Any, database_url: str, tmp_path: Path, clock: FakeClock
) -> Gateway:
    return await start(aiohttp_client, settings(database_url, tmp_path), clock)


@pytest.fixture
async def sqlite_gateway(aiohttp_client: Any, tmp_path: Path, clock: FakeClock) -> Gateway:
    """For flows where the store engine makes no difference."""
    return await start(aiohttp_client, settings(sqlite_url(tmp_path), tmp_path), clock)


def status_params(sid: str, status: str = "completed", duration: str = "42") -> dict[str, str]:
    return call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER, CallStatus=status, CallDuration=duration)


async def test_status_callback_adds_duration_and_outcome_once(
    gateway: Gateway, clock: FakeClock
) -> None:
    await gateway.load(policy({"channels": ["voice"]}))
    _, _, sid = await gateway.call()
    clock.now = NOW + timedelta(minutes=1)
    for _ in range(2):  # Twilio retries: recorded once
        response = await gateway.post("/twilio/voice/status", status_params(sid))
        assert response.status == 204
    call, outcome = await gateway.evidence()
    assert outcome.kind == "call_outcome" and outcome.contact_key == f"{sid}:status"
    assert outcome.details["refers_to_seq"] == call.seq
    assert outcome.details["refers_to_key"] == sid
    assert outcome.details["call_status"] == "completed"
    assert outcome.details["call_duration"] == 42
    assert outcome.occurred_at == clock.now
    assert (outcome.customer_id, outcome.restriction_id) == ("C-1", "R-1")
    assert not outcome.counted
    assert (await gateway.store.verify_evidence()).ok


async def test_status_of_an_unrestricted_call_or_an_unfinished_one_records_nothing(
    gateway: Gateway,
) -> None:
    await gateway.load(policy({"channels": ["voice"]}))
    _, _, unknown = await gateway.call(UNKNOWN_CALLER)
    _, _, restricted = await gateway.call()
    ringing = await gateway.post("/twilio/voice/status", status_params(restricted, "ringing", ""))
    other = await gateway.post("/twilio/voice/status", status_params(unknown))
    assert (ringing.status, other.status) == (204, 204)
    assert [r.kind for r in await gateway.evidence()] == ["contact"]


async def test_dial_action_keeps_how_the_dial_went(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": ["voice"], "record_calls": True}))
    _, _, sid = await gateway.call()
    params = call_params(
        sid,
        CUSTOMER_PHONE,
        STAFF_NUMBER,
        DialCallStatus="completed",
        DialCallDuration="317",
        DialCallSid="CA" + "d" * 32,
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
        RecordingSid="RE" + "1" * 32,
        RecordingDuration="316",
    )
    for _ in range(2):
        response = await gateway.post("/twilio/voice/dialled", params)
        root = ET.fromstring(await response.text())
        assert verbs(root) == ["Hangup"]
    call, outcome = await gateway.evidence()
    assert outcome.contact_key == f"{sid}:dial" and outcome.details["refers_to_seq"] == call.seq
    assert outcome.details["dial_call_status"] == "completed"
    assert outcome.details["dial_call_duration"] == 317
    assert outcome.details["recording_sid"] == "RE" + "1" * 32
    assert outcome.details["recording_duration"] == 316


async def test_officer_not_answering_is_said_and_recorded(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"]}))
    _, _, sid = await sqlite_gateway.call()
    params = call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER, DialCallStatus="no-answer")
    response = await sqlite_gateway.post("/twilio/voice/dialled", params)
    root = ET.fromstring(await response.text())
    assert verbs(root) == ["Say", "Hangup"] and "try again later" in said(root)
    _, outcome = await sqlite_gateway.evidence()
    assert outcome.details["dial_call_status"] == "no-answer"
    assert outcome.details["dial_call_duration"] is None


async def test_emergency_dial_that_fails_says_999(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": [], "handling": "no_contact"}))
    _, _, sid = await sqlite_gateway.call()
    await sqlite_gateway.post(
        "/twilio/voice/menu", call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER, Digits="1")
    )
    params = call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER, DialCallStatus="busy")
    response = await sqlite_gateway.client.post(
        "/twilio/voice/dialled?leg=emergency",
        data=params,
        headers={"X-Twilio-Signature": sign("/twilio/voice/dialled?leg=emergency", params)},
    )
    root = ET.fromstring(await response.text())
    assert "call 999" in said(root)
    records = await sqlite_gateway.evidence()
    assert records[-1].contact_key == f"{sid}:emergency:dial"
    assert records[-1].details["refers_to_key"] == f"{sid}:emergency"


async def test_voicemail_reference_is_stored_with_the_held_call(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": ["voice"], "handling": "read_and_file"}))
    _, _, sid = await gateway.call()
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE2"
    params = call_params(
        sid,
        CUSTOMER_PHONE,
        STAFF_NUMBER,
        RecordingUrl=url,
        RecordingSid="RE" + "2" * 32,
        RecordingDuration="25",
        Digits="#",
    )
    for _ in range(2):
        response = await gateway.post("/twilio/voice/voicemail", params)
        root = ET.fromstring(await response.text())
        assert verbs(root) == ["Say", "Hangup"] and "has been recorded" in said(root)
    call, voicemail = await gateway.evidence()
    assert voicemail.kind == "voicemail" and voicemail.contact_key == f"{sid}:voicemail"
    assert voicemail.details["refers_to_seq"] == call.seq
    (held,) = await gateway.store.list_held()
    assert held.evidence_seq == call.seq
    assert held.content_sha256 == voicemail.content_sha256
    assert url in held.summary and "25 s" in held.summary
    stored = await gateway.store.get_content(held.content_sha256 or "")
    assert stored is not None
    reference = json.loads(stored)
    assert reference["recording_url"] == url and reference["call_sid"] == sid


async def test_an_empty_recording_is_not_kept(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"], "handling": "read_and_file"}))
    _, _, sid = await sqlite_gateway.call()
    response = await sqlite_gateway.post(
        "/twilio/voice/voicemail", call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER)
    )
    assert "did not receive a message" in said(ET.fromstring(await response.text()))
    assert len(await sqlite_gateway.evidence()) == 1


async def test_retried_call_gets_the_same_answer_and_is_recorded_once(
    gateway: Gateway, clock: FakeClock
) -> None:
    limits = [{"channel": "voice", "max": 1, "per": "P1D"}]
    await gateway.load(policy({"channels": ["voice", "email"], "limits": limits}))
    response, _, sid = await gateway.call()
    first_text = await response.text()
    clock.now = NOW + timedelta(seconds=20)  # the fallback URL, a little later
    again, root, _ = await gateway.call(sid=sid)
    # The first call used the only place under the cap; its retry must not become excess.
    assert await again.text() == first_text
    assert verbs(root) == ["Dial"]
    (record,) = await gateway.evidence()
    assert record.contact_key == sid and record.action == "connect"
    # ...and it did not use a second place: the next new call is the excess one.
    _, nxt, _ = await gateway.call()
    assert verbs(nxt) == ["Gather", "Say", "Hangup"]


async def test_retried_blocked_call_hears_the_same_message(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["email"]}))
    response, _, sid = await sqlite_gateway.call()
    again, _, _ = await sqlite_gateway.call(sid=sid)
    assert await again.text() == await response.text()
    assert len(await sqlite_gateway.evidence()) == 1


async def test_retried_emergency_choice_is_recorded_once(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": [], "handling": "no_contact"}))
    _, _, sid = await gateway.call()
    keypad = call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER, Digits="1")
    answers = [await (await gateway.post("/twilio/voice/menu", keypad)).text() for _ in range(2)]
    assert answers[0] == answers[1]
    assert only(ET.fromstring(answers[0]), "Dial").get("action", "").endswith("leg=emergency")
    assert [r.contact_key for r in await gateway.evidence()] == [sid, f"{sid}:emergency"]
