"""Web UI sign-in: passwords (argon2), server-side sessions and login attempts.

Sessions are random 256-bit ids of which only the SHA-256 is stored, so a copy of the
database cannot be used to sign in. Failed logins are stored (not kept in memory) so the
rate limit holds across processes and restarts. Migration ``0005``.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Index, Integer, String, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import users
from gateway.store.schema import HASH, metadata
from gateway.store.types import UtcDateTime

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("id_hash", HASH, primary_key=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

ui_login_attempts = Table(
    "ui_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_ui_login_attempts_key_at", "key", "at"),
)

MIN_PASSWORD = 12
# A hash to verify against when the user does not exist, so timing does not say so.
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Made on first use, not at import: every process importing the store paid ~0.15 s."""
    return _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: who, its CSRF token, and when it stops."""

    user_name: str
    csrf_token: str
    expires_at: datetime


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, refusing ones too short to be worth hashing."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


async def set_password(conn: AsyncConnection, name: str, password: str, now: datetime) -> bool:
    """Set a user's password; False when there is no such user."""
    result = await conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(password_hash=hash_password(password), updated_at=now)
    )
    await end_user_sessions(conn, name)
    return bool(result.rowcount)


async def check_password(conn: AsyncConnection, name: str, password: str) -> str | None:
    """The enabled user's name when ``password`` is theirs, else None (same cost either way)."""
    row = (
        (
            await conn.execute(
                select(users.c.name, users.c.password_hash, users.c.disabled).where(
                    users.c.name == name
                )
            )
        )
        .mappings()
        .first()
    )
    stored = None if row is None else row["password_hash"]
    ok: bool
    try:
        ok = _HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or stored is None or row["disabled"]:
        return None
    return str(row["name"])


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


async def start_session(
    conn: AsyncConnection, name: str, now: datetime, lifetime: timedelta
) -> tuple[str, Session]:
    """A new session (a fresh id every login: an id planted before login is never used)."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    await conn.execute(
        insert(ui_sessions).values(
            id_hash=_digest(session_id),
            user_name=name,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id, Session(name, csrf, now + lifetime)


async def find_session(
    conn: AsyncConnection, session_id: str, now: datetime, idle: timedelta
) -> Session | None:
    """The live session for ``session_id``: not expired, not idle too long, user enabled."""
    query = (
        select(ui_sessions, users.c.disabled)
        .join(users, users.c.name == ui_sessions.c.user_name)
        .where(ui_sessions.c.id_hash == _digest(session_id))
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None or row["disabled"]:
        return None
    if now >= row["expires_at"] or now - row["last_seen_at"] >= idle:
        return None
    return Session(str(row["user_name"]), str(row["csrf_token"]), row["expires_at"])


async def touch_session(conn: AsyncConnection, session_id: str, now: datetime) -> None:
    await conn.execute(
        update(ui_sessions)
        .where(ui_sessions.c.id_hash == _digest(session_id))
        .values(last_seen_at=now)
    )


async def end_session(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.id_hash == _digest(session_id)))


async def end_user_sessions(conn: AsyncConnection, name: str) -> None:
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.user_name == name))


async def failures_since(conn: AsyncConnection, key: str, since: datetime) -> int:
    query = select(func.count()).where(
        ui_login_attempts.c.key == key, ui_login_attempts.c.at >= since
    )
    return int((await conn.execute(query)).scalar_one())


async def record_failure(conn: AsyncConnection, keys: list[str], now: datetime) -> None:
    await conn.execute(insert(ui_login_attempts), [{"key": key, "at": now} for key in keys])


async def forget_old(conn: AsyncConnection, before: datetime) -> None:
    """Drop expired sessions and attempts older than any window that counts them."""
    await conn.execute(delete(ui_login_attempts).where(ui_login_attempts.c.at < before))
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at < before))
