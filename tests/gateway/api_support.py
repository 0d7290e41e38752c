"""A running gateway with one user per role, and helpers to call its API as a client would."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.api.deps import API
from gateway.app import SERVICE, STORE, create_app
from gateway.config.settings import Settings
from gateway.store import Store
from gateway.store.accounts.ui_sessions import end_user_sessions, hash_password
from gateway.store.accounts.users import create_user
from gateway.store.admin_schema import org_settings, users
from gateway.store.engine import write_transaction
from rules.roles import Role
from tests.gateway.decisions.test_service import FakeClock
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


async def start_api(
    aiohttp_client: Any, settings: Settings, clock: FakeClock, *, written_notice: bool = False
) -> ApiClient:
    """The gateway with its test users. ``written_notice`` False (most tests: they are
    about something else) stores the organisation's setting that lets a restriction be
    authorised before its decision letter is sent; the letters tests turn it on."""
    app = create_app(settings, clock=clock)
    client = await aiohttp_client(app)
    api = ApiClient(client=client, app=app, clock=clock)
    async with app[API].admin.writing("test", "creating test users") as tx:
        for name, role in USERS.items():
            _, api.tokens[name] = await create_user(tx, name, role)
    if not written_notice:
        await notice_not_required(app)
    return api


@asynccontextmanager
async def shared_api(database_url: str, folder: Path) -> AsyncIterator[ApiClient]:
    """``start_api`` with ``seed_people``, outside any one test: the gateway a module's
    refused-input tests share (one per engine, not one per test). Only tests that change
    nothing may use it; each still compares what it may not change before and after."""
    clients: list[TestClient] = []

    async def client_for(app: web.Application) -> TestClient:
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    settings = api_settings(database_url, folder / "mail", spool_dir=folder / "spool")
    try:
        gateway = await start_api(client_for, settings, FakeClock(START))
        await seed_people(gateway)
        yield gateway
    finally:
        for client in clients:
            await client.close()


@functools.cache
def _password_hash(password: str) -> str:
    return hash_password(password)


async def set_test_password(conn: AsyncConnection, name: str, password: str, now: datetime) -> None:
    """What ``set_password`` does (the user's password hash stored, their sessions
    ended), with the argon2 hash of ``password`` made once per test process rather than
    once per user and test: a hash takes a quarter of a second by design, and the UI
    tests gave three or four users the same password in each test (120 hashes, about 40
    s of the suite). Signing in still checks the password against a real argon2id hash
    with the gateway's own parameters; ``set_password`` itself is tested through
    ``users add --password``."""
    done = await conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(password_hash=_password_hash(password), updated_at=now)
    )
    await end_user_sessions(conn, name)
    assert done.rowcount == 1, f"no user {name}"


async def notice_not_required(app: web.Application) -> None:
    """Store ``written_notice_required: false`` directly (no audit entry, no new policy
    version), so tests that count those see only their own."""
    async with write_transaction(app[API].admin.store.engine, "test setting") as conn:
        await conn.execute(
            insert(org_settings).values(
                key="written_notice_required", value=False, updated_at=START, updated_by="test"
            )
        )


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


def _nested(depth: int) -> bytes:
    return b'{"text": ' + b"[" * depth + b"]" * depth + b"}"


# JSON bodies no route may answer with a 500: what each is, the raw bytes, and words the
# 400 answer must contain. Shared by the input tests and the OpenAPI fuzzing.
HOSTILE_JSON: dict[str, tuple[bytes, str]] = {
    "arrays-1000": (b"[" * 1000 + b"]" * 1000, "nests arrays and objects more than 32 deep"),
    "objects-1000": (
        b'{"a": ' * 1000 + b"1" + b"}" * 1000,
        "nests arrays and objects more than 32 deep",
    ),
    "arrays-30000": (_nested(30_000), "more than 32 deep (at character 41)"),
    "int-5000": (b'{"limit": ' + b"9" * 5000 + b"}", "5000 characters long"),
    "negative-int": (b'{"n": -' + b"1" * 4301 + b"}", "4302 characters long"),
    "float-long": (b'{"n": 1' + b"0" * 400 + b".5}", "403 characters long"),
    "float-exponent": (b'{"n": 1e400}', "1e400 is too large"),
    "float-negative": (b'{"n": -1.5E+999999}', "-1.5E+999999 is too large"),
    "nan": (b'{"n": NaN}', "NaN is not a JSON number"),
    "infinity": (b'{"n": -Infinity}', "-Infinity is not a JSON number"),
    "truncated-utf8": (b'{"name": "caf\xc3"}', "not UTF-8 text (byte 13)"),
    "utf8-surrogate": (b'{"name": "\xed\xa0\x80"}', "not UTF-8 text (byte 10)"),
    "lone-high": (b'{"name": "x\\ud800y"}', "body.name: a lone surrogate"),
    "lone-low": (b'{"a": [{"b": "\\udfff"}]}', "body.a[0].b: a lone surrogate"),
    "surrogate-key": (b'{"\\udc00": 1}', "a key of body: a lone surrogate"),
    "nul": (b'{"name": "a\\u0000b"}', "body.name: a NUL character"),
    # A surrogate pair is one character (U+1F600), not a fault: the NUL after it is.
    "pair-ok": (b'{"x": "\\u0000", "name": "\\ud83d\\ude00"}', "body.x: a NUL"),
    "dup-key": (b'{"id": "C-1", "id": "C-2"}', "'id' appears twice in body"),
    "dup-nested": (b'{"a": {"x": 1, "x": 1}}', "'x' appears twice in body.a"),
    "unterminated": (
        b'{"text": "' + b'\\"' * 20_000,
        "Unterminated string starting at line 1 column 10",
    ),
}
