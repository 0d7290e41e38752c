"""The role matrix: every API route, called with no token, a bad token and each role.

The routes are read from the application's router, so a new route without a line in
``POLICY`` fails here rather than going out unchecked. ``POLICY`` is written out by hand
from the issue ("viewers read, officers propose and manage held contact, authorisers
authorise, suspend, revoke and decide appeals, admins manage users and settings"), not
derived from the code under test. Ids in paths are ones that do not exist (so allowed
calls change nothing and end in 404/400/422), except a real flag, whose reason only
those with a need may read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.gateway.api_support import START, api_settings, seed_people, start_api
from tests.gateway.decisions.test_service import FakeClock

ALL = frozenset({"viewer", "officer", "authoriser", "admin"})
CASEWORK = frozenset({"officer", "authoriser"})
DECIDE = frozenset({"authoriser"})
ADMIN = frozenset({"admin"})
AUDIT = frozenset({"authoriser", "admin"})

POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/openapi.json"): ALL,
    ("GET", "/me"): ALL,
    ("GET", "/users"): ADMIN,
    ("POST", "/users"): ADMIN,
    ("GET", "/users/{name}"): ADMIN,
    ("PATCH", "/users/{name}"): ADMIN,
    ("POST", "/users/{name}/token"): ADMIN,
    ("GET", "/settings"): ALL,
    ("PATCH", "/settings"): ADMIN,
    ("POST", "/exemptions/check"): ALL,
    ("GET", "/exemptions/phrases"): ALL,
    ("PUT", "/exemptions/phrases"): ADMIN,
    ("GET", "/exemptions/routes"): ALL,
    ("PUT", "/exemptions/routes"): ADMIN,
    ("GET", "/teams"): ALL,
    ("PUT", "/teams"): ADMIN,
    ("GET", "/officers"): ALL,
    ("POST", "/officers"): CASEWORK,
    ("GET", "/officers/{officer_id}"): ALL,
    ("PATCH", "/officers/{officer_id}"): CASEWORK,
    ("POST", "/officers/{officer_id}/retire"): CASEWORK,
    ("GET", "/customers"): ALL,
    ("POST", "/customers"): CASEWORK,
    ("GET", "/customers/{customer_id}"): ALL,
    ("PATCH", "/customers/{customer_id}"): CASEWORK,
    ("POST", "/customers/{customer_id}/retire"): CASEWORK,
    ("GET", "/identities/{value}"): ALL,
    ("GET", "/customers/{customer_id}/assignments"): ALL,
    ("PUT", "/customers/{customer_id}/assignments/{user_name}"): DECIDE,
    ("DELETE", "/customers/{customer_id}/assignments/{user_name}"): DECIDE,
    ("GET", "/customers/{customer_id}/flags"): ALL,
    ("POST", "/customers/{customer_id}/flags"): CASEWORK,
    # A real flag: its reason is for authorisers (or officers assigned to the customer).
    ("GET", "/flags/{flag_id}/reason"): DECIDE,
    ("GET", "/flags/{flag_id}"): ALL,
    ("POST", "/flags/{flag_id}/remove"): CASEWORK,
    ("GET", "/customers/{customer_id}/adjustments"): ALL,
    ("POST", "/customers/{customer_id}/adjustments"): CASEWORK,
    ("GET", "/adjustments/{adjustment_id}"): ALL,
    ("POST", "/adjustments/{adjustment_id}/remove"): CASEWORK,
    ("GET", "/customers/{customer_id}/incidents"): ALL,
    ("POST", "/customers/{customer_id}/incidents"): CASEWORK,
    ("GET", "/incidents/{incident_id}"): ALL,
    ("GET", "/consider-action"): ALL,
    ("GET", "/restrictions"): ALL,
    ("POST", "/restrictions"): CASEWORK,
    ("GET", "/restrictions/{restriction_id}"): ALL,
    ("PATCH", "/restrictions/{restriction_id}"): CASEWORK,
    ("POST", "/restrictions/{restriction_id}/authorise"): DECIDE,
    ("POST", "/restrictions/{restriction_id}/reject"): DECIDE,
    ("POST", "/restrictions/{restriction_id}/suspend"): DECIDE,
    ("POST", "/restrictions/{restriction_id}/resume"): DECIDE,
    ("POST", "/restrictions/{restriction_id}/revoke"): DECIDE,
    ("GET", "/restrictions/{restriction_id}/transitions"): ALL,
    ("GET", "/restrictions/{restriction_id}/history"): ALL,
    ("POST", "/restrictions/{restriction_id}/appeals"): CASEWORK,
    ("GET", "/restrictions/{restriction_id}/appeals"): ALL,
    ("POST", "/customers/{customer_id}/letters"): CASEWORK,
    ("GET", "/customers/{customer_id}/letters"): ALL,
    ("GET", "/restrictions/{restriction_id}/letters"): ALL,
    ("GET", "/letters/{letter_id}"): ALL,
    ("GET", "/letters/{letter_id}/pdf"): ALL,
    ("POST", "/letters/{letter_id}/posted"): CASEWORK,
    ("GET", "/customers/{customer_id}/language"): ALL,
    ("PUT", "/customers/{customer_id}/language"): CASEWORK,
    ("GET", "/restrictions/{restriction_id}/notice-exception"): ALL,
    ("POST", "/restrictions/{restriction_id}/notice-exception"): CASEWORK,
    ("POST", "/restrictions/{restriction_id}/notice-exception/sign-off"): DECIDE,
    ("GET", "/appeals/{appeal_id}"): ALL,
    ("POST", "/appeals/{appeal_id}/decision"): DECIDE,
    ("POST", "/restrictions/{restriction_id}/reviews"): DECIDE,
    ("GET", "/restrictions/{restriction_id}/reviews"): ALL,
    ("GET", "/reviews/overdue"): ALL,
    ("GET", "/held"): ALL,
    ("GET", "/held/{held_id}"): ALL,
    ("GET", "/held/{held_id}/content"): CASEWORK,
    ("POST", "/held/{held_id}/release"): CASEWORK,
    ("POST", "/held/{held_id}/review"): CASEWORK,
    ("GET", "/evidence"): ALL,
    ("GET", "/evidence/export"): ALL,
    ("GET", "/evidence/verify"): ALL,
    ("POST", "/evidence/checkpoints"): ADMIN,
    ("GET", "/evidence/{seq}"): ALL,
    ("GET", "/audit"): AUDIT,
    ("GET", "/audit/verify"): AUDIT,
    ("POST", "/explain"): ALL,
    ("POST", "/contacts"): CASEWORK,
    ("GET", "/matches"): ALL,
    ("GET", "/matches/{match_id}"): ALL,
    ("POST", "/matches/{match_id}/confirm"): CASEWORK,
    ("POST", "/matches/{match_id}/dismiss"): CASEWORK,
}
ROLE_USER = {"viewer": "viewer", "officer": "officer", "authoriser": "auth", "admin": "admin"}


def api_routes(app: web.Application) -> list[tuple[str, str]]:
    routes = []
    for resource in app.router.resources():
        for route in resource:
            if route.method != "HEAD" and resource.canonical.startswith("/api/v1"):
                routes.append((route.method, resource.canonical.removeprefix("/api/v1")))
    return sorted(routes)


def concrete(path: str, flag_id: int) -> str:
    ids = {"flag_id": str(flag_id), "user_name": "nobody-here", "name": "nobody-here"}
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "999999"), path)


async def test_every_route_against_the_role_policy(aiohttp_client: Any, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(aiohttp_client, api_settings(url, tmp_path / "mail"), FakeClock(START))
    await seed_people(api)
    flag = await api.ok(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={"level": "red", "category": "animal_attack", "reason": "Dog bit a surveyor"},
    )
    routes = api_routes(api.app)
    assert set(routes) == set(POLICY), "every route needs a line in POLICY, and no more"
    seen: list[tuple[str, str, str, int]] = []
    for method, path in routes:
        target = concrete(path, flag["id"])
        kwargs: dict[str, Any] = {"params": {"customer": "C-404"}} if "export" in path else {}
        if method in ("POST", "PATCH", "PUT"):
            kwargs["json"] = {}
        nobody = await api.call(method, target, None, **kwargs)
        assert nobody.status == 401, (method, path)
        assert nobody.headers["WWW-Authenticate"].startswith("Bearer")
        bad = await api.call(
            method, target, None, headers={"Authorization": "Bearer cgw_not-a-token"}, **kwargs
        )
        assert bad.status == 401, (method, path)
        assert "invalid_token" in bad.headers["WWW-Authenticate"]
        for role, user in ROLE_USER.items():
            response = await api.call(method, target, user, **kwargs)
            body = await response.read()
            if role in POLICY[(method, path)]:
                assert response.status not in (401, 403, 500), (role, method, path, body)
            else:
                assert response.status == 403, (role, method, path, response.status, body)
            seen.append((role, method, path, response.status))
    assert len(seen) == 4 * len(POLICY)
    # Nothing the forbidden calls tried was done: only the seeding changed the policy.
    assert (await api.ok("GET", "/restrictions", "viewer"))["items"] == []


async def test_public_routes_need_no_token(aiohttp_client: Any, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(aiohttp_client, api_settings(url, tmp_path / "mail"), FakeClock(START))
    assert (await api.client.get("/healthz")).status == 200
    assert (await api.client.get("/readyz")).status == 200
    unknown = await api.call("GET", "/no-such-thing", None)
    assert unknown.status == 401  # an unauthenticated caller learns nothing of the paths
    unknown = await api.call("GET", "/no-such-thing", "viewer")
    assert unknown.status == 404
    assert (await unknown.json())["error"][
        "message"
    ] == "there is no API endpoint /api/v1/no-such-thing"
    wrong = await api.call("DELETE", "/me", "viewer")
    assert wrong.status == 405 and "not allowed" in (await wrong.json())["error"]["message"]


async def test_disabled_and_rotated_tokens_stop_working(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(aiohttp_client, api_settings(url, tmp_path / "mail"), FakeClock(START))
    created = await api.ok("POST", "/users", json={"name": "hms-sync", "role": "viewer"})
    token = created["token"]
    assert token.startswith("cgw_") and created["user"]["role"] == "viewer"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.call("GET", "/me", None, headers=headers)).status == 200
    rotated = await api.ok("POST", "/users/hms-sync/token")
    assert (await api.call("GET", "/me", None, headers=headers)).status == 401
    new = {"Authorization": f"Bearer {rotated['token']}"}
    assert (await api.call("GET", "/me", None, headers=new)).status == 200
    await api.ok("PATCH", "/users/hms-sync", json={"disabled": True})
    assert (await api.call("GET", "/me", None, headers=new)).status == 401
    # The last enabled admin cannot lock everyone out.
    last = await api.call("PATCH", "/users/admin", json={"role": "viewer"})
    assert last.status == 409
    duplicate = await api.call("POST", "/users", json={"name": "hms-sync", "role": "admin"})
    assert duplicate.status == 409
    audit = (await api.ok("GET", "/audit"))["items"]
    assert [a["action"] for a in audit[:3]] == ["disabled", "token_rotated", "created"]
