"""The restriction lifecycle through the API, on SQLite and PostgreSQL: four eyes, the
appeal reviewer, lapse at review, suspend and resume, and a change reaching the very next
contact on a real channel (Twilio SMS, signed as Twilio signs it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.app import SERVICE
from rules.decision import Action, Contact
from rules.models import Channel
from tests.channels import twilio_kit
from tests.gateway.api_support import (
    START,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock
from tests.rules.factories import CUSTOMER_EMAIL, CUSTOMER_PHONE, STAFF_NUMBER


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    return gateway


async def explain_email(api: ApiClient) -> dict[str, Any]:
    body = {"channel": "email", "from": CUSTOMER_EMAIL, "to": "housing@example.org", "text": ""}
    return dict(await api.ok("POST", "/explain", "viewer", json=body))


async def authorised(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    await api.ok("POST", "/restrictions", "officer", json=proposal(**overrides))
    return dict(await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={}))


async def test_four_eyes(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "auth", json=proposal(channels=["voice"]))
    assert (await explain_email(api))["restriction_id"] is None  # a draft is not enforced
    own = await api.call("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert own.status == 403
    assert "four-eyes" in (await own.json())["error"]["message"]
    # Someone who edits the draft shares in proposing it, so cannot authorise it either.
    await api.ok("PATCH", "/restrictions/R-1", "auth2", json={"channels": ["email"]})
    edited = await api.call("POST", "/restrictions/R-1/authorise", "auth2", json={})
    assert edited.status == 403
    officer = await api.call("POST", "/restrictions/R-1/authorise", "officer", json={})
    assert officer.status == 403
    done = await api.ok("POST", "/restrictions/R-1/authorise", "auth3", json={"reason": "agreed"})
    assert (done["status"], done["authorised_by"], done["proposed_by"]) == (
        "active",
        "auth3",
        "auth",
    )
    again = await api.call("POST", "/restrictions/R-1/authorise", "auth2", json={})
    assert again.status == 409
    assert (await explain_email(api))["restriction_id"] == "R-1"
    transitions = (await api.ok("GET", "/restrictions/R-1/transitions", "viewer"))["items"]
    assert [(t["action"], t["actor"], t["to_status"]) for t in transitions] == [
        ("proposed", "auth", "draft"),
        ("edited", "auth2", "draft"),
        ("authorise", "auth3", "active"),
    ]
    assert transitions[-1]["reason"] == "agreed" and transitions[-1]["at"] == "2026-11-24T10:30:00Z"


async def test_appeal_is_decided_by_someone_not_involved(api: ApiClient) -> None:
    await authorised(api, channels=[], handling="no_contact")
    lodged = await api.ok(
        "POST",
        "/restrictions/R-1/appeals",
        "officer2",
        json={"lodged_on": "2026-11-24", "grounds": "I only called about my repair"},
    )
    assert lodged["in_time"] and lodged["deadline"] == "2026-12-22"  # 20 working days
    decision = {"outcome": "quash", "reason": "The calls were about an open repair"}
    path = f"/appeals/{lodged['id']}/decision"
    by_authoriser = await api.call("POST", path, "auth", json=decision)
    assert by_authoriser.status == 403
    assert "took part in the original decision" in (await by_authoriser.json())["error"]["message"]
    by_officer = await api.call("POST", path, "officer2", json=decision)
    assert by_officer.status == 403
    assert (await explain_email(api))["hold_reason"] == "no_contact"
    decided = await api.ok("POST", path, "auth2", json=decision)
    assert decided["appeal"]["outcome"] == "quash" and decided["appeal"]["decided_by"] == "auth2"
    assert decided["restriction"]["status"] == "revoked"
    assert (await explain_email(api))["restriction_id"] is None
    twice = await api.call("POST", path, "auth3", json={"outcome": "uphold", "reason": "x"})
    assert twice.status == 409


async def test_appeal_vary_and_late_appeals(api: ApiClient) -> None:
    await authorised(api)
    api.clock.now = START + timedelta(days=60)
    late = await api.call(
        "POST",
        "/restrictions/R-1/appeals",
        "officer",
        json={"lodged_on": "2027-01-20", "grounds": "unfair"},
    )
    assert late.status == 422
    assert (await late.json())["error"]["fields"][0]["field"] == "body.late_reason"
    lodged = await api.ok(
        "POST",
        "/restrictions/R-1/appeals",
        "officer",
        json={"lodged_on": "2027-01-20", "grounds": "unfair", "late_reason": "in hospital"},
    )
    assert not lodged["in_time"]
    varied = await api.ok(
        "POST",
        f"/appeals/{lodged['id']}/decision",
        "auth2",
        json={
            "outcome": "vary",
            "reason": "allow texts",
            "changes": {"channels": ["email", "sms"]},
        },
    )
    assert varied["restriction"]["channels"] == ["email", "sms"]
    assert varied["restriction"]["status"] == "active"


async def test_suspend_and_resume_change_the_next_decision(api: ApiClient) -> None:
    await authorised(api, channels=["voice"])
    assert (await explain_email(api))["hold_reason"] == "channel_not_allowed"
    no_reason = await api.call("POST", "/restrictions/R-1/suspend", "auth2", json={})
    assert no_reason.status == 422
    await api.ok("POST", "/restrictions/R-1/suspend", "auth2", json={"reason": "Hospital stay"})
    assert (await explain_email(api))["restriction_id"] is None
    twice = await api.call("POST", "/restrictions/R-1/suspend", "auth2", json={"reason": "x"})
    assert twice.status == 409
    await api.ok("POST", "/restrictions/R-1/resume", "auth", json={"reason": "Home again"})
    assert (await explain_email(api))["hold_reason"] == "channel_not_allowed"
    await api.ok("POST", "/restrictions/R-1/revoke", "auth", json={"reason": "Behaviour improved"})
    assert (await explain_email(api))["restriction_id"] is None
    history = (await api.ok("GET", "/restrictions/R-1/history", "viewer"))["items"]
    assert [v["data"]["status"] for v in history] == [
        "draft",
        "active",
        "suspended",
        "active",
        "revoked",
    ]


async def test_lapse_at_review_unless_renewed(api: ApiClient) -> None:
    await api.ok("PATCH", "/settings", "admin", json={"lapse_at_review": True})
    await authorised(api, review_on="2026-11-26", channels=["voice"])
    await api.ok(
        "POST", "/restrictions", "officer", json=proposal(id="R-2", review_on="2026-11-26")
    )
    await api.ok("POST", "/restrictions/R-2/authorise", "auth", json={})
    renewed = await api.ok(
        "POST",
        "/restrictions/R-2/reviews",
        "auth2",
        json={"outcome": "renew", "notes": "Still needed", "next_review_on": "2027-02-01"},
    )
    assert renewed["due_on"] == "2026-11-26" and renewed["next_review_on"] == "2027-02-01"
    assert (await explain_email(api))["hold_reason"] == "channel_not_allowed"
    # Midnight in London on the review date: R-1 lapses, the renewed R-2 does not.
    api.clock.now = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    decision = await explain_email(api)
    assert decision["restriction_id"] == "R-2" and decision["action"] == "deliver"
    one = await api.ok("GET", "/restrictions/R-1", "viewer")
    assert one["status"] == "lapsed"
    last = (await api.ok("GET", "/restrictions/R-1/transitions", "viewer"))["items"][-1]
    assert (last["action"], last["actor"], last["from_status"]) == ("lapse", "gateway", "active")
    assert (await api.ok("GET", "/restrictions/R-2", "viewer"))["status"] == "active"


async def test_overdue_reviews_are_listed(api: ApiClient) -> None:
    await authorised(api, review_on="2026-11-30")
    assert (await api.ok("GET", "/reviews/overdue", "viewer"))["items"] == []
    api.clock.now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    overdue = (await api.ok("GET", "/reviews/overdue", "viewer"))["items"]
    assert [(r["id"], r["overdue_for_review"]) for r in overdue] == [("R-1", True)]
    # Overdue keeps it in force (SPEC §3) unless the organisation says reviews lapse.
    assert (await explain_email(api))["restriction_id"] == "R-1"


async def test_next_contact_through_the_service_sees_the_change(api: ApiClient) -> None:
    await authorised(api, channels=["voice"])
    contact = Contact(Channel.EMAIL, CUSTOMER_EMAIL, "housing@example.org", START)
    held = await api.app[SERVICE].handle(contact, contact_key="m1", content=b"1")
    assert held.decision.action is Action.HOLD
    await api.ok("PATCH", "/officers/jsmith", "officer", json={"absent": True})
    await api.ok("POST", "/restrictions/R-1/suspend", "auth", json={"reason": "pause"})
    passed = await api.app[SERVICE].handle(contact, contact_key="m2", content=b"2")
    assert passed.decision.action is Action.DELIVER and passed.record is None


async def test_api_change_reaches_the_very_next_twilio_text(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    settings = twilio_kit.settings(database_url, tmp_path / "mail")
    api = await start_api(aiohttp_client, settings, clock)
    await seed_people(api)
    texts = twilio_kit.Gateway(client=api.client, app=api.app, clock=clock)  # type: ignore[arg-type]
    await api.ok("POST", "/restrictions", "officer", json=proposal(channels=["email"]))
    reply, _ = await texts.text("hello", CUSTOMER_PHONE, STAFF_NUMBER)
    assert (await texts.evidence()) == []  # a draft: the text passed untouched
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    reply, _ = await texts.text("hello again", CUSTOMER_PHONE, STAFF_NUMBER)
    records = await texts.evidence()
    assert [(r.action, r.hold_reason) for r in records] == [("hold", "channel_not_allowed")]
    assert "cannot accept text messages" in ET.tostring(reply, encoding="unicode")
    await api.ok("POST", "/restrictions/R-1/suspend", "auth2", json={"reason": "pause"})
    await texts.text("and again", CUSTOMER_PHONE, STAFF_NUMBER)
    assert len(await texts.evidence()) == 1  # suspended: not restricted, no new record
