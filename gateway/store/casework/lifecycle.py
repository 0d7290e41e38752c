"""Restrictions through their lifecycle: each change a new version, a history row, a
transition saying who, when and why, an audit entry and a new policy version, in the
caller's transaction (so the channels see it on their very next contact).

Proposals, appeals and reviews are facts about a restriction, kept in their own tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import (
    appeals,
    restriction_proposals,
    restriction_transitions,
    reviews,
)
from gateway.store.casework.admin import Conflict, Tx
from gateway.store.errors import NotFound
from gateway.store.schema import restriction_history, restrictions
from rules.models import Restriction, Status

LIVE = (Status.ACTIVE.value, Status.SUSPENDED.value)


def _restriction(row: Mapping[Any, Any]) -> tuple[Restriction, int]:
    return Restriction.model_validate(row["data"]), int(row["version"])


async def get_restriction(conn: AsyncConnection, restriction_id: str) -> tuple[Restriction, int]:
    """A restriction and its version number."""
    query = select(restrictions).where(restrictions.c.id == restriction_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"there is no restriction '{restriction_id}'")
    return _restriction(row)


async def list_restrictions(
    conn: AsyncConnection,
    *,
    customer: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[tuple[Restriction, int]]:
    query = select(restrictions).order_by(restrictions.c.id).limit(limit).offset(offset)
    if customer is not None:
        query = query.where(restrictions.c.customer_id == customer)
    if status is not None:
        query = query.where(restrictions.c.status == status)
    return [_restriction(row) for row in (await conn.execute(query)).mappings()]


async def live_with_review_by(
    conn: AsyncConnection, day: date, *, limit: int = 1000, offset: int = 0
) -> list[tuple[Restriction, int]]:
    """Active or suspended restrictions whose review date is on or before ``day``."""
    query = (
        select(restrictions)
        .where(
            restrictions.c.status.in_(LIVE),
            restrictions.c.review_on.is_not(None),
            restrictions.c.review_on <= day,
        )
        .order_by(restrictions.c.review_on, restrictions.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_restriction(row) for row in (await conn.execute(query)).mappings()]


async def save_restriction(
    tx: Tx,
    new: Restriction,
    *,
    action: str,
    reason: str,
    before: Restriction | None,
    version: int,
    details: dict[str, Any] | None = None,
) -> int:
    """Write ``new`` as the next version after ``version`` (0: a new restriction).

    The update is conditional on the version read, so a change that raced another is
    refused rather than silently overwriting it.
    """
    data = new.model_dump(mode="json")
    row = {
        "customer_id": new.customer,
        "status": new.status.value,
        "starts": new.starts,
        "ends": new.ends,
        "review_on": new.review_on,
        "data": data,
        "version": version + 1,
        "updated_at": tx.now,
    }
    if before is None:
        await tx.conn.execute(insert(restrictions).values(id=new.id, **row))
    else:
        result = await tx.conn.execute(
            update(restrictions)
            .where(restrictions.c.id == new.id, restrictions.c.version == version)
            .values(**row)
        )
        if result.rowcount != 1:  # only if a write bypassed the admin write lock
            raise Conflict(f"restriction {new.id} was changed by someone else meanwhile")
    await tx.conn.execute(
        insert(restriction_history).values(
            restriction_id=new.id,
            version=version + 1,
            action=action,
            actor=tx.actor,
            at=tx.now,
            data=data,
        )
    )
    await tx.conn.execute(
        insert(restriction_transitions).values(
            restriction_id=new.id,
            version=version + 1,
            action=action,
            from_status=None if before is None else before.status.value,
            to_status=new.status.value,
            actor=tx.actor,
            at=tx.now,
            reason=reason,
            details=details or {},
        )
    )
    tx.policy_changed = True
    tx.record(
        action,
        "restriction",
        new.id,
        None if before is None else before.model_dump(mode="json"),
        {**data, "why": reason, **({"details": details} if details else {})},
    )
    return version + 1


async def list_transitions(conn: AsyncConnection, restriction_id: str) -> list[dict[str, Any]]:
    query = (
        select(restriction_transitions)
        .where(restriction_transitions.c.restriction_id == restriction_id)
        .order_by(restriction_transitions.c.id)
    )
    return [
        {k: v for k, v in row.items() if k not in ("id", "restriction_id")}
        for row in (await conn.execute(query)).mappings()
    ]


async def insert_proposal(tx: Tx, restriction_id: str, proposal: dict[str, Any]) -> None:
    await tx.conn.execute(
        insert(restriction_proposals).values(
            restriction_id=restriction_id,
            proposed_by=tx.actor,
            proposed_at=tx.now,
            **proposal,
        )
    )


async def get_proposal(conn: AsyncConnection, restriction_id: str) -> dict[str, Any] | None:
    query = select(restriction_proposals).where(
        restriction_proposals.c.restriction_id == restriction_id
    )
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else {k: v for k, v in row.items() if k != "restriction_id"}


async def insert_appeal(tx: Tx, values: dict[str, Any]) -> dict[str, Any]:
    result = await tx.conn.execute(
        insert(appeals).values(**values, recorded_by=tx.actor, status="open", created_at=tx.now)
    )
    key = result.inserted_primary_key
    assert key is not None
    appeal = await get_appeal(tx.conn, int(key[0]))
    tx.record("appeal_lodged", "appeal", str(appeal["id"]), None, appeal)
    return appeal


async def get_appeal(conn: AsyncConnection, appeal_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(appeals).where(appeals.c.id == appeal_id))).mappings().first()
    if row is None:
        raise NotFound(f"there is no appeal {appeal_id}")
    return dict(row)


async def list_appeals(conn: AsyncConnection, restriction_id: str) -> list[dict[str, Any]]:
    query = select(appeals).where(appeals.c.restriction_id == restriction_id).order_by(appeals.c.id)
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def decide_appeal(tx: Tx, appeal_id: int, outcome: str, reason: str) -> dict[str, Any]:
    before = await get_appeal(tx.conn, appeal_id)
    await tx.conn.execute(
        update(appeals)
        .where(appeals.c.id == appeal_id, appeals.c.status == "open")
        .values(
            status="decided",
            outcome=outcome,
            decided_by=tx.actor,
            decided_at=tx.now,
            decision_reason=reason,
        )
    )
    after = await get_appeal(tx.conn, appeal_id)
    tx.record("appeal_decided", "appeal", str(appeal_id), before, after)
    return after


async def insert_review(tx: Tx, values: dict[str, Any]) -> dict[str, Any]:
    result = await tx.conn.execute(
        insert(reviews).values(**values, reviewer=tx.actor, reviewed_at=tx.now)
    )
    key = result.inserted_primary_key
    assert key is not None
    row = (await tx.conn.execute(select(reviews).where(reviews.c.id == key[0]))).mappings().one()
    review = dict(row)
    tx.record("reviewed", "review", str(review["id"]), None, review)
    return review


async def list_reviews(conn: AsyncConnection, restriction_id: str) -> list[dict[str, Any]]:
    query = select(reviews).where(reviews.c.restriction_id == restriction_id).order_by(reviews.c.id)
    return [dict(row) for row in (await conn.execute(query)).mappings()]
