"""The application factory and its health endpoints, over real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.app import SERVICE, create_app
from gateway.config.settings import Settings
from tests.conftest import postgres_base_url


async def test_health_and_readiness(aiohttp_client, database_url: str) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(database={"url": database_url}))
    client: TestClient = await aiohttp_client(app)
    health = await client.get("/healthz")
    assert health.status == 200 and await health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200 and await ready.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "upstream": "ok",
    }
    assert (await app[SERVICE].policy()).version == 0


async def test_readiness_fails_when_the_database_goes(aiohttp_client, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(database={"url": postgres_url}))
    client: TestClient = await aiohttp_client(app)
    assert (await client.get("/readyz")).status == 200
    name = make_url(postgres_url).database
    admin = create_async_engine(
        make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["status"] == "unavailable" and body["database"].startswith("unreachable")
    assert (await client.get("/healthz")).status == 200


async def test_sqlite_default_creates_its_directory(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path}/deep/er/gateway.db"
    client: TestClient = await aiohttp_client(create_app(Settings(database={"url": url})))
    assert (await client.get("/readyz")).status == 200
    assert (tmp_path / "deep" / "er" / "gateway.db").exists()
