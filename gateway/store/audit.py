"""The audit log: who changed what, when, with the before and after, hash-chained.

It is a second chain, separate from evidence, because it records administrators'
actions rather than customers' contact, and is shown and exported to different people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain.links import ChainHead, chain_hash, json_safe
from gateway.store.chain_db import read_head, write_head
from gateway.store.schema import audit_head, audit_log

AUDIT_HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "prev_hash",
)


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One change to record: ``before``/``after`` are JSON-ready snapshots (None: absent)."""

    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An audit entry as stored, with its place in the audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


def audit_hashed_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {name: row[name] for name in AUDIT_HASHED_FIELDS}


def _record(row: Mapping[Any, Any]) -> AuditRecord:
    return AuditRecord(**{name: row[name] for name in (*AUDIT_HASHED_FIELDS, "hash")})


async def append_audit_items(
    conn: AsyncConnection, items: Sequence[AuditItem], *, now: datetime
) -> list[AuditRecord]:
    """Append ``items`` to the audit chain inside the caller's transaction, in one insert.

    The caller holds the store's audit lock; the head is read for update so that other
    processes on the same PostgreSQL queue behind this transaction.
    """
    if not items:
        return []
    head = await read_head(conn, audit_head, for_update=True)
    rows: list[dict[str, Any]] = []
    prev, seq = head.hash, head.seq
    for item in items:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": now,
            "actor": item.actor,
            "action": item.action,
            "entity": item.entity,
            "entity_id": item.entity_id,
            "before": json_safe(item.before),
            "after": json_safe(item.after),
            "prev_hash": prev,
        }
        fields["hash"] = prev = chain_hash(fields)
        rows.append(fields)
    await conn.execute(insert(audit_log), rows)
    await write_head(conn, audit_head, ChainHead(seq=seq, hash=prev))
    return [_record(row) for row in rows]


async def list_audit(conn: AsyncConnection, *, limit: int, offset: int) -> list[AuditRecord]:
    """Newest first, as an administrator reads a log."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
    return [_record(row) for row in (await conn.execute(query)).mappings()]
