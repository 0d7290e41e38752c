"""Held contact: stored whole, not delivered, waiting for an officer to read or release it.

A held contact is never lost: its content sits in ``contents`` and its evidence record
says why it was held. Releasing or marking it reviewed only changes its status; the
service does the delivering. Status moves held -> reviewed or released, and a reviewed
contact may still be released later (an officer reads it, then decides it must go on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.audit import AuditItem
from gateway.store.bulk_insert import insert_rows
from gateway.store.errors import HeldStateError, NotFound
from gateway.store.evidence import EvidenceRecord, HoldEntry
from gateway.store.schema import held_contact


class HeldStatus(StrEnum):
    HELD = "held"
    REVIEWED = "reviewed"
    RELEASED = "released"


# Which statuses each change may start from.
_ALLOWED_FROM = {
    HeldStatus.RELEASED: (HeldStatus.HELD, HeldStatus.REVIEWED),
    HeldStatus.REVIEWED: (HeldStatus.HELD,),
}


@dataclass(frozen=True, slots=True)
class HeldContact:
    """One held contact as a reviewing officer sees it."""

    id: int
    evidence_seq: int
    customer_id: str | None
    restriction_id: str | None
    channel: str
    hold_reason: str | None
    sender: str
    recipient: str
    content_sha256: str | None
    summary: str
    created_at: datetime
    status: str
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_note: str | None
    raises: str | None
    escalated_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _held(row: Mapping[Any, Any]) -> HeldContact:
    return HeldContact(**{name: row[name] for name in HeldContact.__slots__})


def insert_held_many(
    conn: Connection, holds: list[tuple[EvidenceRecord, HoldEntry]], now: datetime
) -> dict[int, int]:
    """Open a held contact for each record, in one statement; their ids by evidence seq."""
    if not holds:
        return {}
    opened = insert_rows(conn, held_contact, held_rows(holds, now), returning=RETURNED)
    return {int(seq): int(id_) for seq, id_ in opened}


# What opening held contacts returns: their ids by evidence seq.
RETURNED = ("evidence_seq", "id")


def held_rows(holds: list[tuple[EvidenceRecord, HoldEntry]], now: datetime) -> list[dict[str, Any]]:
    """The ``held_contact`` rows that open a held contact for each record."""
    return [
        {
            "evidence_seq": record.seq,
            "customer_id": record.customer_id,
            "restriction_id": record.restriction_id,
            "channel": record.channel,
            "hold_reason": record.hold_reason,
            "sender": record.sender,
            "recipient": record.recipient,
            "content_sha256": record.content_sha256,
            "summary": hold.summary,
            "created_at": now,
            "status": HeldStatus.HELD.value,
        }
        for record, hold in holds
    ]


def held_ids_for(conn: Connection, seqs: list[int]) -> dict[int, int]:
    """The held contacts opened for any of the records ``seqs``, by evidence seq."""
    query = select(held_contact.c.evidence_seq, held_contact.c.id).where(
        held_contact.c.evidence_seq.in_(seqs)
    )
    return {int(seq): int(id_) for seq, id_ in conn.execute(query).all()}


async def held_id_for(conn: AsyncConnection, seq: int) -> int | None:
    query = select(held_contact.c.id).where(held_contact.c.evidence_seq == seq)
    found = (await conn.execute(query)).scalar_one_or_none()
    return None if found is None else int(found)


async def get_held(conn: AsyncConnection, held_id: int) -> HeldContact | None:
    query = select(held_contact).where(held_contact.c.id == held_id)
    row = (await conn.execute(query)).mappings().one_or_none()
    return None if row is None else _held(row)


async def list_held(
    conn: AsyncConnection,
    *,
    customer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[HeldContact]:
    """Oldest first: held contact is a queue, and the longest-waiting matters most."""
    query = select(held_contact).order_by(held_contact.c.id).limit(limit).offset(offset)
    if customer_id is not None:
        query = query.where(held_contact.c.customer_id == customer_id)
    if status is not None:
        query = query.where(held_contact.c.status == status)
    return [_held(row) for row in (await conn.execute(query)).mappings()]


async def count_held(conn: AsyncConnection, *, customer_id: str | None, status: str | None) -> int:
    query = select(func.count()).select_from(held_contact)
    if customer_id is not None:
        query = query.where(held_contact.c.customer_id == customer_id)
    if status is not None:
        query = query.where(held_contact.c.status == status)
    return int((await conn.execute(query)).scalar_one())


async def resolve_held(
    conn: AsyncConnection,
    held_id: int,
    to: HeldStatus,
    *,
    actor: str,
    note: str | None,
    now: datetime,
    raises: str | None = None,
) -> tuple[HeldContact, AuditItem]:
    """Move a held contact to ``to``; the conditional UPDATE lets only one officer win.

    ``raises`` is what the reader said it raises (a new matter, an appeal...) when that
    is why it goes on; it is kept with the resolution and in the audit entry.
    """
    before = await get_held(conn, held_id)
    if before is None:
        raise NotFound(f"there is no held contact {held_id}")
    allowed = [s.value for s in _ALLOWED_FROM[to]]
    result = await conn.execute(
        update(held_contact)
        .where(held_contact.c.id == held_id, held_contact.c.status.in_(allowed))
        .values(
            status=to.value, resolved_by=actor, resolved_at=now, resolution_note=note, raises=raises
        )
    )
    if result.rowcount != 1:
        current = await get_held(conn, held_id) or before
        by = f" by {current.resolved_by}" if current.resolved_by else ""
        raise HeldStateError(
            f"held contact {held_id} is already {current.status}{by}, "
            f"so it cannot be marked {to.value}"
        )
    after = await get_held(conn, held_id)
    assert after is not None
    item = AuditItem(
        actor=actor,
        action=to.value,
        entity="held_contact",
        entity_id=str(held_id),
        before={"status": before.status},
        after={"status": after.status, "note": note}
        | ({"raises": raises} if raises is not None else {}),
    )
    return after, item


async def attach_content(
    conn: AsyncConnection, evidence_seq: int, *, content_sha256: str, summary: str
) -> int | None:
    """Give a held contact content that arrived after it was held (a call's voicemail).

    Only a held contact without content takes it (or one that already has this same
    content, so a retry is harmless): content once attached is never swapped.
    """
    result = await conn.execute(
        update(held_contact)
        .where(
            held_contact.c.evidence_seq == evidence_seq,
            held_contact.c.content_sha256.is_(None)
            | (held_contact.c.content_sha256 == content_sha256),
        )
        .values(content_sha256=content_sha256, summary=summary)
    )
    if result.rowcount != 1:
        return None
    return await held_id_for(conn, evidence_seq)


async def count_overdue(conn: AsyncConnection, held_before: datetime) -> int:
    """How many contacts held before ``held_before`` nobody has read yet."""
    query = (
        select(func.count())
        .select_from(held_contact)
        .where(held_contact.c.status == HeldStatus.HELD.value)
        .where(held_contact.c.created_at < held_before)
    )
    return int((await conn.execute(query)).scalar_one())


async def unescalated_overdue(
    conn: AsyncConnection, held_before: datetime, *, limit: int
) -> list[HeldContact]:
    """Unread contacts held before ``held_before`` and not yet escalated, oldest first."""
    query = (
        select(held_contact)
        .where(
            held_contact.c.status == HeldStatus.HELD.value,
            held_contact.c.created_at < held_before,
            held_contact.c.escalated_at.is_(None),
        )
        .order_by(held_contact.c.id)
        .limit(limit)
    )
    return [_held(row) for row in (await conn.execute(query)).mappings()]


async def claim_escalation(conn: AsyncConnection, held_id: int, now: datetime) -> bool:
    """Mark ``held_id`` escalated at ``now`` if it is still unread and not yet escalated.

    The conditional UPDATE is the claim: of gateways trying at once, exactly one sees
    a row changed (PostgreSQL re-checks the condition after waiting for the row lock;
    SQLite writes one at a time), and only that one sends the escalation.
    """
    result = await conn.execute(
        update(held_contact)
        .where(
            held_contact.c.id == held_id,
            held_contact.c.status == HeldStatus.HELD.value,
            held_contact.c.escalated_at.is_(None),
        )
        .values(escalated_at=now)
    )
    return bool(result.rowcount == 1)
