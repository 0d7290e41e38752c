"""Possible matches: an unknown address or number that looks like a restricted customer's.

The gateway notices them after delivering the contact (``gateway.matching``) and lists
them here; a person confirms one (the address or number is added to the customer, so
what comes from it next is under the customer's restriction) or dismisses it. Both are
audited. One row per customer and identity: noticing it again counts it, and a
dismissed pair is not listed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import possible_matches, text_fingerprints
from gateway.store.casework.admin import Conflict, Tx
from gateway.store.casework.records import get_customer, policy_fields, save_customer
from gateway.store.errors import NotFound
from rules.models import Customer

OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"
_SUMMARY_LIMIT = 200
# How long a restricted customer's text is remembered (as a fingerprint) for comparing.
FINGERPRINT_DAYS = timedelta(days=30)


async def remember_text(
    conn: AsyncConnection, *, customer_id: str, fingerprint: str, channel: str, now: datetime
) -> None:
    """Keep the fingerprint of a restricted customer's text (the latest time it was seen),
    and forget fingerprints older than ``FINGERPRINT_DAYS``: the table stays bounded."""
    await conn.execute(
        delete(text_fingerprints).where(text_fingerprints.c.seen_at < now - FINGERPRINT_DAYS)
    )
    await conn.execute(
        delete(text_fingerprints).where(
            text_fingerprints.c.customer_id == customer_id,
            text_fingerprints.c.fingerprint == fingerprint,
        )
    )
    await conn.execute(
        insert(text_fingerprints).values(
            customer_id=customer_id, fingerprint=fingerprint, channel=channel, seen_at=now
        )
    )


async def who_sent_text(
    conn: AsyncConnection, fingerprint: str, now: datetime
) -> list[tuple[str, str, datetime]]:
    """(customer, channel, when) of restricted customers who sent this text in the last
    ``FINGERPRINT_DAYS``."""
    query = select(
        text_fingerprints.c.customer_id, text_fingerprints.c.channel, text_fingerprints.c.seen_at
    ).where(
        text_fingerprints.c.fingerprint == fingerprint,
        text_fingerprints.c.seen_at >= now - FINGERPRINT_DAYS,
    )
    return [(str(c), str(ch), at) for c, ch, at in (await conn.execute(query)).all()]


async def notice_match(
    conn: AsyncConnection,
    *,
    customer_id: str,
    identity: str,
    channel: str,
    clues: Sequence[Mapping[str, str]],
    summary: str,
    contact_key: str | None,
    now: datetime,
) -> int:
    """Record that ``identity`` looks like ``customer_id``'s; returns the row's id."""
    query = select(possible_matches.c.id, possible_matches.c.status).where(
        possible_matches.c.customer_id == customer_id, possible_matches.c.identity == identity
    )
    row = (await conn.execute(query)).first()
    if row is not None:
        await conn.execute(
            update(possible_matches)
            .where(possible_matches.c.id == row[0])
            .values(last_seen=now, seen=possible_matches.c.seen + 1)
        )
        return int(row[0])
    result = await conn.execute(
        insert(possible_matches).values(
            customer_id=customer_id,
            identity=identity,
            channel=channel,
            clues=[dict(c) for c in clues],
            summary=summary[:_SUMMARY_LIMIT],
            contact_key=contact_key,
            first_seen=now,
            last_seen=now,
            seen=1,
            status=OPEN,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def list_matches(
    conn: AsyncConnection, *, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Possible matches, most recently seen first."""
    query = (
        select(possible_matches)
        .order_by(possible_matches.c.last_seen.desc(), possible_matches.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(possible_matches.c.status == status)
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def count_open(conn: AsyncConnection) -> int:
    query = select(func.count()).where(possible_matches.c.status == OPEN)
    return int((await conn.execute(query)).scalar_one())


async def get_match(conn: AsyncConnection, match_id: int) -> dict[str, Any]:
    query = select(possible_matches).where(possible_matches.c.id == match_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"there is no possible match {match_id}")
    return dict(row)


async def _decide(tx: Tx, match_id: int, status: str, note: str | None) -> dict[str, Any]:
    before = await get_match(tx.conn, match_id)
    if before["status"] != OPEN:
        raise Conflict(
            f"possible match {match_id} was already {before['status']} by {before['decided_by']}"
        )
    await tx.conn.execute(
        update(possible_matches)
        .where(possible_matches.c.id == match_id)
        .values(status=status, decided_by=tx.actor, decided_at=tx.now, note=note)
    )
    after = await get_match(tx.conn, match_id)
    tx.record(status, "possible_match", str(match_id), before, after)
    return after


async def confirm_match(tx: Tx, match_id: int, note: str | None = None) -> dict[str, Any]:
    """The identity is the customer's: add it to them (audited as a customer change,
    moving the policy version) and mark the match confirmed (audited too)."""
    match = await get_match(tx.conn, match_id)
    if match["status"] == OPEN:
        current = await get_customer(tx.conn, match["customer_id"])
        fields = policy_fields(current)
        key = "emails" if "@" in match["identity"] else "phones"
        if match["identity"] not in fields[key]:
            fields[key] = [*fields[key], match["identity"]]
            await save_customer(tx, Customer.model_validate(fields), create=False)
    return await _decide(tx, match_id, CONFIRMED, note)


async def dismiss_match(tx: Tx, match_id: int, note: str | None = None) -> dict[str, Any]:
    """Not the customer: the identity stays unknown, and the pair is not listed again."""
    return await _decide(tx, match_id, DISMISSED, note)
