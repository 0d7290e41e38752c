"""Migrations: run from async code, idempotent, race-safe, and matching the schema."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from gateway.store import Store, upgrade
from gateway.store.engine import create_engine
from gateway.store.migrate import alembic_config, head_revision, migrations_dir
from gateway.store.schema import evidence_head, metadata, policy_meta
from tests.gateway.store_factory import make_entry

# Derived, so a new migration needs no edit here; the schema-comparison test below is
# what proves a migration matches gateway/store/schema.py.
HEAD = head_revision()
EXPECTED_TABLES = {"alembic_version", *metadata.tables}


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """Migrations start from a database with nothing in it, not the suite's migrated copy."""
    return empty_database_url


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


async def scalar(url: str, query: str) -> object:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(query))).scalar_one()
    finally:
        await engine.dispose()


def test_the_head_this_build_names_is_alembics() -> None:
    """HEAD lets a migrated database open without loading Alembic; a new migration must
    move it, or a database would be taken as current one revision short."""
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_a_current_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    assert asyncio.run(upgrade(url)) == HEAD
    code = (
        "import asyncio, sys\n"
        "from gateway.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({url!r}, migrate=True)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_scripts_ship_inside_the_package() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert (migrations_dir() / "script.py.mako").is_file()
    assert head_revision() >= "0002"
    assert {"evidence", "audit_log", "held_contact", "notices_sent"} <= set(metadata.tables)


async def test_upgrade_creates_the_tables_and_seeds_the_heads(database_url: str) -> None:
    assert await tables(database_url) == set()
    assert await upgrade(database_url) == HEAD
    assert await tables(database_url) == EXPECTED_TABLES
    assert await scalar(database_url, "SELECT seq FROM evidence_head") == 0
    assert await scalar(database_url, "SELECT hash FROM audit_head") == "0" * 64
    assert await scalar(database_url, "SELECT policy_version FROM policy_meta") == 0
    if database_url.startswith("sqlite"):
        assert await scalar(database_url, "PRAGMA journal_mode") == "wal"


async def test_upgrading_twice_is_a_no_op(database_url: str) -> None:
    await upgrade(database_url)
    async with await Store.open(database_url) as store:
        await store.record_contact(make_entry(1))
    assert await upgrade(database_url) == HEAD
    assert await scalar(database_url, "SELECT count(*) FROM alembic_version") == 1
    assert await scalar(database_url, "SELECT count(*) FROM evidence_head") == 1
    assert await scalar(database_url, "SELECT count(*) FROM evidence") == 1
    async with await Store.open(database_url) as store:
        assert (await store.verify_evidence()).ok


async def test_processes_starting_together_migrate_once(database_url: str) -> None:
    results = await asyncio.gather(*(upgrade(database_url) for _ in range(4)))
    assert results == [HEAD] * 4
    assert await scalar(database_url, "SELECT count(*) FROM policy_meta") == 1


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_schema_the_code_uses(database_url: str) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_schema_differences)
    finally:
        await engine.dispose()
    assert differences == []


def _downgrade_then_upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


async def test_downgrade_and_upgrade_again(database_url: str) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_then_upgrade)
        async with engine.connect() as conn:
            seq = (await conn.execute(select(evidence_head.c.seq))).scalar_one()
            rows = (await conn.execute(select(func.count()).select_from(policy_meta))).scalar_one()
    finally:
        await engine.dispose()
    assert (seq, rows) == (0, 1)


@pytest.mark.postgres
async def test_postgres_upgrade_takes_an_advisory_lock(postgres_url: str) -> None:
    """While another session holds the lock, the upgrade waits rather than racing."""
    from gateway.store.migrate import MIGRATION_LOCK_KEY

    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            waiting = asyncio.create_task(upgrade(postgres_url))
            blocked = text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            for _ in range(1500):  # bounded: at most 30 s
                if (await holder.execute(blocked)).scalar_one():
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail("the upgrade never waited for the advisory lock")
            assert not waiting.done()
            assert await tables(postgres_url) == set()
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            await holder.commit()
            async with asyncio.timeout(30):
                assert await waiting == HEAD
    finally:
        await engine.dispose()


_COMPRESSION = text(
    "SELECT attcompression::text FROM pg_attribute "
    "WHERE attrelid = 'contents'::regclass AND attname = 'data'"
)


@pytest.mark.postgres
async def test_postgres_compresses_stored_content_with_lz4(postgres_url: str) -> None:
    """lz4 where the server has it (14 and later, built with lz4, as here); the
    downgrade puts the server's default back."""
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(_COMPRESSION)).scalar_one() == "l"
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: _to_revision(c, "0006"))
        async with engine.connect() as conn:
            assert (await conn.execute(_COMPRESSION)).scalar_one() == ""
    finally:
        await engine.dispose()


def _to_revision(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)
