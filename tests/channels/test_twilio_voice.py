"""Incoming calls through POST /twilio/voice: every clause of SPEC §4 as a caller meets it.

A real gateway (create_app) on a real store (SQLite and PostgreSQL), signed requests,
an injected clock; TwiML parsed and checked by verb order and attributes.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.twilio.wiring import TWILIO
from tests.channels.twilio_kit import (
    PUBLIC_URL,
    STAFF_LINE,
    TOKEN,
    UNKNOWN_CALLER,
    FakeClock,
    Gateway,
    only,
    policy,
    said,
    settings,
    sign,
    start,
    verbs,
)
from tests.conftest import sqlite_url
from tests.rules.factories import (
    CUSTOMER_PHONE,
    EMERGENCY,
    OFFICERS,
    REP_PHONE,
    STAFF_NUMBER,
)

# Tuesday 24 November 2026, 10:30 in London (GMT).
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
JANE = "+441632960001"
ALI = "+441632960002"
DIALLED = f"{PUBLIC_URL}/twilio/voice/dialled"
MENU = f"{PUBLIC_URL}/twilio/voice/menu"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def gateway(
    aiohttp_client: Any, database_url: str, tmp_path: Path, clock: FakeClock
) -> Gateway:
    return await start(aiohttp_client, settings(database_url, tmp_path), clock)


@pytest.fixture
async def sqlite_gateway(
    aiohttp_client: Any, tmp_path: Path, sqlite_database_url: str, clock: FakeClock
) -> Gateway:
    """For clauses the rules decide: the store engine makes no difference to them."""
    return await start(aiohttp_client, settings(sqlite_database_url, tmp_path), clock)


async def test_unknown_caller_passes_straight_through_and_leaves_no_evidence(
    gateway: Gateway,
) -> None:
    await gateway.load(policy({"channels": ["email"]}))
    _, root, _ = await gateway.call(UNKNOWN_CALLER)
    assert verbs(root) == ["Dial"]
    dial = only(root, "Dial")
    assert dial.text == STAFF_LINE  # the line GATEWAY_TWILIO_ROUTES names for the number
    assert dial.attrib == {}  # no limit, no recording, no callbacks: untouched
    assert await gateway.evidence() == []


@pytest.mark.parametrize("emergency", [EMERGENCY, ""])
async def test_without_routes_no_call_is_dialled_back_to_the_number_called(
    aiohttp_client: Any,
    tmp_path: Path,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    emergency: str,
) -> None:
    """The number called is a Twilio number: dialling it from Twilio comes straight back
    here, a loop. With GATEWAY_TWILIO_ROUTES unset, start-up says so once, and a call
    that would go to the number dialled is told the line cannot connect it, with the
    emergency line's number (or 999) instead (issue 16, item 14d)."""
    caplog.set_level(logging.WARNING)
    no_routes = {"auth_token": TOKEN}
    gateway = await start(
        aiohttp_client,
        settings(sqlite_url(tmp_path), tmp_path, twilio=no_routes, emergency_number=emergency),
        clock,
    )
    warned = [r.getMessage() for r in caplog.records if "GATEWAY_TWILIO_ROUTES" in r.getMessage()]
    assert len(warned) == 1, warned
    # An unknown caller, and a restricted one whose calls go to the number dialled (no
    # named officer): neither is dialled back to STAFF_NUMBER.
    no_officer = {"channels": ["voice", "email"], "named_officer": None}
    await gateway.load(policy(no_officer))
    for caller in (UNKNOWN_CALLER, CUSTOMER_PHONE):
        _, root, sid = await gateway.call(caller, STAFF_NUMBER)
        assert verbs(root) == ["Say", "Hangup"], ET.tostring(root)
        words = said(root)
        assert words.startswith("Sorry, this line cannot connect your call.")
        if emergency:
            assert "call 01632 960999" in words
        else:
            assert "hang up and call 999" in words
        assert STAFF_NUMBER not in ET.tostring(root, encoding="unicode")
    # The restricted call's evidence says it was not dialled (a record added after).
    await gateway.app[TWILIO].drain(within=30)
    (record, outcome) = await gateway.evidence()
    assert (record.contact_key, record.action) == (sid, "connect")
    assert outcome.kind == "call_outcome" and outcome.details["refers_to_key"] == sid
    assert outcome.details["dial_call_status"] == "not_dialled"


async def test_withheld_numbers_are_unknown_callers(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["email"]}))
    for withheld in ("anonymous", "+266696687", "Restricted", "", "client:alice"):
        _, root, _ = await sqlite_gateway.call(withheld)
        assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE, withheld
    assert await sqlite_gateway.evidence() == []


async def test_allowed_call_goes_to_the_named_officer_whatever_number_was_used(
    gateway: Gateway,
) -> None:
    await gateway.load(policy({"channels": ["voice"]}))
    _, root, sid = await gateway.call(to="+441632960123")
    assert verbs(root) == ["Dial"]
    dial = only(root, "Dial")
    assert dial.text == JANE
    assert dial.attrib == {"action": DIALLED, "method": "POST"}
    (record,) = await gateway.evidence()
    assert (record.contact_key, record.action, record.deliver_to) == (sid, "connect", JANE)
    assert record.counted and record.restriction_id == "R-1"


async def test_absent_officer_means_the_deputy(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    gateway = await start(aiohttp_client, settings(sqlite_url(tmp_path), tmp_path), clock)
    officers = [dict(OFFICERS[0], absent=True), *OFFICERS[1:]]
    await gateway.load(policy({"channels": ["voice"]}, officers=officers))
    _, root, _ = await gateway.call()
    assert only(root, "Dial").text == ALI


async def test_no_named_officer_connects_to_the_number_dialled(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"], "named_officer": None}))
    _, root, _ = await sqlite_gateway.call()
    dial = only(root, "Dial")
    assert dial.text == STAFF_LINE and dial.get("action") == DIALLED


async def test_routes_send_the_number_dialled_to_the_line_behind_it(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    line = "+441632960200"
    twilio = {"auth_token": TOKEN, "routes": f"{STAFF_NUMBER}={line}"}
    gateway = await start(
        aiohttp_client, settings(sqlite_url(tmp_path), tmp_path, twilio=twilio), clock
    )
    await gateway.load(policy({"channels": ["voice"], "named_officer": None}))
    _, unknown, _ = await gateway.call(UNKNOWN_CALLER)
    _, restricted, _ = await gateway.call()
    assert only(unknown, "Dial").text == line
    assert only(restricted, "Dial").text == line


async def test_time_limit_and_recording_are_announced_and_set_on_the_dial(
    gateway: Gateway,
) -> None:
    await gateway.load(
        policy({"channels": ["voice"], "call_time_limit": 600, "record_calls": True})
    )
    _, root, _ = await gateway.call()
    assert verbs(root) == ["Say", "Dial"]
    assert said(root) == "This call will be recorded. It can last up to 10 minutes."
    dial = only(root, "Dial")
    assert dial.get("timeLimit") == "600"
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("action") == DIALLED


async def test_time_limit_without_recording(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"], "call_time_limit": 90}))
    _, root, _ = await sqlite_gateway.call()
    assert said(root) == "This call can last up to 1 minute and 30 seconds."
    dial = only(root, "Dial")
    assert dial.get("timeLimit") == "90" and dial.get("record") is None


async def test_channel_not_allowed_explains_and_offers_the_emergency_option(
    gateway: Gateway,
) -> None:
    await gateway.load(policy({"channels": ["email"]}))
    _, root, sid = await gateway.call()
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    gather = only(root, "Gather")
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == MENU and gather.attrib["method"] == "POST"
    words = said(gather)
    assert "cannot accept phone calls" in words
    assert "by email to Jane Smith at jane.smith@example.org" in words
    assert words.endswith("press 1.")
    assert said(root).endswith("Goodbye.")
    (record,) = await gateway.evidence()
    assert (record.contact_key, record.action, record.hold_reason) == (
        sid,
        "message",
        "channel_not_allowed",
    )
    assert not record.counted


async def test_without_an_emergency_number_the_message_says_whom_to_call(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    gateway = await start(
        aiohttp_client, settings(sqlite_url(tmp_path), tmp_path, emergency_number=""), clock
    )
    await gateway.load(policy({"channels": ["email"]}))
    _, root, _ = await gateway.call()
    assert verbs(root) == ["Say", "Hangup"]  # no keypad option to nowhere
    assert "call 999 if anyone is in immediate danger" in said(root)


async def test_restriction_that_tells_the_customer_nothing_still_answers_the_call(
    sqlite_gateway: Gateway,
) -> None:
    await sqlite_gateway.load(policy({"channels": ["email"], "notify_customer": False}))
    _, root, _ = await sqlite_gateway.call()
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    words = said(only(root, "Gather"))
    assert words.startswith("We are not able to take your call at present.")
    assert "jane.smith" not in words and "press 1" in words


WINDOW = {
    "channels": ["voice", "email"],
    "call_windows": [{"days": ["tue"], "start": "10:00", "end": "12:00"}],
}


# (instant, connected?) for Tuesdays 10:00-12:00 London, on a GMT Tuesday.
WINDOW_EDGES = [
    (datetime(2026, 11, 24, 9, 59, 59, tzinfo=UTC), False),
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), True),
    (datetime(2026, 11, 24, 11, 59, 59, tzinfo=UTC), True),
    (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), False),  # the end minute is outside
]


async def test_call_window_edges(sqlite_gateway: Gateway, clock: FakeClock) -> None:
    await sqlite_gateway.load(policy(WINDOW))
    for at, connected in WINDOW_EDGES:
        clock.now = at
        _, root, sid = await sqlite_gateway.call()
        assert (verbs(root) == ["Dial"]) is connected, at
        if connected:
            continue
        assert verbs(root) == ["Gather", "Say", "Hangup"]
        nxt = "Tuesday 24 November" if at.hour < 10 else "Tuesday 1 December"
        assert f"The next time you can call is {nxt} between 10 am and 12 noon." in said(root)
        record = await sqlite_gateway.store.find_evidence(sid)
        assert record is not None and record.hold_reason == "outside_call_window"
        assert record.details["next_window"]["words"].startswith(nxt)


async def test_a_call_outside_every_window_names_the_next_one_whatever_notify_customer_says(
    sqlite_gateway: Gateway, clock: FakeClock
) -> None:
    """SPEC §4.5: ``notify_customer`` governs what the gateway sends (texts, email); a
    caller on the line is still told when they may call, and nothing more (issue 16)."""
    await sqlite_gateway.load(policy({**WINDOW, "notify_customer": False}))
    clock.now = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)  # Tuesday, after the window
    _, root, sid = await sqlite_gateway.call()
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    words = said(only(root, "Gather"))
    assert words.startswith("We can take your calls only Tuesdays between 10 am and 12 noon.")
    assert "The next time you can call is Tuesday 1 December between 10 am and 12 noon." in words
    assert "press 1" in words
    # Only when to call: not the other ways in, which the customer is not to be told.
    assert "jane.smith" not in words and "by email" not in words
    record = await sqlite_gateway.store.find_evidence(sid)
    assert record is not None and record.hold_reason == "outside_call_window"
    assert record.details["notice"] is not None and record.details["notice"] in words
    # Twilio's retry of the webhook is answered alike, from the record.
    _, again, _ = await sqlite_gateway.call(sid=sid)
    assert said(only(again, "Gather")) == words


# (instant, window on Sundays in London, connected?) on the two clock-change days.
CLOCK_CHANGES = [
    # Spring forward, Sunday 29 March 2026: 08:30 UTC is 09:30 BST, inside 09:00-10:00.
    (datetime(2026, 3, 29, 8, 30, tzinfo=UTC), ("09:00", "10:00"), True),
    # 09:30 UTC is 10:30 BST: outside, though it is inside the window read as UTC.
    (datetime(2026, 3, 29, 9, 30, tzinfo=UTC), ("09:00", "10:00"), False),
    # The hour that does not exist that day: no call can fall in 01:00-02:00.
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), ("01:00", "02:00"), False),
    # Fall back, Sunday 25 October 2026: 01:30 happens twice, and both are inside.
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), ("01:00", "02:00"), True),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), ("01:00", "02:00"), True),
    (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), ("01:00", "02:00"), False),
]


async def test_call_windows_on_clock_change_days(sqlite_gateway: Gateway, clock: FakeClock) -> None:
    for at, (opens, closes), connected in CLOCK_CHANGES:
        windows = [{"days": ["sun"], "start": opens, "end": closes}]
        await sqlite_gateway.load(
            policy(
                {"channels": ["voice"], "call_windows": windows, "starts": "2026-01-01T00:00:00Z"}
            )
        )
        clock.now = at
        _, root, _ = await sqlite_gateway.call()
        assert (verbs(root) == ["Dial"]) is connected, (at, opens, closes)


async def test_second_call_over_a_one_a_day_cap_is_excess_with_a_message(
    gateway: Gateway, clock: FakeClock
) -> None:
    limits = [{"channel": "voice", "max": 1, "per": "P1D"}]
    await gateway.load(policy({"channels": ["voice", "email"], "limits": limits}))
    _, first, _ = await gateway.call()
    clock.now = NOW + timedelta(hours=2)
    _, second, sid = await gateway.call()
    assert verbs(first) == ["Dial"]
    assert verbs(second) == ["Gather", "Say", "Hangup"]
    assert "You have reached the limit of 1 phone calls in 1 day" in said(second)
    records = await gateway.evidence()
    assert [(r.action, r.hold_reason, r.counted) for r in records] == [
        ("connect", None, True),
        ("message", "excess", False),
    ]
    assert records[1].contact_key == sid
    assert records[1].counts[0]["used"] == 1
    # Excess does not extend the lockout: a day after the first call, calls go through.
    clock.now = NOW + timedelta(days=1, seconds=1)
    _, third, _ = await gateway.call()
    assert verbs(third) == ["Dial"]


async def test_representative_only(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"], "handling": "representative_only"}))
    _, own, _ = await sqlite_gateway.call(CUSTOMER_PHONE)
    _, rep, _ = await sqlite_gateway.call(REP_PHONE)
    assert verbs(own) == ["Gather", "Say", "Hangup"]
    assert "only through Support worker" in said(own)
    assert verbs(rep) == ["Dial"] and only(rep, "Dial").text == JANE
    records = await sqlite_gateway.evidence()
    assert [r.hold_reason for r in records] == ["representative_only", None]
    assert records[1].details["via_representative"] == "Support worker"


async def test_no_contact_still_reaches_the_emergency_line(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": [], "handling": "no_contact"}))
    _, root, sid = await gateway.call()
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    assert "cannot accept contact from you" in said(root)
    response = await gateway.post("/twilio/voice/menu", _keypad(sid, "1"))
    assert response.status == 200
    pressed = _xml(await response.text())
    assert verbs(pressed) == ["Dial"]
    dial = only(pressed, "Dial")
    assert dial.text == EMERGENCY
    assert dial.get("action") == f"{DIALLED}?leg=emergency"
    assert dial.get("timeLimit") is None
    records = await gateway.evidence()
    assert [(r.contact_key, r.action, r.exemption) for r in records] == [
        (sid, "message", None),
        (f"{sid}:emergency", "connect", "emergency_option"),
    ]


async def test_another_key_offers_the_emergency_option_again(sqlite_gateway: Gateway) -> None:
    await sqlite_gateway.load(policy({"channels": [], "handling": "no_contact"}))
    _, _, sid = await sqlite_gateway.call()
    response = await sqlite_gateway.post("/twilio/voice/menu", _keypad(sid, "5"))
    root = _xml(await response.text())
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    assert "not an option" in said(only(root, "Gather"))
    assert len(await sqlite_gateway.evidence()) == 1


async def test_another_key_during_the_voicemail_greeting_goes_on_to_the_recording(
    sqlite_gateway: Gateway,
) -> None:
    await sqlite_gateway.load(policy({"channels": ["voice"], "handling": "read_and_file"}))
    _, _, sid = await sqlite_gateway.call()
    path = "/twilio/voice/menu?after=voicemail"
    params = _keypad(sid, "7")
    response = await sqlite_gateway.client.post(
        path, data=params, headers={"X-Twilio-Signature": sign(path, params)}
    )
    root = _xml(await response.text())
    assert verbs(root) == ["Gather", "Say", "Record", "Say", "Hangup"]
    assert only(root, "Gather").get("action") == f"{PUBLIC_URL}{path}"
    assert only(root, "Record").get("action") == f"{PUBLIC_URL}/twilio/voice/voicemail"


async def test_read_and_file_takes_a_voicemail(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": ["voice"], "handling": "read_and_file"}))
    _, root, sid = await gateway.call()
    assert verbs(root) == ["Gather", "Record", "Say", "Hangup"]
    assert "press 1" in said(only(root, "Gather"))
    record = only(root, "Record")
    assert record.get("action") == f"{PUBLIC_URL}/twilio/voice/voicemail"
    assert record.get("method") == "POST" and record.get("finishOnKey") == "#"
    assert int(record.get("maxLength", "0")) > 0
    (evidence,) = await gateway.evidence()
    assert (evidence.contact_key, evidence.action, evidence.hold_reason) == (
        sid,
        "voicemail",
        "read_and_file",
    )
    (held,) = await gateway.store.list_held()
    assert held.evidence_seq == evidence.seq and held.content_sha256 is None


def _keypad(sid: str, digits: str) -> dict[str, str]:
    return {
        "CallSid": sid,
        "From": CUSTOMER_PHONE,
        "To": STAFF_NUMBER,
        "Digits": digits,
        "AccountSid": "AC" + "0" * 32,
    }


def _xml(text: str) -> Any:
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)
