"""The officer's whisper, through signed Twilio webhooks.

With the organisation's ``call_whisper`` on, a restricted customer's call is dialled
with ``<Number url=...>``; Twilio fetches that URL (signed) when the officer answers and
plays it on the officer's leg: the customer's id, the flag level and the control
measure, never the flag's reason, inside a one-key ``<Gather>``. 1 connects the call;
any other key, or none (the ``<Gather>`` then redirects to the answer endpoint), hangs
up the officer's leg and is recorded as a refusal. The caller's ``<Dial>`` may then end
``completed`` (the officer's leg was answered): the refusal on record still tells the
caller the call was not put through.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from channels.twilio.speech import NOT_CONNECTED
from gateway.twilio.wiring import TWILIO
from rules.casework import FlagLevel
from rules.roles import Role
from rules.whisper import CONTROL_MEASURES, NOT_TAKEN
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
    assert verbs(whisper) == ["Gather", "Redirect"]
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


async def _whispered_call(gateway: Gateway) -> tuple[str, ET.Element]:
    """A restricted call put through with the whisper on, and the whisper's TwiML."""
    await _flagged(gateway, whisper=True)
    _, root, sid = await gateway.call()
    number = only(only(root, "Dial"), "Number")
    return sid, await _post(gateway, number.attrib["url"], _officer_leg(sid))


async def _refuse(gateway: Gateway, sid: str, whisper: ET.Element, key: str | None) -> None:
    """The officer presses ``key`` (Twilio posts the ``<Gather>`` action), or no key (the
    ``<Gather>`` times out and Twilio follows the ``<Redirect>``, with no Digits)."""
    if key is None:
        redirect = only(whisper, "Redirect")
        assert redirect.attrib == {"method": "POST"}
        refused = await _post(gateway, redirect.text or "", _officer_leg(sid))
    else:
        action = only(whisper, "Gather").attrib["action"]
        refused = await _post(gateway, action, _officer_leg(sid, Digits=key))
    assert verbs(refused) == ["Say", "Hangup"] and said(refused) == NOT_TAKEN


async def _dial_ends(gateway: Gateway, sid: str, status: str = "completed") -> ET.Element:
    """The caller's ``<Dial>`` action: Twilio says ``completed``, as the officer's leg was
    answered (a whisper that hangs up afterwards may well leave it so)."""
    params = call_params(
        sid, "+447700900123", "+441632960000", DialCallStatus=status, DialCallDuration="9"
    )
    return await _post(gateway, f"{PUBLIC_URL}/twilio/voice/dialled", params)


async def test_no_key_at_the_whisper_is_recorded_as_a_refusal(gateway: Gateway) -> None:
    sid, whisper = await _whispered_call(gateway)
    # The whisper says nothing after the <Gather>: it redirects, so the gateway hears of it.
    assert verbs(whisper) == ["Gather", "Redirect"]
    assert only(whisper, "Redirect").text == ANSWER
    await _refuse(gateway, sid, whisper, None)
    # Recorded before the officer's leg is told to hang up: no background work to wait on.
    (whispered,) = [r for r in await gateway.evidence() if r.contact_key == f"{sid}:whisper"]
    assert whispered.details["refers_to_key"] == sid
    assert whispered.details["accepted"] is False
    assert whispered.details["key_pressed"] is None


@pytest.mark.parametrize("key", ["2", None], ids=["key 2", "no key"])
async def test_a_refused_call_is_not_put_through_whatever_the_dial_says(
    gateway: Gateway, key: str | None
) -> None:
    sid, whisper = await _whispered_call(gateway)
    await _refuse(gateway, sid, whisper, key)
    for _ in range(2):  # a retried <Dial> action gets the same answer, recorded once
        ended = await _dial_ends(gateway, sid, "completed")
        assert verbs(ended) == ["Say", "Hangup"]
        assert said(ended) == NOT_CONNECTED
    (dial,) = [r for r in await gateway.evidence() if r.contact_key == f"{sid}:dial"]
    assert dial.details["dial_call_status"] == "completed"  # the dial's facts, as Twilio said
    assert dial.details["dial_call_duration"] == 9
    assert dial.details["whisper_refused"] is True


async def test_a_call_taken_at_the_whisper_ends_with_a_plain_goodbye(gateway: Gateway) -> None:
    sid, whisper = await _whispered_call(gateway)
    assert verbs(whisper) == ["Gather", "Redirect"]
    action = only(whisper, "Gather").attrib["action"]
    taken = await _post(gateway, action, _officer_leg(sid, Digits="1"))
    assert verbs(taken) == []
    await gateway.app[TWILIO].drain(within=30)  # the conversation happens meanwhile
    ended = await _dial_ends(gateway, sid, "completed")
    assert verbs(ended) == ["Hangup"]
    records = {r.contact_key: r for r in await gateway.evidence()}
    assert records[f"{sid}:whisper"].details["key_pressed"] == "1"
    assert "whisper_refused" not in records[f"{sid}:dial"].details


async def test_a_store_fault_at_the_whisper_still_answers_twilio(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The refusal cannot be written, nor read back: the officer's leg still hangs up,
    and the caller hears what DialCallStatus says (as before the refusal was read)."""
    sid, whisper = await _whispered_call(gateway)
    evidence = gateway.app[TWILIO].evidence

    async def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the store is down")

    monkeypatch.setattr(evidence, "record_call_outcome", broken)
    monkeypatch.setattr(evidence, "call_outcome", broken)
    await _refuse(gateway, sid, whisper, "2")
    assert verbs(await _dial_ends(gateway, sid, "completed")) == ["Hangup"]
    assert verbs(await _dial_ends(gateway, sid, "no-answer")) == ["Say", "Hangup"]
    await gateway.app[TWILIO].drain(within=30)
    assert f"could not record the refused whisper of call {sid}" in caplog.text
    assert f"could not read whether the whisper of call {sid} was refused" in caplog.text


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
