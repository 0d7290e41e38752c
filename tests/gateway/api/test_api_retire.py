"""Retiring officers and customers (SPEC §6), and ETags with If-Match on appeals, flags
and adjustments (a stale copy is refused with 409)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.api_support import (
    START,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock

STALE = {"If-Match": '"0000000000000000000000000000000a"'}


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    return gateway


async def fields(response: Any) -> list[str]:
    return [f["field"] for f in (await response.json())["error"]["fields"]]


async def ids(api: ApiClient, path: str) -> list[str]:
    return [item["id"] for item in (await api.ok("GET", path, "viewer"))["items"]]


async def test_retired_officer_is_hidden_kept_and_cannot_be_named(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal(named_officer="akhan"))
    read = await api.call("GET", "/officers/akhan", "viewer")
    assert (await read.json())["retired_at"] is None
    stale = await api.call("POST", "/officers/akhan/retire", "officer", headers=STALE)
    assert stale.status == 409
    retired = await api.call(
        "POST", "/officers/akhan/retire", "officer", headers={"If-Match": read.headers["ETag"]}
    )
    assert retired.status == 200
    body = await retired.json()
    assert body["retired_by"] == "officer" and body["retired_at"] == "2026-11-24T10:30:00Z"
    assert retired.headers["ETag"] != read.headers["ETag"]
    again = await api.call("POST", "/officers/akhan/retire", "officer")
    assert again.status == 409
    # Hidden from the list unless asked for; still readable by id; jsmith's deputy stays.
    assert "akhan" not in await ids(api, "/officers")
    assert "akhan" in await ids(api, "/officers?include_retired=true")
    assert (await api.ok("GET", "/officers/akhan", "viewer"))["retired_by"] == "officer"
    assert (await api.ok("GET", "/officers/jsmith", "viewer"))["deputy"] == "akhan"
    # The draft naming akhan is kept, but cannot be authorised, nor a new one proposed.
    refused = await api.call("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert refused.status == 422 and await fields(refused) == ["body.named_officer"]
    assert "retired" in (await refused.json())["error"]["message"]
    new = await api.call(
        "POST", "/restrictions", "officer", json=proposal(id="R-2", named_officer="akhan")
    )
    assert new.status == 422 and await fields(new) == ["body.named_officer"]
    # Nor may a retired officer become someone's deputy.
    deputy = await api.call("PATCH", "/officers/nophone", "officer", json={"deputy": "akhan"})
    assert deputy.status == 422 and await fields(deputy) == ["body.deputy"]
    # Other changes to an officer whose retired deputy is unchanged still go through.
    await api.ok("PATCH", "/officers/jsmith", "officer", json={"absent": True})
    await api.ok("PATCH", "/restrictions/R-1", "officer", json={"named_officer": "jsmith"})
    done = await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert done["status"] == "active"
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    entry = next(a for a in audit if a["action"] == "retired")
    assert (entry["entity"], entry["entity_id"], entry["actor"]) == ("officer", "akhan", "officer")
    assert entry["before"]["retired_at"] is None
    assert entry["after"]["retired_at"].startswith("2026-11-24T10:30:00")


async def test_retired_customer_needs_restrictions_revoked_first(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    refused = await api.call("POST", "/customers/C-1/retire", "officer")
    assert refused.status == 409
    message = (await refused.json())["error"]["message"]
    assert "R-1 (active)" in message and "revoke" in message
    await api.ok("POST", "/restrictions/R-1/suspend", "auth", json={"reason": "moved"})
    suspended = await api.call("POST", "/customers/C-1/retire", "officer")
    assert (
        suspended.status == 409
        and "R-1 (suspended)" in (await suspended.json())["error"]["message"]
    )
    await api.ok("POST", "/restrictions/R-1/revoke", "auth", json={"reason": "moved away"})
    flag = await api.ok(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={
            "level": "amber",
            "category": "verbal_or_hate_abuse",
            "reason": "Shouted at reception",
        },
    )
    retired = await api.ok("POST", "/customers/C-1/retire", "officer")
    assert retired["retired_by"] == "officer" and retired["emails"]
    assert await ids(api, "/customers") == []
    assert await ids(api, "/customers?include_retired=true") == ["C-1"]
    assert await ids(api, "/customers?include_retired=true&search=C-1") == ["C-1"]
    # History is kept: the customer, their restriction, flags and evidence all read.
    assert (await api.ok("GET", "/customers/C-1", "viewer"))["retired_at"] is not None
    history = (await api.ok("GET", "/restrictions/R-1/history", "viewer"))["items"]
    assert [h["action"] for h in history][-1] == "revoke"
    assert (await api.ok("GET", f"/flags/{flag['id']}", "viewer"))["customer_id"] == "C-1"
    assert (await api.ok("GET", "/evidence/verify", "viewer"))["ok"] is True
    # No restriction is proposed for a retired customer.
    new = await api.call("POST", "/restrictions", "officer", json=proposal(id="R-2"))
    assert new.status == 422 and await fields(new) == ["body.customer"]
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    assert [(a["entity"], a["entity_id"]) for a in audit if a["action"] == "retired"] == [
        ("customer", "C-1")
    ]


async def test_retiring_refuses_viewers_and_unknown_ids(api: ApiClient) -> None:
    assert (await api.call("POST", "/officers/akhan/retire", "viewer")).status == 403
    assert (await api.call("POST", "/customers/C-404/retire", "officer")).status == 404
    assert (await api.call("POST", "/officers/nobody/retire", "officer")).status == 404


async def test_a_draft_for_a_customer_retired_meanwhile_cannot_be_authorised(
    api: ApiClient,
) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/customers/C-1/retire", "officer")  # a draft is not in force
    refused = await api.call("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert refused.status == 422 and await fields(refused) == ["body.customer"]


async def test_flag_etag_and_stale_if_match(api: ApiClient) -> None:
    created = await api.call(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={
            "level": "red",
            "category": "threat_of_animal_attack",
            "reason": "Dog bit a surveyor",
        },
    )
    flag = await created.json()
    read = await api.call("GET", f"/flags/{flag['id']}", "viewer")
    assert read.headers["ETag"] == created.headers["ETag"]
    assert "reason" not in await read.json()
    path = f"/flags/{flag['id']}/remove"
    stale = await api.call("POST", path, "officer", json={"reason": "spent"}, headers=STALE)
    assert stale.status == 409 and "changed since you read it" in await stale.text()
    assert (await api.ok("GET", f"/flags/{flag['id']}", "viewer"))["active"] is True
    current = {"If-Match": read.headers["ETag"]}
    removed = await api.call("POST", path, "officer", json={"reason": "spent"}, headers=current)
    assert removed.status == 200 and removed.headers["ETag"] != read.headers["ETag"]
    late = await api.call("POST", path, "officer2", json={"reason": "spent"}, headers=current)
    assert late.status == 409


async def test_adjustment_etag_and_stale_if_match(api: ApiClient) -> None:
    created = await api.call(
        "POST",
        "/customers/C-1/adjustments",
        "officer",
        json={"need": "email_contact", "description": "Deaf; no phone calls"},
    )
    adjustment = await created.json()
    read = await api.call("GET", f"/adjustments/{adjustment['id']}", "viewer")
    assert read.headers["ETag"] == created.headers["ETag"]
    path = f"/adjustments/{adjustment['id']}/remove"
    stale = await api.call("POST", path, "officer", headers=STALE)
    assert stale.status == 409
    assert (await api.ok("GET", f"/adjustments/{adjustment['id']}", "viewer"))["active"] is True
    removed = await api.call("POST", path, "officer", headers={"If-Match": read.headers["ETag"]})
    assert removed.status == 200 and (await removed.json())["active"] is False
    assert removed.headers["ETag"] != read.headers["ETag"]


async def test_appeal_etag_and_stale_if_match(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    lodged = await api.call(
        "POST",
        "/restrictions/R-1/appeals",
        "officer2",
        json={"lodged_on": "2026-11-24", "grounds": "I only called about my repair"},
    )
    appeal = await lodged.json()
    read = await api.call("GET", f"/appeals/{appeal['id']}", "viewer")
    assert read.status == 200 and read.headers["ETag"] == lodged.headers["ETag"]
    path = f"/appeals/{appeal['id']}/decision"
    decision = {"outcome": "uphold", "reason": "The calls were excessive"}
    stale = await api.call("POST", path, "auth2", json=decision, headers=STALE)
    assert stale.status == 409
    assert (await api.ok("GET", f"/appeals/{appeal['id']}", "viewer"))["status"] == "open"
    decided = await api.call(
        "POST", path, "auth2", json=decision, headers={"If-Match": read.headers["ETag"]}
    )
    assert decided.status == 200
    after = await api.call("GET", f"/appeals/{appeal['id']}", "viewer")
    assert decided.headers["ETag"] == after.headers["ETag"] != read.headers["ETag"]
    assert (await api.call("GET", "/appeals/999999", "viewer")).status == 404
