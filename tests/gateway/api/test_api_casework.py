"""Warning flags (reasons on a need-to-know basis, each read audited) and reasonable
adjustments (a conflicting restriction needs a written justification)."""

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

REASON = "Threatened to set his dog on the gas engineer on 3 November"


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    return gateway


async def test_flag_reason_is_need_to_know_and_each_read_is_audited(api: ApiClient) -> None:
    flag = await api.ok(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={"level": "red", "category": "threat_of_animal_attack", "reason": REASON},
    )
    listed = (await api.ok("GET", "/customers/C-1/flags", "viewer"))["items"]
    assert [(f["level"], f["category"]) for f in listed] == [("red", "threat_of_animal_attack")]
    assert "reason" not in listed[0]
    path = f"/flags/{flag['id']}/reason"
    for user in ("viewer", "officer2", "admin"):
        refused = await api.call("GET", path, user)
        assert refused.status == 403, user
    assert (await api.ok("GET", path, "auth"))["reason"] == REASON
    await api.ok("PUT", "/customers/C-1/assignments/officer2", "auth")
    assert (await api.ok("GET", path, "officer2"))["reason"] == REASON
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    reads = [(a["actor"], a["entity_id"]) for a in audit if a["action"] == "read_reason"]
    assert reads == [("officer2", str(flag["id"])), ("auth", str(flag["id"]))]
    # The reason itself never goes into the audit log, which more people may read.
    assert REASON not in str(audit)
    created = next(a for a in audit if a["entity"] == "flag" and a["action"] == "created")
    assert len(created["after"]["reason_sha256"]) == 64
    await api.ok("DELETE", "/customers/C-1/assignments/officer2", "auth")
    assert (await api.call("GET", path, "officer2")).status == 403
    removed = await api.ok(
        "POST", f"/flags/{flag['id']}/remove", "officer", json={"reason": "spent"}
    )
    assert removed["active"] is False and removed["removed_by"] == "officer"
    assert (await api.ok("GET", "/customers/C-1/flags", "viewer"))["items"] == []
    assert (await api.ok("GET", "/audit/verify", "admin"))["ok"] is True


async def test_unknown_flag_category_is_refused(api: ApiClient) -> None:
    response = await api.call(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={"level": "purple", "category": "rudeness", "reason": "x"},
    )
    assert response.status == 422
    fields = {f["field"] for f in (await response.json())["error"]["fields"]}
    assert fields == {"body.level", "body.category"}


async def test_restriction_conflicting_with_an_adjustment_needs_a_justification(
    api: ApiClient,
) -> None:
    need = await api.ok(
        "POST",
        "/customers/C-1/adjustments",
        "officer",
        json={"need": "phone_contact", "description": "Cannot read: dyslexia"},
    )
    await api.ok("POST", "/restrictions", "officer", json=proposal(channels=["email"]))
    refused = await api.call("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert refused.status == 422
    error = (await refused.json())["error"]
    assert error["fields"][0]["field"] == "body.adjustment_justification"
    assert "phone_contact" in error["message"]
    assert (await api.ok("GET", "/restrictions/R-1", "viewer"))["status"] == "draft"
    justification = "Calls were abusive; a support worker will phone weekly on his behalf"
    done = await api.ok(
        "POST",
        "/restrictions/R-1/authorise",
        "auth",
        json={"adjustment_justification": justification},
    )
    assert done["status"] == "active"
    last = (await api.ok("GET", "/restrictions/R-1/transitions", "viewer"))["items"][-1]
    assert last["details"]["adjustment_justification"] == justification
    assert "phone_contact" in last["details"]["adjustment_conflicts"][0]
    # A restriction that keeps what the need depends on needs no justification.
    removed = await api.ok("POST", f"/adjustments/{need['id']}/remove", "officer")
    assert removed["active"] is False
    again = await api.call("POST", f"/adjustments/{need['id']}/remove", "officer")
    assert again.status == 409


async def test_adjustment_not_in_conflict_needs_nothing(api: ApiClient) -> None:
    await api.ok(
        "POST",
        "/customers/C-1/adjustments",
        "officer",
        json={"need": "email_contact", "description": "Prefers email"},
    )
    await api.ok("POST", "/restrictions", "officer", json=proposal(channels=["email"]))
    assert (await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={}))[
        "status"
    ] == "active"
    listed = (await api.ok("GET", "/customers/C-1/adjustments", "viewer"))["items"]
    assert [a["need"] for a in listed] == ["email_contact"]
