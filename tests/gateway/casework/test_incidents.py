"""Incidents for any customer, restricted or not; the "N incidents in P days" rule that
puts a customer on the managers' "consider action" list; and ``POST /contacts`` keeping a
recorded contact from an unrestricted customer as evidence (and as an incident)."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.gateway.api_support import START, api_settings, seed_people, start_api
from tests.gateway.decisions.test_service import FakeClock


def incident(days_ago: float, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_at": (START - timedelta(days=days_ago)).isoformat(),
        "channel": "voice",
        "category": "verbal_or_hate_abuse",
        "description": "Shouted and swore at the call handler",
        "people": "Call handler Sam Jones",
    }
    body.update(overrides)
    return body


async def _consider(api: Any) -> dict[str, list[str]]:
    found = await api.ok("GET", "/consider-action", "viewer")
    assert (found["threshold"], found["window_days"]) == (3, 90)
    return {
        item["customer_id"]: [i["description"] for i in item["incidents"]]
        for item in found["items"]
    }


async def test_three_incidents_in_90_days_put_the_customer_before_a_manager(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    api = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(api)  # C-1, with no restriction
    other = {"id": "C-2", "name": "Bo Other", "emails": ["bo@example.net"], "phones": []}
    await api.ok("POST", "/customers", "officer", json=other)

    # An incident older than 90 days does not count; two recent ones are not enough.
    await api.ok("POST", "/customers/C-1/incidents", "officer", json=incident(95))
    await api.ok(
        "POST", "/customers/C-1/incidents", "officer", json=incident(30, description="Second")
    )
    await api.ok(
        "POST", "/customers/C-1/incidents", "officer", json=incident(2, description="Third")
    )
    await api.ok("POST", "/customers/C-2/incidents", "officer", json=incident(10))
    await api.ok("POST", "/customers/C-2/incidents", "officer", json=incident(5))
    assert await _consider(api) == {}

    attachment = b"photo of the damaged door"
    third = await api.ok(
        "POST",
        "/customers/C-1/incidents",
        "officer",
        json=incident(
            1,
            channel="visit",
            category="property_damage",
            description="Kicked the office door",
            attachments=[
                {
                    "filename": "door.jpg",
                    "content_type": "image/jpeg",
                    "content_base64": base64.b64encode(attachment).decode(),
                }
            ],
        ),
    )
    assert third["attachments"] == [
        {
            "filename": "door.jpg",
            "content_type": "image/jpeg",
            "size": len(attachment),
            "sha256": hashlib.sha256(attachment).hexdigest(),
        }
    ]
    assert third["recorded_by"] == "officer"
    assert await _consider(api) == {"C-1": ["Second", "Third", "Kicked the office door"]}

    # Time moves on: the incident of 30 days ago passes out of the 90 days.
    api.clock.now = START + timedelta(days=61)
    assert await _consider(api) == {}

    listed = await api.ok("GET", "/customers/C-1/incidents", "viewer")
    assert len(listed["items"]) == 4
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    recorded = [a for a in audit if (a["entity"], a["action"]) == ("incident", "recorded")]
    assert len(recorded) == 6 and {a["actor"] for a in recorded} == {"officer"}


async def test_an_incident_is_refused_with_the_field_at_fault(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    api = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(api)
    future = await api.call("POST", "/customers/C-1/incidents", "officer", json=incident(-1))
    assert future.status == 422 and "occurred_at" in await future.text()
    bad = incident(1, attachments=[{"filename": "x", "content_base64": "not base64!"}])
    refused = await api.call("POST", "/customers/C-1/incidents", "officer", json=bad)
    assert refused.status == 422
    assert "attachments[0].content_base64" in await refused.text()
    wrong = await api.call(
        "POST", "/customers/C-1/incidents", "officer", json=incident(1, category="rudeness")
    )
    assert wrong.status == 422 and "category" in await wrong.text()
    unknown = await api.call("POST", "/customers/C-9/incidents", "officer", json=incident(1))
    assert unknown.status == 404
    viewer = await api.call("POST", "/customers/C-1/incidents", "viewer", json=incident(1))
    assert viewer.status == 403


async def test_a_recorded_contact_from_an_unrestricted_customer_is_kept_as_evidence(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    api = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(api)  # C-1 has no restriction
    letter = {
        "channel": "letter",
        "customer": "C-1",
        "at": (START - timedelta(hours=3)).isoformat(),
        "received_by": "Housing office",
        "summary": "Letter threatening staff",
        "reference": "L-1",
    }
    first = await api.ok("POST", "/contacts", "officer", json=letter)
    assert first["evidence_seq"] is not None and first["created"] is True
    assert first["incident_id"] is None
    record = await api.ok("GET", f"/evidence/{first['evidence_seq']}", "viewer")
    assert (record["customer_id"], record["restriction_id"]) == ("C-1", None)
    assert record["details"]["recorded_by"] == "officer"

    visit = {
        **letter,
        "channel": "visit",
        "summary": "Shouted at the receptionist",
        "reference": "V-1",
        "incident": {"category": "verbal_or_hate_abuse", "description": "Shouting and threats"},
    }
    second = await api.ok("POST", "/contacts", "officer", json=visit)
    made = await api.ok("GET", f"/incidents/{second['incident_id']}", "viewer")
    assert made["evidence_seq"] == second["evidence_seq"]
    assert (made["customer_id"], made["channel"], made["category"]) == (
        "C-1",
        "visit",
        "verbal_or_hate_abuse",
    )
    again = await api.call("POST", "/contacts", "officer", json=visit)  # a retry
    assert again.status == 200 and (await again.json())["incident_id"] is None
    assert len((await api.ok("GET", "/customers/C-1/incidents", "viewer"))["items"]) == 1
