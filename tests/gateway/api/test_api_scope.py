"""Scope and dedicated route through the API: teams as an organisation setting, a
restriction naming them, and bad input refused naming the JSON field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rules.decision import EMPTY_USAGE, Action, Contact
from rules.engine import decide
from rules.models import Channel
from tests.gateway.api_support import (
    START,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    shared_api,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock

COMPLAINTS = "complaints@example.org"
REPAIRS = "repairs@example.org"
TEAMS = {
    "complaints": {
        "name": "Complaints",
        "addresses": ["Complaints@Example.org"],
        "numbers": ["01632 960100"],
    },
    "repairs": {"name": "Repairs", "addresses": [REPAIRS]},
}


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    await gateway.ok("PUT", "/teams", "admin", json={"teams": TEAMS})
    return gateway


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def refusing_api(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiClient]:
    """The same gateway as ``api``, shared by this module's tests that only read or are
    refused (one per engine, not one per test): each checks that nothing changed."""
    async with shared_api(module_database_url, tmp_path_factory.mktemp("api")) as gateway:
        await gateway.ok("PUT", "/teams", "admin", json={"teams": TEAMS})
        yield gateway


# The tests that use ``refusing_api`` run in its event loop.
shares_gateway = pytest.mark.asyncio(loop_scope="module")


async def refused(
    api: ApiClient, method: str, path: str, body: Any, user: str = "officer"
) -> dict[str, str]:
    response = await api.call(method, path, user, json=body)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    return {f["field"]: f["reason"] for f in error["fields"]}


@shares_gateway
async def test_teams_are_normalised_and_read_back(refusing_api: ApiClient) -> None:
    teams = (await refusing_api.ok("GET", "/teams", "viewer"))["teams"]
    assert teams["complaints"] == {
        "name": "Complaints",
        "addresses": [COMPLAINTS],
        "numbers": ["+441632960100"],
    }


async def test_a_scoped_restriction_is_proposed_authorised_and_decides_by_scope(
    api: ApiClient,
) -> None:
    made = await api.ok(
        "POST",
        "/restrictions",
        "officer",
        json=proposal(
            named_officer=None, handling="read_and_file", scope={"teams": ["complaints"]}
        ),
    )
    assert made["scope"] == {"teams": ["complaints"], "addresses": [], "numbers": []}
    assert made["dedicated_route"] is None
    etag = (await api.call("GET", "/restrictions/R-1", "auth")).headers["ETag"]
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={}, headers={"If-Match": etag})
    index = await api.next_decision()
    to = {
        addr: decide(
            Contact(Channel.EMAIL, "alex@example.net", addr, START), index, EMPTY_USAGE, START
        )
        for addr in (COMPLAINTS, REPAIRS)
    }
    assert to[COMPLAINTS].action is Action.HOLD
    assert (to[REPAIRS].action, to[REPAIRS].reasons[0].code) == (Action.DELIVER, "out_of_scope")


@shares_gateway
@pytest.mark.parametrize(
    ("clauses", "field", "words"),
    [
        (
            {"scope": {"teams": ["complaint"]}},
            "body.scope.teams[0]",
            "'complaint' is not a known team (known: complaints, repairs)",
        ),
        (
            {"scope": {"addresses": ["complaints"]}},
            "body.scope.addresses",
            "'complaints' is not an email address",
        ),
        ({"scope": {"numbers": ["0161"]}}, "body.scope.numbers", "'0161' is not"),
        (
            {"dedicated_route": {"email": "tenancy"}},
            "body.dedicated_route.email",
            "'tenancy' is not an email address",
        ),
        (
            {"dedicated_route": {"email": "t@example.org", "otherwise": "bounce"}},
            "body.dedicated_route.otherwise",
            "'redirect' or 'hold'",
        ),
        (
            {"scope": {"teams": ["repairs"]}, "dedicated_route": {"email": COMPLAINTS}},
            "body.dedicated_route.email",
            f"email '{COMPLAINTS}' is outside the restriction's scope",
        ),
        (
            {"scope": {"addresses": [REPAIRS]}, "dedicated_route": {"email": COMPLAINTS}},
            "body.dedicated_route",
            f"email '{COMPLAINTS}' is outside the restriction's scope",
        ),
    ],
)
async def test_bad_scope_or_route_is_refused_naming_the_json_field(
    refusing_api: ApiClient, clauses: dict[str, Any], field: str, words: str
) -> None:
    fields = await refused(refusing_api, "POST", "/restrictions", proposal(**clauses))
    assert field in fields, fields
    assert words in fields[field]
    assert (await refusing_api.ok("GET", "/restrictions", "viewer"))["items"] == []


async def test_an_edit_is_checked_against_the_teams_too(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    etag = (await api.call("GET", "/restrictions/R-1", "officer")).headers["ETag"]
    response = await api.call(
        "PATCH",
        "/restrictions/R-1",
        "officer",
        json={"scope": {"teams": ["housing"]}},
        headers={"If-Match": etag},
    )
    assert response.status == 422
    fields = {f["field"]: f["reason"] for f in (await response.json())["error"]["fields"]}
    assert "'housing' is not a known team" in fields["body.scope.teams[0]"]


async def test_a_team_a_restriction_names_cannot_be_taken_away(api: ApiClient) -> None:
    await api.ok("POST", "/restrictions", "officer", json=proposal(scope={"teams": ["complaints"]}))
    fields = await refused(
        api, "PUT", "/teams", {"teams": {"repairs": TEAMS["repairs"]}}, user="admin"
    )
    assert "named by restriction R-1 (draft)" in fields["body.teams"]
    assert "complaints" in (await api.ok("GET", "/teams", "viewer"))["teams"]


@shares_gateway
async def test_a_bad_team_is_refused_naming_it(refusing_api: ApiClient) -> None:
    before = await refusing_api.ok("GET", "/teams", "viewer")
    fields = await refused(
        refusing_api,
        "PUT",
        "/teams",
        {"teams": {"empty": {"name": "Empty"}, "bad": {"name": "Bad", "addresses": ["bad"]}}},
        user="admin",
    )
    assert "has no addresses and no numbers" in fields["body.teams.empty"]
    assert "'bad' is not an email address" in fields["body.teams.bad.addresses"]
    assert await refusing_api.ok("GET", "/teams", "viewer") == before


@shares_gateway
async def test_only_an_administrator_sets_teams(refusing_api: ApiClient) -> None:
    response = await refusing_api.call("PUT", "/teams", "officer", json={"teams": TEAMS})
    assert response.status == 403


async def test_explain_says_what_the_scope_and_route_do(api: ApiClient) -> None:
    body = proposal(
        named_officer=None,
        scope={"teams": ["complaints"]},
        dedicated_route={"email": COMPLAINTS, "otherwise": "hold"},
    )
    await api.ok("POST", "/restrictions", "officer", json=body)
    etag = (await api.call("GET", "/restrictions/R-1", "auth")).headers["ETag"]
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={}, headers={"If-Match": etag})

    async def explain(to: str) -> dict[str, Any]:
        sent = {"channel": "email", "from": "alex@example.net", "to": to}
        return dict(await api.ok("POST", "/explain", "viewer", json=sent))

    outside = await explain(REPAIRS)
    assert outside["action"] == "deliver" and outside["deliver_to"] == REPAIRS
    assert "covers only the complaints team" in outside["reasons"][0]["text"]
    to_team = await explain(COMPLAINTS)
    assert to_team["action"] == "deliver" and to_team["deliver_to"] == COMPLAINTS
