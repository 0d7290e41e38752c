"""Transactions for the administration API: every change audited in the same commit.

An administrator's change and its audit entry are one transaction, so there is never a
change without its record, nor a record of a change that was rolled back. A refused
request raises before commit and leaves nothing half-written.

Admin writes are rare, so they are simply serialised: on PostgreSQL the policy row is
locked for update, on SQLite ``BEGIN IMMEDIATE`` holds the write lock. A version check
(``If-Match``) made inside the transaction therefore cannot race another edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain.links import canonical_json, format_instant
from gateway.store.audit import AuditItem, append_audit_items
from gateway.store.engine import read_transaction, write_transaction
from gateway.store.errors import StoreError
from gateway.store.policy import lock_policy
from gateway.store.schema import policy_meta
from gateway.store.store import Store


class Conflict(StoreError):
    """The change conflicts with the current state (a stale version, a duplicate id)."""


class Invalid(StoreError):
    """The input refers to something that makes it invalid; ``field`` names the input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: instants as ISO 8601 UTC, dates as YYYY-MM-DD."""

    def default(item: Any) -> Any:
        if isinstance(item, datetime):
            return format_instant(item)
        if isinstance(item, date):
            return item.isoformat()
        raise TypeError(f"{type(item).__name__} is not JSON data")

    return json.loads(json.dumps(value, default=default, allow_nan=False))


def etag(resource: Any) -> str:
    """A strong ETag for a resource's JSON form: any change to it changes the tag."""
    digest = hashlib.sha256(canonical_json({"r": plain(resource)}).encode()).hexdigest()
    return f'"{digest[:32]}"'


def check_version(if_match: str | None, resource: Any, what: str) -> None:
    """Refuse a change made against an older copy than the one stored (``If-Match``)."""
    if if_match is None or if_match.strip() == "*":
        return
    current = etag(resource)
    offered = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if current not in offered:
        raise Conflict(
            f"{what} has changed since you read it (its ETag is now {current}): "
            "read it again and re-apply your change"
        )


@dataclass
class Tx:
    """One admin transaction: the connection, its instant, who acts, and what to audit."""

    conn: AsyncConnection
    now: datetime
    actor: str
    audit: list[AuditItem] = field(default_factory=list)
    policy_changed: bool = False

    def record(
        self, action: str, entity: str, entity_id: str, before: Any = None, after: Any = None
    ) -> None:
        """Queue an audit entry (who and when come from the transaction)."""
        item = AuditItem(self.actor, action, entity, str(entity_id), plain(before), plain(after))
        self.audit.append(item)


class AdminStore:
    """The store as the administration API uses it: audited write transactions."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    @asynccontextmanager
    async def writing(self, actor: str, what: str) -> AsyncIterator[Tx]:
        """A serialised write transaction whose audit entries commit with it."""
        async with (
            self.store.audit_lock,
            write_transaction(self.store.engine, what) as conn,
        ):
            await lock_policy(conn)
            tx = Tx(conn=conn, now=self._clock(), actor=actor)
            yield tx
            if tx.policy_changed:
                await conn.execute(
                    update(policy_meta)
                    .where(policy_meta.c.id == 1)
                    .values(
                        policy_version=policy_meta.c.policy_version + 1,
                        updated_at=tx.now,
                        updated_by=actor,
                    )
                )
            await append_audit_items(conn, tx.audit, now=tx.now)

    @asynccontextmanager
    async def reading(self, what: str) -> AsyncIterator[AsyncConnection]:
        async with read_transaction(self.store.engine, what) as conn:
            yield conn
