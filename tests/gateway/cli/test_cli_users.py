"""``contact-gateway users ...`` as an administrator runs it, and the token it prints."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import text

from gateway.app import create_app
from gateway.store import Store
from tests.conftest import sqlite_url
from tests.gateway.api_support import START, api_settings
from tests.gateway.cli.test_cli import run
from tests.gateway.decisions.test_service import FakeClock

TOKEN = re.compile(r"^token: (cgw_\S+)$", re.MULTILINE)


async def test_first_admin_from_the_command_line(aiohttp_client: Any, tmp_path: Path) -> None:
    # SQLite only: each command is a process start-up (about a second); the store code
    # under it runs on both engines in the API tests.
    database_url = sqlite_url(tmp_path)
    listed = run(database_url, "users", "list")
    assert listed.returncode == 0 and "no users yet" in listed.stdout  # no default account
    added = run(database_url, "users", "add", "root", "--role", "admin")
    assert added.returncode == 0, added.stderr
    match = TOKEN.search(added.stdout)
    assert match is not None and "shown only now" in added.stdout
    token = match.group(1)
    again = run(database_url, "users", "add", "root", "--role", "viewer")
    assert again.returncode == 1 and "already a user 'root'" in again.stderr
    bad = run(database_url, "users", "add", "x", "--role", "god")
    assert bad.returncode == 2

    # The gateway runs on this event loop, so the command runs in a thread beside it.
    client = await aiohttp_client(
        create_app(api_settings(database_url, tmp_path / "mail"), clock=FakeClock(START))
    )
    headers = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status == 200 and (await me.json())["role"] == "admin"

    rotated = await asyncio.to_thread(run, database_url, "users", "rotate", "root")
    assert rotated.returncode == 0
    new_match = TOKEN.search(rotated.stdout)
    assert new_match is not None and new_match.group(1) != token
    assert (await client.get("/api/v1/me", headers=headers)).status == 401
    new_headers = {"Authorization": f"Bearer {new_match.group(1)}"}
    assert (await client.get("/api/v1/me", headers=new_headers)).status == 200

    assert (await asyncio.to_thread(run, database_url, "users", "disable", "root")).returncode == 0
    assert (await client.get("/api/v1/me", headers=new_headers)).status == 401
    listed = await asyncio.to_thread(run, database_url, "users", "list")
    assert re.search(r"^root\tadmin\tdisabled\t", listed.stdout, re.MULTILINE)
    assert token not in listed.stdout
    assert (await asyncio.to_thread(run, database_url, "users", "enable", "root")).returncode == 0
    missing = await asyncio.to_thread(run, database_url, "users", "disable", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr


def _password_hash(database_url: str, name: str) -> str | None:
    async def read() -> str | None:
        store = await Store.open(database_url)
        try:
            async with store.engine.connect() as conn:
                row = await conn.execute(
                    text("SELECT password_hash FROM users WHERE name = :n"), {"n": name}
                )
                return row.scalar()
        finally:
            await store.close()

    return asyncio.run(read())


def test_users_add_can_set_a_web_password(tmp_path: Path) -> None:
    database_url = sqlite_url(tmp_path)
    typo = run(
        database_url,
        "users",
        "add",
        "amy",
        "--role",
        "officer",
        "--password",
        stdin="first try\nsecond try\n",
    )
    assert typo.returncode == 1 and "the two passwords differ" in typo.stderr
    assert "amy" not in run(database_url, "users", "list").stdout  # nothing was created
    made = run(
        database_url,
        "users",
        "add",
        "amy",
        "--role",
        "officer",
        "--password",
        stdin="long enough pass phrase\nlong enough pass phrase\n",
    )
    assert made.returncode == 0, made.stderr
    stored = _password_hash(database_url, "amy")
    assert stored is not None and stored.startswith("$argon2")
    assert PasswordHasher().verify(stored, "long enough pass phrase")
