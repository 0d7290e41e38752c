"""Callers from withheld numbers, through signed Twilio webhooks, under both settings.

Twilio gives a withheld caller's From as ``anonymous``, ``restricted``, one of a few
reserved pseudo-numbers (``+266696687``...) or nothing. Such a caller can match no
customer, so by default (``withheld_callers: connect``) they are put through as any
unknown caller is, and no evidence is kept. An organisation may choose
``emergency_only``: they are told the line does not take withheld numbers and offered
the emergency option, and pressing 1 puts them through to the emergency line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.channels.twilio_kit import (
    STAFF_LINE,
    FakeClock,
    Gateway,
    call_params,
    only,
    policy,
    said,
    settings,
    start,
    verbs,
)
from tests.gateway.twilio.call_settings_support import add_admin, change_settings
from tests.rules.factories import CUSTOMER_PHONE, EMERGENCY, NOW, STAFF_NUMBER

WITHHELD = ("anonymous", "+266696687", "Restricted", "")


@pytest.fixture
async def gateway(aiohttp_client: Any, database_url: str, tmp_path: Path) -> Gateway:
    gateway = await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(NOW))
    await gateway.load(policy({"channels": ["voice", "email"]}))
    return gateway


async def test_by_default_a_withheld_caller_is_put_through(gateway: Gateway) -> None:
    assert (await change_settings(gateway, await add_admin(gateway)))["withheld_callers"] == (
        "connect"
    )
    for caller in WITHHELD:
        _, root, _ = await gateway.call(caller)
        assert verbs(root) == ["Dial"], caller
        assert only(root, "Dial").text == STAFF_LINE
    assert await gateway.evidence() == []


async def test_emergency_only_offers_the_emergency_option_and_a_message(gateway: Gateway) -> None:
    await change_settings(gateway, await add_admin(gateway), withheld_callers="emergency_only")
    for caller in WITHHELD:
        _, root, sid = await gateway.call(caller)
        assert verbs(root) == ["Gather", "Say", "Hangup"], caller
        words = said(only(root, "Gather"))
        assert words.startswith("Sorry, this line does not take calls from withheld numbers.")
        assert "press 1 now" in words
        assert root.find(".//Dial") is None

        # 1 puts them through to the emergency line; another key is offered it again.
        pressed = await gateway.post(
            "/twilio/voice/menu", call_params(sid, caller, STAFF_NUMBER, Digits="1")
        )
        dial = only(ET.fromstring(await pressed.text()), "Dial")
        assert dial.text == EMERGENCY
        other = await gateway.post(
            "/twilio/voice/menu", call_params(sid, caller, STAFF_NUMBER, Digits="5")
        )
        again = ET.fromstring(await other.text())
        assert verbs(again) == ["Gather", "Say", "Hangup"] and again.find(".//Dial") is None

    # A caller whose number shows is not affected, known or not.
    _, root, _ = await gateway.call(CUSTOMER_PHONE)
    assert verbs(root) == ["Dial"]
    _, root, _ = await gateway.call("+447700900999")
    assert only(root, "Dial").text == STAFF_LINE


async def test_without_an_emergency_line_the_caller_is_told_to_call_999(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    gateway = await start(
        aiohttp_client,
        settings(f"sqlite+aiosqlite:///{tmp_path}/g.db", tmp_path, emergency_number=""),
        FakeClock(NOW),
    )
    await change_settings(gateway, await add_admin(gateway), withheld_callers="emergency_only")
    _, root, _ = await gateway.call("anonymous")
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root).endswith("If anyone is in immediate danger, hang up and call 999.")
