"""The officer's whisper, through signed Twilio webhooks.

With the organisation's ``call_whisper`` on, a restricted customer's call is dialled
with ``<Number url=...>``; Twilio fetches that URL (signed) when the officer answers and
plays it on the officer's leg: the customer's id, the flag level and the control
measure, never the flag's reason, inside a one-key ``<Gather>``. 1 connects the call;
any other key, or none, hangs up the officer's leg.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.twilio.wiring import TWILIO
from rules.casework import FlagLevel
from rules.roles import Role
from rules.whisper import CONTROL_MEASURES
from tests.channels.twilio_kit import (
    PUBLIC_URL,
    FakeClock,
    Gateway,
    call_params,
    new_sid,
    only,
    policy,
    said,
    settings,
    sign,
    start,
    verbs,
)
from tests.gateway.twilio.call_settings_support import add_admin, add_user, change_settings
from tests.rules.factories import NOW

JANE = "+441632960001"  # the named officer's phone
REASON = "Threatened to bring a knife to the office on 3 November"
WHISPER = f"{PUBLIC_URL}/twilio/voice/whisper?customer=C-1"
ANSWER = f"{PUBLIC_URL}/twilio/voice/whisper/answer"


@pytest.fixture
async def gateway(aiohttp_client: Any, database_url: str, tmp_path: Path) -> Gateway:
    return await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(NOW))


async def _flagged(gateway: Gateway, *, whisper: bool) -> str:
    """C-1 under a voice restriction, with a red flag; the whisper on or off."""
    token = await add_admin(gateway)
    officer = await add_user(gateway, "officer", Role.OFFICER)
    await gateway.load(policy({"channels": ["voice", "email"]}))
    response = await gateway.client.post(
        "/api/v1/customers/C-1/flags",
        json={"level": "red", "category": "threat_of_physical_abuse", "reason": REASON},
        headers={"Authorization": f"Bearer {officer}"},
    )
    assert response.status == 201, await response.text()
    await change_settings(gateway, token, call_whisper=whisper)
    return token


def _officer_leg(parent: str, **extra: str) -> dict[str, str]:
    """What Twilio posts for the officer's (child) leg of the caller's ``<Dial>``."""
    return call_params(new_sid(), "+447700900123", JANE, ParentCallSid=parent, **extra)


async def _post(gateway: Gateway, url: str, params: dict[str, str]) -> ET.Element:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = await gateway.post(path, params)
    assert response.status == 200, await response.text()
    return ET.fromstring(await response.text())


async def test_the_officer_hears_the_whisper_and_the_call_connects_only_on_1(
    gateway: Gateway,
) -> None:
    await _flagged(gateway, whisper=True)
    _, root, sid = await gateway.call()
    dial = only(root, "Dial")
    number = only(dial, "Number")
    assert number.text == JANE
    assert number.attrib == {"url": WHISPER, "method": "POST"}
    assert dial.text is None or not dial.text.strip()  # the number is in <Number> only

    # Twilio fetches the whisper for the officer's leg, signed like every webhook.
    whisper = await _post(gateway, number.attrib["url"], _officer_leg(sid))
    assert verbs(whisper) == ["Gather", "Say", "Hangup"]
    gather = only(whisper, "Gather")
    assert gather.attrib["numDigits"] == "1" and gather.attrib["action"] == ANSWER
    words = said(gather)
    assert words.startswith("A call from restricted customer C, 1. Warning flag: red.")
    assert CONTROL_MEASURES[FlagLevel.RED] in words
    assert "knife" not in ET.tostring(whisper, encoding="unicode")  # never the reason
    assert "physical abuse" not in words.lower()  # nor the category

    # 1: nothing more for the officer's leg, so the two are connected.
    taken = await _post(gateway, ANSWER, _officer_leg(sid, Digits="1"))
    assert verbs(taken) == []
    # (Each answer is recorded in the background; the first is the one that counts, so
    # it is written before the refusals below are tried.)
    await gateway.app[TWILIO].drain(within=30)
    # Any other key, or none: the officer's leg hangs up; the call is not put through.
    for digits in ("2", "#", ""):
        refused = await _post(gateway, ANSWER, _officer_leg(sid, Digits=digits))
        assert verbs(refused)[-1] == "Hangup", digits

    # Whether the officer took the call is in the call's evidence (the first answer).
    await gateway.app[TWILIO].drain(within=30)
    records = await gateway.evidence()
    (whispered,) = [r for r in records if r.contact_key == f"{sid}:whisper"]
    assert whispered.details["refers_to_key"] == sid
    assert whispered.details["accepted"] is True


async def test_an_unsigned_whisper_is_refused(gateway: Gateway) -> None:
    await _flagged(gateway, whisper=True)
    _, _, sid = await gateway.call()
    params = _officer_leg(sid)
    forged = await gateway.post("/twilio/voice/whisper?customer=C-1", params, signature="x")
    assert forged.status == 403
    # Signed for another customer's URL: the query is part of what Twilio signs.
    other = sign("/twilio/voice/whisper?customer=C-2", params)
    moved = await gateway.post("/twilio/voice/whisper?customer=C-1", params, signature=other)
    assert moved.status == 403


async def test_no_whisper_when_the_organisation_turns_it_off(gateway: Gateway) -> None:
    await _flagged(gateway, whisper=False)
    _, root, _ = await gateway.call()
    dial = only(root, "Dial")
    assert dial.text == JANE and dial.find("Number") is None


async def test_the_emergency_option_is_never_held_up_by_a_whisper(gateway: Gateway) -> None:
    """Outside a call window the caller may press 1 for the emergency line: that call
    is put through with no whisper, whatever the setting."""
    token = await _flagged(gateway, whisper=True)
    windows = [{"days": ["wed"], "start": "10:00", "end": "12:00"}]
    await gateway.load(policy({"channels": ["voice", "email"], "call_windows": windows}))
    assert (await change_settings(gateway, token))["call_whisper"] is True
    _, root, sid = await gateway.call()
    assert only(root, "Gather").attrib["action"].endswith("/twilio/voice/menu")
    menu = await gateway.post(
        "/twilio/voice/menu", call_params(sid, "+447700900123", "+441632960000", Digits="1")
    )
    pressed = ET.fromstring(await menu.text())
    dial = only(pressed, "Dial")
    assert dial.find("Number") is None and dial.text == "+441632960999"
