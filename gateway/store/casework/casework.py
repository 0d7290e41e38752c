"""Warning flags, reasonable adjustments, assignments and organisation settings.

A flag's reason is sensitive: it is never put into a listing or the audit log (the
audit keeps its SHA-256, so a changed reason is still detectable), and reading it is
itself audited by the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import (
    customer_adjustments,
    customer_assignments,
    customer_flags,
    org_settings,
)
from gateway.store.casework.admin import Conflict, Tx
from gateway.store.errors import NotFound

_PUBLIC_FLAG = [c for c in customer_flags.c if c.name != "reason"]


def _flag(row: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(row)
    out["active"] = out["removed_at"] is None
    return out


async def list_flags(
    conn: AsyncConnection, customer_id: str, *, include_removed: bool = False
) -> list[dict[str, Any]]:
    """A customer's flags without their reasons."""
    query = (
        select(*_PUBLIC_FLAG)
        .where(customer_flags.c.customer_id == customer_id)
        .order_by(customer_flags.c.id)
    )
    if not include_removed:
        query = query.where(customer_flags.c.removed_at.is_(None))
    return [_flag(row) for row in (await conn.execute(query)).mappings()]


async def get_flag(conn: AsyncConnection, flag_id: int) -> dict[str, Any]:
    """A flag without its reason."""
    query = select(*_PUBLIC_FLAG).where(customer_flags.c.id == flag_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"there is no flag {flag_id}")
    return _flag(row)


def _reason_digest(reason: str) -> str:
    return hashlib.sha256(reason.encode("utf-8")).hexdigest()


async def add_flag(
    tx: Tx, customer_id: str, level: str, category: str, reason: str
) -> dict[str, Any]:
    result = await tx.conn.execute(
        insert(customer_flags).values(
            customer_id=customer_id,
            level=level,
            category=category,
            reason=reason,
            created_by=tx.actor,
            created_at=tx.now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    flag = await get_flag(tx.conn, int(key[0]))
    tx.policy_changed = True  # staff are shown flags (gateway.decisions.staff_notes)
    tx.record(
        "created", "flag", str(flag["id"]), None, {**flag, "reason_sha256": _reason_digest(reason)}
    )
    return flag


async def read_flag_reason(tx: Tx, flag_id: int) -> dict[str, Any]:
    """The flag with its reason; the read is audited in the same transaction."""
    flag = await get_flag(tx.conn, flag_id)
    query = select(customer_flags.c.reason).where(customer_flags.c.id == flag_id)
    reason = str((await tx.conn.execute(query)).scalar_one())
    tx.record("read_reason", "flag", str(flag_id), None, {"customer_id": flag["customer_id"]})
    return {**flag, "reason": reason}


async def remove_flag(tx: Tx, flag_id: int, reason: str) -> dict[str, Any]:
    before = await get_flag(tx.conn, flag_id)
    if before["removed_at"] is not None:
        raise Conflict(f"flag {flag_id} was already removed by {before['removed_by']}")
    await tx.conn.execute(
        update(customer_flags)
        .where(customer_flags.c.id == flag_id)
        .values(removed_by=tx.actor, removed_at=tx.now, removal_reason=reason)
    )
    after = await get_flag(tx.conn, flag_id)
    tx.policy_changed = True
    tx.record("removed", "flag", str(flag_id), before, after)
    return after


def _adjustment(row: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(row)
    out["active"] = out["removed_at"] is None
    return out


async def list_adjustments(
    conn: AsyncConnection, customer_id: str, *, include_removed: bool = False
) -> list[dict[str, Any]]:
    query = (
        select(customer_adjustments)
        .where(customer_adjustments.c.customer_id == customer_id)
        .order_by(customer_adjustments.c.id)
    )
    if not include_removed:
        query = query.where(customer_adjustments.c.removed_at.is_(None))
    return [_adjustment(row) for row in (await conn.execute(query)).mappings()]


async def get_adjustment(conn: AsyncConnection, adjustment_id: int) -> dict[str, Any]:
    query = select(customer_adjustments).where(customer_adjustments.c.id == adjustment_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"there is no adjustment {adjustment_id}")
    return _adjustment(row)


async def add_adjustment(tx: Tx, customer_id: str, need: str, description: str) -> dict[str, Any]:
    result = await tx.conn.execute(
        insert(customer_adjustments).values(
            customer_id=customer_id,
            need=need,
            description=description,
            recorded_by=tx.actor,
            recorded_at=tx.now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    adjustment = await get_adjustment(tx.conn, int(key[0]))
    tx.record("created", "adjustment", str(adjustment["id"]), None, adjustment)
    return adjustment


async def remove_adjustment(tx: Tx, adjustment_id: int) -> dict[str, Any]:
    before = await get_adjustment(tx.conn, adjustment_id)
    if before["removed_at"] is not None:
        raise Conflict(f"adjustment {adjustment_id} was already removed")
    await tx.conn.execute(
        update(customer_adjustments)
        .where(customer_adjustments.c.id == adjustment_id)
        .values(removed_by=tx.actor, removed_at=tx.now)
    )
    after = await get_adjustment(tx.conn, adjustment_id)
    tx.record("removed", "adjustment", str(adjustment_id), before, after)
    return after


async def list_assignments(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    query = (
        select(customer_assignments)
        .where(customer_assignments.c.customer_id == customer_id)
        .order_by(customer_assignments.c.user_name)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def is_assigned(conn: AsyncConnection, customer_id: str, user_name: str) -> bool:
    query = select(customer_assignments.c.user_name).where(
        customer_assignments.c.customer_id == customer_id,
        customer_assignments.c.user_name == user_name,
    )
    return (await conn.execute(query)).first() is not None


async def assign(tx: Tx, customer_id: str, user_name: str) -> dict[str, Any]:
    if not await is_assigned(tx.conn, customer_id, user_name):
        await tx.conn.execute(
            insert(customer_assignments).values(
                customer_id=customer_id,
                user_name=user_name,
                assigned_by=tx.actor,
                assigned_at=tx.now,
            )
        )
        tx.record("assigned", "customer", customer_id, None, {"user": user_name})
    rows = [a for a in await list_assignments(tx.conn, customer_id) if a["user_name"] == user_name]
    return rows[0]


async def unassign(tx: Tx, customer_id: str, user_name: str) -> None:
    if not await is_assigned(tx.conn, customer_id, user_name):
        raise NotFound(f"'{user_name}' is not assigned to customer '{customer_id}'")
    await tx.conn.execute(
        delete(customer_assignments).where(
            customer_assignments.c.customer_id == customer_id,
            customer_assignments.c.user_name == user_name,
        )
    )
    tx.record("unassigned", "customer", customer_id, {"user": user_name}, None)


async def read_settings(conn: AsyncConnection) -> dict[str, Any]:
    rows = (await conn.execute(select(org_settings.c.key, org_settings.c.value))).all()
    return {str(key): value for key, value in rows}


async def write_settings(tx: Tx, values: dict[str, Any]) -> dict[str, Any]:
    """Store changed settings (they may change decisions, so the policy version moves)."""
    before = await read_settings(tx.conn)
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    for key, value in changed.items():
        await tx.conn.execute(delete(org_settings).where(org_settings.c.key == key))
        await tx.conn.execute(
            insert(org_settings).values(
                key=key, value=value, updated_at=tx.now, updated_by=tx.actor
            )
        )
    if changed:
        tx.policy_changed = True
        tx.record(
            "updated", "settings", "organisation", {k: before.get(k) for k in changed}, changed
        )
    return await read_settings(tx.conn)
