"""The test databases on PostgreSQL are named for the process that made them, and a run
drops the ones a killed run left behind (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import HOST_TAG, database_name, drop_left_behind, postgres_base_url


def _finished_pid() -> int:
    """The id of a process that ran and is gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_database_name_says_which_process_made_it() -> None:
    name = database_name("template")
    assert name.startswith(f"cg_template_{HOST_TAG}_{os.getpid()}_")
    assert len(name) < 64  # PostgreSQL's limit on a name


@pytest.mark.postgres
async def test_only_what_finished_processes_left_is_dropped(postgres_url: str) -> None:
    """(``postgres_url`` only to fail or skip like every PostgreSQL test.)"""
    gone = _finished_pid()
    left = f"cg_template_{HOST_TAG}_{gone}_000000000000"
    left_test = f"cg_test_{HOST_TAG}_{gone}_000000000001"
    running = f"cg_template_{HOST_TAG}_{os.getpid()}_000000000002"
    elsewhere = f"cg_template_zzzzzz_{gone}_000000000003"  # another machine's
    made = (left, left_test, running, elsewhere)
    admin = create_async_engine(
        make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            for name in made:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                dropped = await drop_left_behind(conn)
                assert not {running, elsewhere} & set(dropped)
                found = await conn.execute(text("SELECT datname FROM pg_database"))
                still = set(found.scalars().all())
                assert left not in still and left_test not in still
                assert {running, elsewhere} <= still
            finally:
                for name in made:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
