"""Officers and customers one at a time, for the API: read, create, change.

Writes go through the import's own upsert (``policy.upsert_policy``) with a one-item
policy, so an edit through the API and an edit by file produce the same history, audit
entries and policy version; only the cross-references a one-item policy cannot check
(the deputy, another customer's address) are checked here, inside the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.casework.admin import Conflict, Invalid, Tx, check_version
from gateway.store.errors import NotFound, PolicyConflict
from gateway.store.held import HeldContact, HeldStatus
from gateway.store.policy import upsert_policy
from gateway.store.policy_read import customer_dumps, officer_dump, rows_by_id
from gateway.store.schema import (
    customers,
    held_contact,
    identities,
    officers,
    representatives,
    restrictions,
)
from rules.models import Customer, Officer, Policy

RETIRED = ("retired_at", "retired_by")
# Restrictions a customer cannot be retired under (revoke them first).
LIVE = ("active", "suspended")


def _officer(row: dict[str, Any]) -> dict[str, Any]:
    """An officer as the API shows it: the policy fields and when (if) retired."""
    return {**officer_dump(row), **{name: row[name] for name in RETIRED}}


def policy_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The policy fields only (what ``Officer``/``Customer`` validate and the import diffs)."""
    return {k: v for k, v in record.items() if k not in RETIRED}


async def list_officers(
    conn: AsyncConnection, *, limit: int, offset: int, include_retired: bool = False
) -> list[dict[str, Any]]:
    query = select(officers).order_by(officers.c.id).limit(limit).offset(offset)
    if not include_retired:
        query = query.where(officers.c.retired_at.is_(None))
    return [_officer(dict(row)) for row in (await conn.execute(query)).mappings()]


async def get_officer(conn: AsyncConnection, officer_id: str) -> dict[str, Any]:
    row = (
        (await conn.execute(select(officers).where(officers.c.id == officer_id))).mappings().first()
    )
    if row is None:
        raise NotFound(f"there is no officer '{officer_id}'")
    return _officer(dict(row))


async def officer_exists(conn: AsyncConnection, officer_id: str) -> bool:
    query = select(officers.c.id).where(officers.c.id == officer_id)
    return (await conn.execute(query)).first() is not None


async def save_officer(
    tx: Tx, officer: Officer, *, create: bool, if_match: str | None = None
) -> dict[str, Any]:
    """Create (``create``) or replace an officer; the deputy must be a known officer."""
    exists = await officer_exists(tx.conn, officer.id)
    if create and exists:
        raise Conflict(f"there is already an officer '{officer.id}'")
    if not create:
        check_version(if_match, await get_officer(tx.conn, officer.id), f"officer {officer.id}")
    if officer.deputy is not None:
        if not await officer_exists(tx.conn, officer.deputy):
            raise Invalid(f"'{officer.deputy}' is not a known officer id", "deputy")
        current = await get_officer(tx.conn, officer.id) if exists else None
        unchanged = current is not None and current["deputy"] == officer.deputy
        if not unchanged and await officer_retired(tx.conn, officer.deputy):
            raise Invalid(f"officer '{officer.deputy}' is retired: choose another deputy", "deputy")
    await _upsert(tx, Policy.model_construct(officers=[officer], customers=[], restrictions=[]))
    return await get_officer(tx.conn, officer.id)


async def _upsert(tx: Tx, policy: Policy) -> None:
    try:
        _, items = await upsert_policy(tx.conn, policy, actor=tx.actor, now=tx.now)
    except PolicyConflict as exc:
        raise Conflict(str(exc)) from exc
    tx.audit.extend(items)


async def officer_retired(conn: AsyncConnection, officer_id: str) -> bool:
    query = select(officers.c.retired_at).where(officers.c.id == officer_id)
    return (await conn.execute(query)).scalar() is not None


async def customer_retired(conn: AsyncConnection, customer_id: str) -> bool:
    query = select(customers.c.retired_at).where(customers.c.id == customer_id)
    return (await conn.execute(query)).scalar() is not None


async def retire_officer(tx: Tx, officer_id: str, *, if_match: str | None = None) -> dict[str, Any]:
    """Mark an officer retired; the row (and every reference to it) stays."""
    before = await get_officer(tx.conn, officer_id)
    check_version(if_match, before, f"officer {officer_id}")
    if before["retired_at"] is not None:
        raise Conflict(f"officer '{officer_id}' was already retired by {before['retired_by']}")
    await tx.conn.execute(
        update(officers)
        .where(officers.c.id == officer_id)
        .values(retired_at=tx.now, retired_by=tx.actor)
    )
    after = await get_officer(tx.conn, officer_id)
    tx.record("retired", "officer", officer_id, before, after)
    return after


async def retire_customer(
    tx: Tx, customer_id: str, *, if_match: str | None = None
) -> dict[str, Any]:
    """Mark a customer retired, unless a restriction on them is still active or suspended."""
    before = await get_customer(tx.conn, customer_id)
    check_version(if_match, before, f"customer {customer_id}")
    if before["retired_at"] is not None:
        raise Conflict(f"customer '{customer_id}' was already retired by {before['retired_by']}")
    query = (
        select(restrictions.c.id, restrictions.c.status)
        .where(restrictions.c.customer_id == customer_id, restrictions.c.status.in_(LIVE))
        .order_by(restrictions.c.id)
    )
    live = [f"{row[0]} ({row[1]})" for row in (await tx.conn.execute(query)).all()]
    if live:
        raise Conflict(
            f"customer '{customer_id}' still has restrictions in force: {', '.join(live)}; "
            "revoke them before retiring the customer"
        )
    await tx.conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(retired_at=tx.now, retired_by=tx.actor)
    )
    after = await get_customer(tx.conn, customer_id)
    tx.record("retired", "customer", customer_id, before, after)
    return after


async def list_customers(
    conn: AsyncConnection,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
    include_retired: bool = False,
) -> list[dict[str, Any]]:
    query = select(customers).order_by(customers.c.id).limit(limit).offset(offset)
    if not include_retired:
        query = query.where(customers.c.retired_at.is_(None))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(customers.c.name).like(pattern), func.lower(customers.c.id).like(pattern)
            )
        )
    rows = [dict(row) for row in (await conn.execute(query)).mappings()]
    return await _dumps(conn, rows)


async def _dumps(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    dumps = customer_dumps(
        rows,
        await rows_by_id(conn, representatives, "customer_id", ids),
        await rows_by_id(conn, identities, "customer_id", ids),
    )
    by_id = {row["id"]: row for row in rows}
    return [{**dumps[i], **{name: by_id[i][name] for name in RETIRED}} for i in ids]


async def get_customer(conn: AsyncConnection, customer_id: str) -> dict[str, Any]:
    query = select(customers).where(customers.c.id == customer_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"there is no customer '{customer_id}'")
    return (await _dumps(conn, [dict(row)]))[0]


async def customer_exists(conn: AsyncConnection, customer_id: str) -> bool:
    query = select(customers.c.id).where(customers.c.id == customer_id)
    return (await conn.execute(query)).first() is not None


async def save_customer(
    tx: Tx, customer: Customer, *, create: bool, if_match: str | None = None
) -> dict[str, Any]:
    """Create or replace a customer with their identities and representatives."""
    exists = await customer_exists(tx.conn, customer.id)
    if create and exists:
        raise Conflict(f"there is already a customer '{customer.id}'")
    if not create:
        check_version(if_match, await get_customer(tx.conn, customer.id), f"customer {customer.id}")
    await _upsert(tx, Policy.model_construct(officers=[], customers=[customer], restrictions=[]))
    return await get_customer(tx.conn, customer.id)


async def find_identity(conn: AsyncConnection, value: str) -> list[dict[str, Any]]:
    """Who an address or number belongs to: a customer, or a customer's representative."""
    query = (
        select(identities.c.customer_id, identities.c.kind, representatives.c.name)
        .select_from(
            identities.outerjoin(
                representatives,
                (representatives.c.customer_id == identities.c.customer_id)
                & (representatives.c.position == identities.c.representative),
            )
        )
        .where(identities.c.value == value)
        .order_by(identities.c.customer_id)
    )
    return [
        {"customer": row[0], "kind": row[1], "representative": row[2]}
        for row in (await conn.execute(query)).all()
    ]


async def list_held(
    conn: AsyncConnection,
    *,
    filters: dict[str, str | None],
    limit: int,
    offset: int,
    overdue: tuple[bool, datetime] | None = None,
) -> list[HeldContact]:
    """Held contact, oldest first, filtered by any of its columns' values.

    ``overdue``: (True, held_before) keeps only the unread contacts held before that
    instant (gateway.held.age works it out); (False, held_before) keeps the rest."""
    query = select(held_contact).order_by(held_contact.c.id).limit(limit).offset(offset)
    for name, value in filters.items():
        if value is not None:
            query = query.where(held_contact.c[name] == value)
    if overdue is not None:
        wanted, held_before = overdue
        late = (held_contact.c.status == HeldStatus.HELD.value) & (
            held_contact.c.created_at < held_before
        )
        query = query.where(late if wanted else ~late)
    rows = (await conn.execute(query)).mappings()
    return [HeldContact(**{name: row[name] for name in HeldContact.__slots__}) for row in rows]
