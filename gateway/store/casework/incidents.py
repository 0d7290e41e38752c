"""Unacceptable-behaviour incidents, for any customer, restricted or not, and the
customers whose incidents reach the organisation's "N incidents in P days" rule.

Policies want incidents recorded before any restriction (one prompts a manager after
three): that count, not a restriction, is what puts a customer before a manager. Each
incident is audited when recorded; its attachments' bytes go into ``contents`` under
their SHA-256, as recorded contact's do, and the incident lists each file's facts.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import incidents
from gateway.store.casework.admin import Tx
from gateway.store.errors import NotFound
from gateway.store.schema import contents


def _incident(row: Mapping[Any, Any]) -> dict[str, Any]:
    return dict(row)


async def get_incident(conn: AsyncConnection, incident_id: int) -> dict[str, Any]:
    row = (
        (await conn.execute(select(incidents).where(incidents.c.id == incident_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"there is no incident {incident_id}")
    return _incident(row)


async def list_incidents(
    conn: AsyncConnection, customer_id: str, *, since: datetime | None = None
) -> list[dict[str, Any]]:
    """A customer's incidents, oldest first (from ``since``, when given)."""
    query = select(incidents).where(incidents.c.customer_id == customer_id)
    if since is not None:
        query = query.where(incidents.c.occurred_at >= since)
    query = query.order_by(incidents.c.occurred_at, incidents.c.id)
    return [_incident(row) for row in (await conn.execute(query)).mappings()]


async def _keep_content(conn: AsyncConnection, data: bytes, digest: str, now: datetime) -> None:
    """Store ``data`` under its SHA-256 once (the same file twice is one row)."""
    query = select(contents.c.sha256).where(contents.c.sha256 == digest)
    if (await conn.execute(query)).first() is not None:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(contents).values(sha256=digest, size=len(data), data=data, created_at=now)
            )
    except IntegrityError:
        pass  # another writer stored the same bytes a moment ago


async def add_incident(
    tx: Tx,
    customer_id: str,
    *,
    occurred_at: datetime,
    channel: str,
    category: str,
    description: str,
    people: str,
    attachments: list[dict[str, Any]],
    evidence_seq: int | None = None,
) -> dict[str, Any]:
    """Record an incident; ``attachments`` carry ``filename``, ``content_type`` and
    ``content_base64`` (already checked to decode). Audited, with each file's hash."""
    listed = []
    for item in attachments:
        data = base64.b64decode(item["content_base64"], validate=True)
        digest = hashlib.sha256(data).hexdigest()
        await _keep_content(tx.conn, data, digest, tx.now)
        listed.append(
            {
                "filename": item["filename"],
                "content_type": item["content_type"],
                "size": len(data),
                "sha256": digest,
            }
        )
    result = await tx.conn.execute(
        insert(incidents).values(
            customer_id=customer_id,
            occurred_at=occurred_at,
            channel=channel,
            category=category,
            description=description,
            people=people,
            attachments=listed,
            evidence_seq=evidence_seq,
            recorded_by=tx.actor,
            recorded_at=tx.now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    incident = await get_incident(tx.conn, int(key[0]))
    tx.record("recorded", "incident", str(incident["id"]), None, incident)
    return incident


async def customers_to_consider(
    conn: AsyncConnection, now: datetime, *, threshold: int, window_days: int
) -> list[dict[str, Any]]:
    """Customers with at least ``threshold`` incidents in the ``window_days`` before
    ``now``, most incidents first, each with those incidents listed (oldest first)."""
    since = now - timedelta(days=window_days)
    recent = (incidents.c.occurred_at >= since) & (incidents.c.occurred_at <= now)
    query = (
        select(incidents.c.customer_id, func.count().label("n"))
        .where(recent)
        .group_by(incidents.c.customer_id)
        .having(func.count() >= threshold)
    )
    found = (await conn.execute(query)).all()
    out = []
    for customer_id, count in sorted(found, key=lambda row: (-int(row[1]), str(row[0]))):
        listed = [
            i
            for i in await list_incidents(conn, str(customer_id), since=since)
            if i["occurred_at"] <= now
        ]
        out.append({"customer_id": str(customer_id), "count": int(count), "incidents": listed})
    return out


async def incidents_between(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Incidents that happened in [start, end): the committee report counts them."""
    query = select(incidents).where(
        (incidents.c.occurred_at >= start) & (incidents.c.occurred_at < end)
    )
    return [_incident(row) for row in (await conn.execute(query)).mappings()]
