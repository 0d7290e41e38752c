"""Shared database fixtures: every store test runs on SQLite and on PostgreSQL.

``database_url`` is a fresh, empty database per test: a file under ``tmp_path`` for
SQLite, and a new database ``cg_test_<hex>`` on the PostgreSQL at
``GATEWAY_TEST_POSTGRES_URL`` (default: the local test server), dropped afterwards.
Without PostgreSQL those tests skip with the reason, except under ``CI``, where a
missing database is a failure rather than a silently thinner run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.store import Store

POSTGRES_ENV = "GATEWAY_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5.0


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL


def _unavailable(reason: str) -> None:
    where = make_url(postgres_base_url()).render_as_string(hide_password=True)
    message = f"PostgreSQL at {where} is not usable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """Create an empty database for one test and drop it afterwards."""
    base = make_url(postgres_base_url())
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"cg_test_{secrets.token_hex(6)}"
    try:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S), admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # any failure to reach or use the server
            _unavailable(f"{type(exc).__name__}: {exc}")
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'gateway.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL on each engine the store supports."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database, for tests about PostgreSQL behaviour only."""
    async with fresh_postgres_database() as url:
        yield url


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """A migrated, open store on ``url``, closed on leaving."""
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated, open store on ``database_url``; closed after the test."""
    async with open_store(database_url) as opened:
        yield opened


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[Store]:
    """An open store on an empty PostgreSQL database (tests of PostgreSQL's own path)."""
    async with open_store(postgres_url) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _no_fixed_listener_ports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every app a test builds listens for SMTP on a free port and delivers and spools
    under ``tmp_path``, unless the test says otherwise: the defaults (2525, ./var/mail,
    ./var/spool) would collide between test runs sharing a machine and litter the
    checkout."""
    monkeypatch.setenv("GATEWAY_SMTP_PORT", "0")
    monkeypatch.setenv("GATEWAY_UPSTREAM", f"maildir:{tmp_path / 'mail'}")
    monkeypatch.setenv("GATEWAY_SPOOL_DIR", str(tmp_path / "spool"))
