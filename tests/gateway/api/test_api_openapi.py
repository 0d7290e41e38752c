"""``/api/v1/openapi.json`` describes exactly what is implemented.

Two checks: the document and the router list the same operations, and schemathesis
calls every operation of a real server on loopback with generated requests, checking
that nothing fails (no 500) and that every answer matches the documented statuses,
content types and schemas. The number of examples is bounded so the test stays fast.

One check is left out: "schema-valid data must be accepted". JSON Schema cannot say
everything the API checks (that a phone number is possible, that a call window ends
after it starts, that a named officer exists), so a schema-valid body can rightly get a
422 naming the field; the answer itself is still checked against the schema.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.openapi import from_dict
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.api import ROUTES
from gateway.api.openapi import api_paths
from tests.gateway.api_support import (
    HOSTILE_JSON,
    START,
    api_settings,
    proposal,
    seed_people,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock

EXAMPLES = 6


def _router_operations(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for resource in app.router.resources():
        path = resource.canonical
        if not path.startswith("/api/"):
            continue
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method, path))
    return found


async def test_document_and_router_agree(aiohttp_client: Any, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(aiohttp_client, api_settings(url, tmp_path / "mail"), FakeClock(START))
    document = await api.ok("GET", "/openapi.json", "viewer")
    assert _router_operations(api.app) == api_paths(document)
    assert len(api_paths(document)) == len(ROUTES)
    for ops in document["paths"].values():
        for op in ops.values():
            assert {"401", "403", "422"} <= set(op["responses"])
            assert op["x-permission"]


def _fuzz(document: dict[str, Any], base_url: str, token: str) -> tuple[list[str], set[int]]:
    """Run schemathesis over every operation (in a thread: its client is blocking)."""
    schema = from_dict(document)
    failures: list[str] = []
    statuses: set[int] = set()
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call_and_validate(
                base_url=base_url,
                session=session,
                headers=headers,
                excluded_checks=[positive_data_acceptance],
            )
            statuses.add(response.status_code)

        try:
            check()
        except Exception as exc:  # collect all, report together
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:2000])
        failures.extend(_hostile_bodies(operation, base_url, session, headers, statuses))
    return failures, statuses


def _hostile_bodies(
    operation: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    statuses: set[int],
) -> list[str]:
    """Bodies generated data never reaches (too deep, huge numbers, broken text, keys
    given twice), sent raw to each operation that takes a body: every answer must be the
    documented 400 naming the fault (or 403 for a role that may not call it at all),
    never a 500."""
    if not operation.get_request_payload_content_types():
        return []
    names = re.findall(r"\{(\w+)\}", operation.path)
    failures = []
    for name, (raw, message) in HOSTILE_JSON.items():
        case = operation.Case(
            path_parameters=dict.fromkeys(names, "1"),
            body=raw,
            media_type="application/octet-stream",  # sent as is; the API reads it as JSON
        )
        try:
            response = case.call_and_validate(
                base_url=base_url,
                session=session,
                headers=headers,
                excluded_checks=[positive_data_acceptance],
            )
            statuses.add(response.status_code)
            error = response.json()["error"]
            if response.status_code == 403:  # the role is checked before the body is read
                assert "cannot do this" in error["message"], error
                continue
            assert response.status_code == 400, error
            assert message in error["message"], error
        except Exception as exc:
            failures.append(f"{operation.label} {name}: {type(exc).__name__}: {exc}"[:2000])
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("role", ["authoriser", "officer"])
async def test_schemathesis_finds_nothing(aiohttp_client: Any, tmp_path: Path, role: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(aiohttp_client, api_settings(url, tmp_path / "mail"), FakeClock(START))
    await seed_people(api)
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    document = await api.ok("GET", "/openapi.json", "viewer")
    # The test client's server is a real aiohttp server on a free loopback port.
    base_url = str(api.client.make_url("")).rstrip("/")
    user = "auth" if role == "authoriser" else "officer"
    failures, statuses = await asyncio.to_thread(_fuzz, document, base_url, api.tokens[user])
    assert failures == []
    # It really ran: successes, refusals, missing things and unreadable bodies were seen.
    assert {200, 400, 404, 422} <= statuses, statuses
    assert schemathesis.__version__
