"""Scope and dedicated route on calls and texts, through signed Twilio webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.api.deps import API
from gateway.config.teams import TEAMS_SETTING
from gateway.store.casework.casework import write_settings
from tests.channels.twilio_kit import (
    STAFF_LINE,
    FakeClock,
    Gateway,
    only,
    policy,
    settings,
    start,
    verbs,
)
from tests.gateway.twilio.test_twilio_wiring import NOW
from tests.rules.factories import STAFF_NUMBER

COMPLAINTS_NUMBER = "+441632960300"  # a second Twilio number, the complaints line
TENANCY_LINE = "+441632960400"
MONDAY_ONLY = [{"days": ["mon"], "start": "10:00", "end": "12:00"}]  # NOW is a Tuesday


async def gateway_with(
    aiohttp_client: Any, database_url: str, tmp_path: Path, **clauses: Any
) -> Gateway:
    gateway = await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(NOW))
    teams = {"complaints": {"name": "Complaints", "numbers": [COMPLAINTS_NUMBER]}}
    async with gateway.app[API].admin.writing("admin", "setting the teams") as tx:
        await write_settings(tx, {TEAMS_SETTING: teams})
    await gateway.load(policy({"named_officer": None, "notify_customer": False, **clauses}))
    return gateway


async def test_calls_scoped_to_the_complaints_line_leave_other_lines_alone(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    gateway = await gateway_with(
        aiohttp_client,
        database_url,
        tmp_path,
        channels=["voice"],
        call_windows=MONDAY_ONLY,
        scope={"teams": ["complaints"]},
    )
    _, refused, _ = await gateway.call(to=COMPLAINTS_NUMBER)
    assert "Dial" not in verbs(refused)
    _, connected, _ = await gateway.call(to=STAFF_NUMBER)
    assert verbs(connected) == ["Dial"] and only(connected, "Dial").text == STAFF_LINE
    [record] = await gateway.evidence()  # the call outside the scope leaves no record
    assert (record.recipient, record.hold_reason) == (COMPLAINTS_NUMBER, "outside_call_window")


async def test_a_call_to_another_number_is_put_through_to_the_dedicated_route(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    gateway = await gateway_with(
        aiohttp_client,
        database_url,
        tmp_path,
        channels=["voice", "sms"],
        dedicated_route={"phone": TENANCY_LINE},
    )
    _, root, _ = await gateway.call(to=STAFF_NUMBER)
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == TENANCY_LINE
    [record] = await gateway.evidence()
    assert (record.action, record.deliver_to) == ("connect", TENANCY_LINE)


async def test_a_text_to_another_number_is_held_when_the_route_says_hold(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    gateway = await gateway_with(
        aiohttp_client,
        database_url,
        tmp_path,
        channels=["sms"],
        dedicated_route={"phone": TENANCY_LINE, "otherwise": "hold"},
    )
    await gateway.text("Where is my repair", to=STAFF_NUMBER)
    [held] = await gateway.store.list_held()
    assert (held.hold_reason, held.recipient) == ("off_route", STAFF_NUMBER)
