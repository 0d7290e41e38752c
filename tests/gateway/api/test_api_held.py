"""Held contact through the API (read audited, release to the named officer through the
mail queue, mark reviewed) and contact recorded by officers (letters, visits)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.app import SERVICE
from gateway.mail.lifecycle import MAIL
from rules.decision import Contact
from rules.models import Channel
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

RAW = (
    b"From: Alex <alex@example.net>\r\nTo: housing@example.org\r\nSubject: My boiler\r\n"
    b"Message-ID: <m1@example.net>\r\n\r\nThe boiler is making a noise again.\r\n"
)


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    await gateway.ok("POST", "/restrictions", "officer", json=proposal(channels=["voice"]))
    await gateway.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    return gateway


async def hold(api: ApiClient, channel: Channel, content: bytes, key: str) -> int:
    sender = CUSTOMER_EMAIL if channel is Channel.EMAIL else CUSTOMER_PHONE
    to = "housing@example.org" if channel is Channel.EMAIL else STAFF_NUMBER
    handled = await api.app[SERVICE].handle(
        Contact(channel, sender, to, START, text=content.decode()),
        contact_key=key,
        content=content,
        summary="My boiler",
    )
    assert handled.held_id is not None
    return handled.held_id


def delivered(root: Path, address: str) -> list[bytes]:
    """The messages in an officer's Maildir, byte for byte."""
    folder = root / address / "new"
    return [f.read_bytes() for f in sorted(folder.iterdir())] if folder.exists() else []


async def drain(api: ApiClient, root: Path, address: str) -> list[bytes]:
    worker = api.app[MAIL].worker
    for _ in range(50):  # bounded: the background worker may hold the round
        await worker.step()
        await worker.settled()
        found = delivered(root, address)
        if found:
            return found
    return []


async def test_read_release_and_review(api: ApiClient, tmp_path: Path) -> None:
    held_id = await hold(api, Channel.EMAIL, RAW, "<m1@example.net>")
    listed = await api.ok("GET", "/held", "viewer", params={"customer": "C-1", "channel": "email"})
    assert [h["id"] for h in listed["items"]] == [held_id]
    assert (await api.ok("GET", "/held", "viewer", params={"hold_reason": "excess"}))["items"] == []
    assert (await api.call("GET", f"/held/{held_id}/content", "viewer")).status == 403
    content = await api.ok("GET", f"/held/{held_id}/content", "officer")
    assert base64.b64decode(content["content_base64"]) == RAW and "boiler" in content["text"]
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    assert (audit[0]["action"], audit[0]["actor"]) == ("read_content", "officer")

    released = await api.ok(
        "POST", f"/held/{held_id}/release", "officer", json={"note": "new repair"}
    )
    assert released["delivered_to"] == ["jane.smith@example.org"]
    assert released["held"]["status"] == "released"
    again = await api.call("POST", f"/held/{held_id}/release", "officer", json={})
    assert again.status == 409

    sms_id = await hold(api, Channel.SMS, b"Please ring me about the damp", "SM1")
    for to, says in [
        ("x\n@example.org", "control character"),
        ("jane@example.org\r\nBcc: z@elsewhere.com", "control character"),
        ("not an address", "not an email address"),
        ("someone@elsewhere.com", "not a staff address"),
    ]:
        refused = await api.call("POST", f"/held/{sms_id}/release", "officer", json={"to": to})
        assert refused.status == 422, to
        assert says in str(await refused.json())
    [mail] = await drain(api, tmp_path / "mail", "jane.smith@example.org")
    assert b"X-Contact-Gateway-Released: by officer" in mail
    assert b"X-Contact-Gateway-Original-To: housing@example.org" in mail
    assert mail.endswith(b"The boiler is making a noise again.\r\n")

    no_note = await api.call("POST", f"/held/{sms_id}/review", "officer", json={})
    assert no_note.status == 422
    seen = (await api.call("GET", f"/held/{sms_id}", "officer")).headers["ETag"]
    await api.ok("POST", f"/held/{sms_id}/review", "officer2", json={"note": "first look"})
    stale = await api.call(
        "POST", f"/held/{sms_id}/release", "officer", json={}, headers={"If-Match": seen}
    )
    assert stale.status == 409  # someone reviewed it after this officer looked
    twice = await api.call("POST", f"/held/{sms_id}/review", "officer", json={"note": "again"})
    assert twice.status == 409
    reviewed = await api.ok("GET", f"/held/{sms_id}", "viewer")
    assert (reviewed["status"], reviewed["resolution_note"]) == ("reviewed", "first look")
    # Jane is away: a released text goes to her deputy, as an email carrying the text.
    await api.ok("PATCH", "/officers/jsmith", "officer", json={"absent": True})
    released = await api.ok("POST", f"/held/{sms_id}/release", "officer", json={})
    assert released["delivered_to"] == ["ali.khan@example.org"]
    [note] = await drain(api, tmp_path / "mail", "ali.khan@example.org")
    assert b"Please ring me about the damp" in note and b"Subject: Released sms" in note


async def test_recorded_contact_goes_through_decide_and_the_evidence(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions/R-1/revoke", "auth", json={"reason": "replaced by R-2"})
    await api.ok(
        "POST",
        "/restrictions",
        "officer",
        json=proposal(
            id="R-2",
            channels=["voice", "letter", "visit"],
            limits=[{"channel": "letter", "max": 1, "per": "P7D"}],
        ),
    )
    await api.ok("POST", "/restrictions/R-2/authorise", "auth", json={})
    letter = {
        "channel": "letter",
        "customer": "C-1",
        "at": "2026-11-23T09:00:00Z",
        "received_by": "post room",
        "summary": "Letter about the boiler",
        "attachments": [
            {
                "filename": "scan.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4").decode(),
            }
        ],
        "reference": "LTR-1",
    }
    first = await api.ok("POST", "/contacts", "officer", json=letter)
    assert first["decision"]["action"] == "deliver" and first["created"]
    retried = await api.call("POST", "/contacts", "officer", json=letter)
    assert retried.status == 200 and not (await retried.json())["created"]
    second = await api.ok("POST", "/contacts", "officer", json={**letter, "reference": "LTR-2"})
    assert second["decision"]["hold_reason"] == "excess" and second["held_id"] is not None
    visit = {**letter, "channel": "visit", "reference": "V-1", "attachments": []}
    unannounced = await api.ok("POST", "/contacts", "officer", json=visit)
    assert unannounced["decision"]["hold_reason"] == "channel_not_allowed"
    booked = await api.ok(
        "POST", "/contacts", "officer", json={**visit, "reference": "V-2", "by_appointment": True}
    )
    assert booked["decision"]["action"] == "deliver"
    records = (await api.ok("GET", "/evidence", "viewer", params={"customer": "C-1"}))["items"]
    assert [r["channel"] for r in reversed(records)] == ["letter", "letter", "visit", "visit"]
    assert records[-1]["details"]["attachments"][0]["filename"] == "scan.pdf"
    stored = await api.ok("GET", f"/held/{second['held_id']}/content", "officer")
    assert json.loads(stored["text"])["attachments"][0]["content_base64"] == "JVBERi0xLjQ="
    assert (await api.ok("GET", "/evidence/verify", "viewer"))["ok"] is True
    export = await api.call(
        "GET", "/evidence/export", "viewer", params={"customer": "C-1", "format": "csv"}
    )
    assert export.status == 200 and export.content_type == "text/csv"
    assert (await export.text()).count("\r\n") == 5

    future = await api.call(
        "POST",
        "/contacts",
        "officer",
        json={**letter, "at": (START + timedelta(days=1)).isoformat()},
    )
    assert future.status == 422
    unknown = await api.call("POST", "/contacts", "officer", json={**letter, "customer": "C-9"})
    assert (await unknown.json())["error"]["fields"][0]["field"] == "body.customer"


async def test_exporting_a_known_customer_with_no_records_gives_an_empty_export(
    api: ApiClient,
) -> None:
    params = {"customer": "C-1", "format": "json"}
    empty = await api.ok("GET", "/evidence/export", "viewer", params=params)
    assert (empty["records"], empty["export"]["record_count"]) == ([], 0)
    csv = await api.call("GET", "/evidence/export", "viewer", params={**params, "format": "csv"})
    assert csv.status == 200 and len((await csv.text()).splitlines()) == 1
    unknown = await api.call(
        "GET", "/evidence/export", "viewer", params={**params, "customer": "C-9"}
    )
    assert unknown.status == 404
    assert "there is no customer 'C-9'" in (await unknown.json())["error"]["message"]
