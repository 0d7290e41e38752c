"""Hostile and broken input: stored literally, refused clearly, never half-written."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from gateway.api import ROUTES, restrictions_api
from rules.roles import Permission, allowed
from tests.gateway.api_support import (
    HOSTILE_JSON,
    START,
    USERS,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    shared_api,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock

SQL = "Robert'); DROP TABLE customers;-- ' OR '1'='1"
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    return gateway


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def refusing_api(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiClient]:
    """The same gateway as ``api``, shared by this module's tests whose requests are all
    refused (one per engine, not one per test): each checks that nothing changed."""
    async with shared_api(module_database_url, tmp_path_factory.mktemp("api")) as gateway:
        yield gateway


# The tests that use ``refusing_api`` run in its event loop.
shares_gateway = pytest.mark.asyncio(loop_scope="module")


async def state(api: ApiClient) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    audit = await api.store.list_audit(limit=1)
    return (
        await api.store.policy_version(),
        audit[0].seq if audit else 0,
        (await api.ok("GET", "/restrictions", "viewer"))["items"],
        (await api.ok("GET", "/customers", "viewer"))["items"],
    )


async def test_sql_and_script_looking_text_is_stored_and_returned_literally(
    api: ApiClient,
) -> None:
    customer = {
        "id": "C-2",
        "name": SQL,
        "emails": ["bobby@example.net"],
        "representatives": [{"name": SCRIPT, "emails": []}],
    }
    created = await api.ok("POST", "/customers", "officer", json=customer)
    assert created["name"] == SQL and created["representatives"][0]["name"] == SCRIPT
    read = await api.ok("GET", "/customers/C-2", "viewer")
    assert (read["name"], read["representatives"][0]["name"]) == (SQL, SCRIPT)
    found = await api.ok("GET", "/customers", "viewer", params={"search": "DROP TABLE"})
    assert [c["id"] for c in found["items"]] == ["C-2"]
    flag = await api.ok(
        "POST",
        "/customers/C-2/flags",
        "officer",
        json={"level": "amber", "category": "verbal_or_hate_abuse", "reason": SQL + SCRIPT},
    )
    assert (await api.ok("GET", f"/flags/{flag['id']}/reason", "auth"))["reason"] == SQL + SCRIPT
    body = proposal(id="R-9", customer="C-2", reason=SCRIPT, evidence_summary=SQL)
    made = await api.ok("POST", "/restrictions", "officer", json=body)
    assert made["reason"] == SCRIPT and made["proposal"]["evidence_summary"] == SQL
    response = await api.call("GET", "/restrictions/R-9", "viewer")
    assert response.content_type == "application/json"
    assert SCRIPT in (await response.json())["reason"]
    assert len((await api.ok("GET", "/customers", "viewer"))["items"]) == 2  # table intact


@shares_gateway
async def test_oversized_bodies_are_refused(refusing_api: ApiClient) -> None:
    before = await state(refusing_api)
    big = {"id": "C-3", "name": "x" * 100_000}
    response = await refusing_api.call("POST", "/customers", "officer", json=big)
    assert response.status == 413
    assert "larger than this endpoint accepts" in (await response.json())["error"]["message"]

    async def chunks() -> Any:  # no Content-Length: the limit is counted as it arrives
        for _ in range(10):
            yield b" " * 10_000
        yield b'{"id": "C-3", "name": "x"}'

    streamed = await refusing_api.call(
        "POST", "/customers", "officer", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status == 413
    assert await state(refusing_api) == before


@shares_gateway
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "message"),
    [
        (
            b'{"id": "C-3", "name": ',
            "application/json",
            400,
            "not valid JSON: Expecting value at line 1 column 23",
        ),
        (b"", "application/json", 400, "needs a JSON body"),
        (b"\xff\xfe{}", "application/json", 400, "not UTF-8"),
        (b"[1, 2]", "application/json", 422, "body: Input should be a valid dictionary"),
        (b"id=C-3", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
async def test_malformed_bodies_get_a_clear_message(
    refusing_api: ApiClient, raw: bytes, content_type: str, status: int, message: str
) -> None:
    before = await state(refusing_api)
    response = await refusing_api.call(
        "POST", "/customers", "officer", data=raw, headers={"Content-Type": content_type}
    )
    assert response.status == status
    error = (await response.json())["error"]
    assert message in error["message"], error
    assert await state(refusing_api) == before


@shares_gateway
async def test_validation_names_each_field(refusing_api: ApiClient) -> None:
    response = await refusing_api.call(
        "POST",
        "/officers",
        "officer",
        json={"id": "bad id!", "name": "", "email": "nope", "phone": "0770", "extra": 1},
    )
    assert response.status == 422
    fields = {f["field"] for f in (await response.json())["error"]["fields"]}
    assert fields == {"body.id", "body.name", "body.email", "body.phone", "body.extra"}
    query = await refusing_api.call("GET", "/restrictions", "viewer", params={"limit": "0"})
    assert query.status == 422
    assert (await query.json())["error"]["fields"][0]["field"] == "query.limit"


@shares_gateway
async def test_unknown_ids_are_404(refusing_api: ApiClient) -> None:
    for path in (
        "/restrictions/R-404",
        "/customers/C-404",
        "/officers/none",
        "/held/abc",
        "/held/12345",
        "/evidence/77",
        "/users/nobody",
    ):
        response = await refusing_api.call("GET", path, "admin" if "users" in path else "viewer")
        assert response.status == 404, path
        assert (await response.json())["error"]["message"].startswith("there is no")


@shares_gateway
async def test_refused_references_write_nothing(refusing_api: ApiClient) -> None:
    before = await state(refusing_api)
    unknown = await refusing_api.call(
        "POST", "/restrictions", "officer", json=proposal(named_officer="ghost")
    )
    assert unknown.status == 422
    assert (await unknown.json())["error"]["fields"] == [
        {"field": "body.named_officer", "reason": "'ghost' is not a known officer id"}
    ]
    taken = await refusing_api.call(
        "POST",
        "/customers",
        "officer",
        json={"id": "C-5", "name": "Someone", "emails": ["alex@example.net"]},
    )
    assert taken.status == 409 and "already belongs to customer 'C-1'" in await taken.text()
    assert await state(refusing_api) == before


async def test_a_failure_half_way_rolls_everything_back(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restriction row, its history and transition are written, then the proposal
    fails: the whole request is rolled back."""
    before = await state(api)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(restrictions_api, "insert_proposal", broken)
    response = await api.call("POST", "/restrictions", "officer", json=proposal())
    assert response.status == 500
    assert "logged" in (await response.json())["error"]["message"]
    assert await state(api) == before
    assert (await api.call("GET", "/restrictions/R-1", "viewer")).status == 404


async def test_stale_if_match_is_a_conflict(api: ApiClient) -> None:
    first = await api.call("GET", "/customers/C-1", "viewer")
    tag = first.headers["ETag"]
    changed = await api.call(
        "PATCH", "/customers/C-1", "officer", json={"name": "Alex E."}, headers={"If-Match": tag}
    )
    assert changed.status == 200 and changed.headers["ETag"] != tag
    stale = await api.call(
        "PATCH", "/customers/C-1", "officer2", json={"name": "Alex X."}, headers={"If-Match": tag}
    )
    assert stale.status == 409
    assert "changed since you read it" in (await stale.json())["error"]["message"]
    assert (await api.ok("GET", "/customers/C-1", "viewer"))["name"] == "Alex E."
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    draft = await api.call("GET", "/restrictions/R-1", "viewer")
    await api.ok("PATCH", "/restrictions/R-1", "officer", json={"channels": ["email", "sms"]})
    late = await api.call(
        "POST",
        "/restrictions/R-1/authorise",
        "auth",
        json={},
        headers={"If-Match": draft.headers["ETag"]},
    )
    assert late.status == 409
    assert (await api.ok("GET", "/restrictions/R-1", "viewer"))["status"] == "draft"


# Shapes that once made the JSON reader itself fail (500 with a RecursionError or
# "Exceeds the limit (4300 digits)") or that mean two things to two parsers. Each must
# be refused by every route that takes a body, with a 400 naming the problem.
HOSTILE_BODIES = [
    pytest.param(raw, message, id=name) for name, (raw, message) in HOSTILE_JSON.items()
]


def _user_for(permission: Permission) -> str:
    return next(name for name, role in USERS.items() if allowed(role, permission))


@shares_gateway
@pytest.mark.parametrize(("raw", "message"), HOSTILE_BODIES)
async def test_hostile_json_is_refused_by_every_route_that_reads_a_body(
    refusing_api: ApiClient, raw: bytes, message: str
) -> None:
    before = await state(refusing_api)
    routes = [r for r in ROUTES if r.body is not None]
    assert len(routes) > 20  # every route that takes a body, not a sample
    for route in routes:
        path = re.sub(r"\{[a-z_]+\}", "1", route.path)
        response = await refusing_api.call(
            route.method,
            path,
            _user_for(route.permission),
            data=raw,
            headers={"Content-Type": "application/json"},
        )
        where = f"{route.method} {route.path}"
        assert response.status == 400, (where, await response.text())
        error = (await response.json())["error"]
        assert message in error["message"], (where, error)
    # The routes still work afterwards, and nothing was written.
    assert await state(refusing_api) == before
    explained = await refusing_api.ok(
        "POST", "/explain", "viewer", json={"channel": "email", "customer": "C-1", "to": "x"}
    )
    assert explained["customer_id"] == "C-1"
