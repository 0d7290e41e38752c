"""API users: a name, a role and a bearer token of which only the SHA-256 is kept.

Tokens are 256 random bits, so a plain SHA-256 is the right hash (a slow password hash
protects guessable secrets; this one cannot be guessed). The token is shown once, when
created or rotated. There is no default account and no default password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import users
from gateway.store.casework.admin import Conflict, Tx
from gateway.store.errors import NotFound
from rules.roles import Role

TOKEN_PREFIX = "cgw_"  # noqa: S105 - a marker for secret scanners, not a secret
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class User:
    """A user as the API sees them (never the token or its hash)."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    token_rotated_at: datetime | None
    # The person's own name, as documents show them, and where their digest goes.
    full_name: str | None = None
    email: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "full_name": self.full_name,
            "email": self.email,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "token_rotated_at": self.token_rotated_at,
        }


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"'{name}' is not a usable user name: use 1 to 64 letters, digits, '.', '_', "
            "'@' or '-', starting with a letter or digit"
        )
    return name


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        id=int(row["id"]),
        name=str(row["name"]),
        role=Role(row["role"]),
        disabled=bool(row["disabled"]),
        created_at=row["created_at"],
        token_rotated_at=row["token_rotated_at"],
        full_name=row["full_name"],
        email=row["email"],
    )


async def get_user(conn: AsyncConnection, name: str) -> User:
    row = (await conn.execute(select(users).where(users.c.name == name))).mappings().first()
    if row is None:
        raise NotFound(f"there is no user '{name}'")
    return _user(row)


async def list_users(conn: AsyncConnection, *, limit: int, offset: int) -> list[User]:
    query = select(users).order_by(users.c.name).limit(limit).offset(offset)
    return [_user(row) for row in (await conn.execute(query)).mappings()]


async def user_for_token(conn: AsyncConnection, token: str) -> User | None:
    """The enabled user holding ``token``, or None.

    Looked up by hash, then compared in constant time, so neither the lookup nor the
    comparison tells an attacker how much of a guess was right.
    """
    digest = hash_token(token)
    row = (await conn.execute(select(users).where(users.c.token_hash == digest))).mappings().first()
    if row is None or not hmac.compare_digest(str(row["token_hash"]), digest):
        return None
    user = _user(row)
    return None if user.disabled else user


async def create_user(
    tx: Tx, name: str, role: Role, *, full_name: str | None = None, email: str | None = None
) -> tuple[User, str]:
    """Create a user and return them with their token (to be shown once)."""
    check_name(name)
    existing = (await tx.conn.execute(select(users.c.id).where(users.c.name == name))).first()
    if existing is not None:
        raise Conflict(f"there is already a user '{name}'")
    token = new_token()
    await tx.conn.execute(
        insert(users).values(
            name=name,
            role=role.value,
            full_name=full_name,
            email=email,
            token_hash=hash_token(token),
            disabled=False,
            created_at=tx.now,
            token_rotated_at=tx.now,
            updated_at=tx.now,
        )
    )
    user = await get_user(tx.conn, name)
    tx.record(
        "created",
        "user",
        name,
        None,
        {"role": role.value, "disabled": False, "full_name": full_name, "email": email},
    )
    return user, token


# Fields of a user that ``change_user`` sets to a new value or clears (``UNSET``: keep).
UNSET: Any = object()


async def change_user(
    tx: Tx,
    name: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    full_name: str | None = UNSET,
    email: str | None = UNSET,
) -> User:
    before = await get_user(tx.conn, name)
    values: dict[str, Any] = {}
    if role is not None and role is not before.role:
        values["role"] = role.value
    if disabled is not None and disabled != before.disabled:
        values["disabled"] = disabled
    if full_name is not UNSET and full_name != before.full_name:
        values["full_name"] = full_name
    if email is not UNSET and email != before.email:
        values["email"] = email
    if not values:
        return before
    await tx.conn.execute(
        update(users).where(users.c.name == name).values(**values, updated_at=tx.now)
    )
    after = await get_user(tx.conn, name)
    tx.record(
        "disabled" if values.get("disabled") else "updated",
        "user",
        name,
        _audited(before),
        _audited(after),
    )
    return after


def _audited(user: User) -> dict[str, Any]:
    return {
        "role": user.role.value,
        "disabled": user.disabled,
        "full_name": user.full_name,
        "email": user.email,
    }


async def people_by_name(conn: AsyncConnection) -> dict[str, User]:
    """Every user by login name: documents name the person and their role, not a login."""
    found = [_user(row) for row in (await conn.execute(select(users))).mappings()]
    return {user.name: user for user in found}


async def rotate_token(tx: Tx, name: str) -> tuple[User, str]:
    """Replace a user's token: the old one stops working in the same commit."""
    await get_user(tx.conn, name)
    token = new_token()
    await tx.conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(token_hash=hash_token(token), token_rotated_at=tx.now, updated_at=tx.now)
    )
    tx.record("token_rotated", "user", name)
    return await get_user(tx.conn, name), token


async def enabled_admins(conn: AsyncConnection) -> list[str]:
    """Names of the enabled admins (the last of them may not be disabled or demoted)."""
    query = select(users.c.name).where(
        users.c.role == Role.ADMIN.value, users.c.disabled.is_(False)
    )
    return [str(name) for name in (await conn.execute(query)).scalars()]
