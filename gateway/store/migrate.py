"""Run the Alembic migrations from async code, with no alembic.ini on disk.

Follows Alembic's cookbook recipe "Programmatic API use (connection sharing) with
asyncio": the store opens a connection, and Alembic runs on it via ``run_sync``, so the
upgrade and everything the store does next share one engine and one event loop.

Two processes starting together on one PostgreSQL would both try to create the tables;
an advisory lock held for the upgrade's transaction makes the second wait and then find
nothing to do. On SQLite the upgrade's ``BEGIN IMMEDIATE`` does the same job.

A database already at ``HEAD`` is opened without loading Alembic at all: the revision is
read with one query, and Alembic (about 11 MB of a running gateway's memory) is imported
only when there is something to upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.engine import open_engine, translate_errors, write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

# Any fixed 64-bit number; it only has to be the same in every process.
MIGRATION_LOCK_KEY = 0x636F6E7461637467  # "contactg"
# The newest revision in gateway/migrations/versions (a test checks it is Alembic's head).
HEAD = "0013"


def migrations_dir() -> Path:
    """The Alembic script directory, shipped inside the ``gateway`` package.

    Found beside this module rather than through ``importlib.resources`` because Alembic
    needs a real directory, and the installed package is always unpacked on disk.
    """
    return Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config built in memory: the package's scripts, no ini file."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    """The newest revision this build knows."""
    return HEAD


def _upgrade(connection: Connection, cfg: Config) -> None:
    from alembic import command

    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _current(connection: Connection) -> str | None:
    """The revision in Alembic's own table (what its MigrationContext reads)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def upgrade_engine(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    async with translate_errors("migrating the database"), engine.connect() as conn:
        if await conn.run_sync(_current) == HEAD:
            return
    async with write_transaction(engine, "migrating the database") as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await conn.run_sync(_upgrade, alembic_config())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    async with translate_errors("reading the schema revision"), engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(url: str) -> str:
    """Upgrade the database at ``url`` to the newest schema and return its revision.

    For ``contact-gateway db upgrade``; ``Store.open(url, migrate=True)`` does the same.
    """
    engine = await open_engine(url)
    try:
        await upgrade_engine(engine)
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    return revision or ""
