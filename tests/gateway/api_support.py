"""A running gateway with one user per role, and helpers to call its API as a client would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from gateway.api.deps import API
from gateway.app import SERVICE, STORE, create_app
from gateway.settings import Settings
from gateway.store import Store
from gateway.store.users import create_user
from rules.roles import Role
from tests.gateway.test_service import FakeClock
from tests.rules.factories import OFFICERS, customer

# Tuesday 24 November 2026, 10:30 London.
START = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
USERS = {
    "viewer": Role.VIEWER,
    "officer": Role.OFFICER,
    "officer2": Role.OFFICER,
    "auth": Role.AUTHORISER,
    "auth2": Role.AUTHORISER,
    "auth3": Role.AUTHORISER,
    "admin": Role.ADMIN,
}


def api_settings(database_url: str, mail_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": {"url": database_url},
        "smtp": {"port": 0, "hostname": "gateway.test"},
        "upstream": f"maildir:{mail_dir}",
        "org_domains": ("example.org",),
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class ApiClient:
    client: TestClient
    app: web.Application
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.app[STORE]

    def auth(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(
        self,
        method: str,
        path: str,
        user: str | None = "admin",
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        all_headers = {**self.auth(user), **(headers or {})}
        return await self.client.request(
            method, "/api/v1" + path, json=json, headers=all_headers, **kwargs
        )

    async def ok(self, method: str, path: str, user: str = "admin", **kwargs: Any) -> Any:
        """Call and insist on success; the JSON answer."""
        response = await self.call(method, path, user, **kwargs)
        assert response.status < 300, f"{method} {path}: {response.status} {await response.text()}"
        return None if response.status == 204 else await response.json()

    async def next_decision(self) -> Any:
        return await self.app[SERVICE].policy()


async def start_api(aiohttp_client: Any, settings: Settings, clock: FakeClock) -> ApiClient:
    app = create_app(settings, clock=clock)
    client = await aiohttp_client(app)
    api = ApiClient(client=client, app=app, clock=clock)
    async with app[API].admin.writing("test", "creating test users") as tx:
        for name, role in USERS.items():
            _, api.tokens[name] = await create_user(tx, name, role)
    return api


async def seed_people(api: ApiClient) -> None:
    """The rules tests' officers and customer, created through the API."""
    for officer in reversed(OFFICERS):
        await api.ok("POST", "/officers", "officer", json=officer)
    await api.ok("POST", "/customers", "officer", json=customer())


def proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "R-1",
        "customer": "C-1",
        "reason": "Over 40 calls a week to several staff",
        "evidence_summary": "Call logs for October",
        "adjustments_considered": "Email remains open; the customer has no recorded needs",
        "starts": "2026-11-01T09:00:00Z",
        "review_on": "2027-05-01",
        "channels": ["email"],
        "named_officer": "jsmith",
    }
    body.update(overrides)
    return body
