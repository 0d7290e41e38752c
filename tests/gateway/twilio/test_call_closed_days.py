"""Calls on the days the office is closed, through signed Twilio webhooks.

Friday 25 December 2026 is Christmas Day; Boxing Day falls on the Saturday, so Monday
28 December is its substitute bank holiday in England and Wales (from the ``holidays``
library, not written out here). A caller inside a window's hours on a closed day is told
why and offered the next window that is open; so is a text's notice.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config.org_settings import bank_holidays
from tests.channels.twilio_kit import FakeClock, Gateway, policy, said, settings, start, verbs
from tests.gateway.twilio.call_settings_support import add_admin, change_settings

# Friday 25 December 2026, 10:30 in London (GMT).
CHRISTMAS = datetime(2026, 12, 25, 10, 30, tzinfo=UTC)
WEEKDAY_MORNINGS = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "10:00", "end": "12:00"}]


@pytest.fixture
async def gateway(aiohttp_client: Any, database_url: str, tmp_path: Path) -> Gateway:
    return await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(CHRISTMAS))


def _told(root: ET.Element) -> str:
    assert verbs(root)[-1] == "Hangup", ET.tostring(root)
    assert root.find("Dial") is None and root.find(".//Dial") is None
    return said(root)


async def test_a_call_on_christmas_day_hears_the_office_is_closed_and_the_next_open_window(
    gateway: Gateway,
) -> None:
    await gateway.load(policy({"channels": ["voice", "email"], "call_windows": WEEKDAY_MORNINGS}))
    _, root, sid = await gateway.call()
    words = _told(root)
    assert words.startswith("We are closed today for the bank holiday.")
    # Not Monday 28 December: that is the substitute Boxing Day.
    assert "The next time you can call is Tuesday 29 December between 10 am and 12 noon." in words
    assert "28 December" not in words
    (record,) = await gateway.evidence()
    assert (record.contact_key, record.action, record.hold_reason) == (
        sid,
        "message",
        "outside_call_window",
    )
    assert record.reasons[0]["text"] == (
        "The call is on a bank holiday (Friday 25 December), when no call window applies."
    )


async def test_a_closure_day_an_administrator_sets_is_skipped_too(gateway: Gateway) -> None:
    """The office shut from 29 to 31 December: the next window is Monday 4 January, and
    a call on the 29th is told the office is closed (not that it is a bank holiday)."""
    token = await add_admin(gateway)
    await gateway.load(policy({"channels": ["voice", "email"], "call_windows": WEEKDAY_MORNINGS}))
    changed = await change_settings(
        gateway, token, closure_days=["2026-12-31", "2026-12-29", "2026-12-30", "2026-12-29"]
    )
    assert changed["closure_days"] == ["2026-12-29", "2026-12-30", "2026-12-31"]
    _, root, _ = await gateway.call()
    words = _told(root)
    assert words.startswith("We are closed today for the bank holiday.")
    assert "The next time you can call is Monday 4 January between 10 am and 12 noon." in words

    gateway.clock.now = datetime(2026, 12, 29, 10, 30, tzinfo=UTC)
    _, root, _ = await gateway.call()
    words = _told(root)
    assert words.startswith("The office is closed today.")
    assert "Monday 4 January" in words
    # A text that day (texts are not allowed) is told the same next window.
    reply, _ = await gateway.text("hello")
    message = reply.find("Message")
    assert message is not None and message.text is not None
    assert "The next time you can call is Monday 4 January" in message.text

    # Taken away again: the 29th's window is open, and the call is put through.
    await change_settings(gateway, token, closure_days=[])
    _, root, _ = await gateway.call()
    assert verbs(root) == ["Dial"], ET.tostring(root)


async def test_the_call_on_the_next_open_day_is_put_through(gateway: Gateway) -> None:
    await gateway.load(policy({"channels": ["voice"], "call_windows": WEEKDAY_MORNINGS}))
    gateway.clock.now = datetime(2026, 12, 28, 10, 30, tzinfo=UTC)
    _, root, _ = await gateway.call()
    assert "bank holiday" in _told(root)
    gateway.clock.now = datetime(2026, 12, 29, 10, 30, tzinfo=UTC)
    _, root, _ = await gateway.call()
    assert verbs(root) == ["Dial"]


@pytest.mark.parametrize("year", range(2024, 2031))
def test_england_and_wales_share_their_bank_holidays(year: int) -> None:
    around = date(year, 6, 1)
    assert bank_holidays("ENG", around) == bank_holidays("WLS", around)
    assert bank_holidays("ENG", around) != bank_holidays("SCT", around)
    christmas = {date(year, 12, 25), date(year, 12, 26)}
    assert christmas <= bank_holidays("ENG", around)
