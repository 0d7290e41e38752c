"""Evidence rows: appending to the chain, content by hash, and reading records back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, LargeBinary, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain.canonical_json import exact_json
from gateway.chain.links import ChainHead, chain_hash, format_instant
from gateway.store.chain_db import read_head, read_head_sync
from gateway.store.errors import ContentAltered, StoreError
from gateway.store.evidence import HASHED_FIELDS, EvidenceEntry, EvidenceRecord
from gateway.store.schema import contents, evidence, evidence_head

RECORD_FIELDS = (*HASHED_FIELDS, "hash")


def evidence_hashed_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row's hashed fields, straight from the database (what ``verify`` recomputes)."""
    return {name: row[name] for name in HASHED_FIELDS}


def row_to_record(row: Mapping[Any, Any]) -> EvidenceRecord:
    return EvidenceRecord(**{name: row[name] for name in RECORD_FIELDS})


def with_content(entry: EvidenceEntry, content: bytes) -> EvidenceEntry:
    """The entry with its content's SHA-256 (and a reference to the stored copy) filled in."""
    digest = hashlib.sha256(content).hexdigest()
    if entry.content_sha256 is not None and entry.content_sha256 != digest:
        raise StoreError(
            f"content_sha256 {entry.content_sha256} does not match the content given "
            f"(its SHA-256 is {digest})"
        )
    if entry.content_sha256 == digest and entry.content_ref is not None:
        return entry  # already complete
    return entry.with_content_ref(digest, entry.content_ref or content_ref(digest))


def content_ref(digest: str) -> str:
    """How a record points at content kept in the store's ``contents`` table."""
    return f"sha256:{digest}"


# The stored bytes as bytes whatever was written there: SQLite would otherwise hand back
# text written into the column by hand as text, and SQLAlchemy refuse it.
_DATA = cast(contents.c.data, LargeBinary).label("data")
CONTENT_BATCH = 500
CONTENT_MISSING = "it is missing from the store"


def content_altered(expected: str, data: bytes) -> str | None:
    """Why ``data`` is not the content with SHA-256 ``expected``; None when it is."""
    actual = hashlib.sha256(data).hexdigest()
    if actual == expected:
        return None
    return f"it is recorded with SHA-256 {expected}, but the bytes stored under it hash to {actual}"


async def get_content(conn: AsyncConnection, digest: str) -> bytes | None:
    """The content stored under ``digest``, checked against it: ``ContentAltered`` when
    the bytes have been changed since, so altered content is never served."""
    digest = digest.lower()
    data = (await conn.execute(select(_DATA).where(contents.c.sha256 == digest))).scalar()
    if data is None:
        return None
    if (problem := content_altered(digest, data)) is not None:
        raise ContentAltered(digest, problem)
    return bytes(data)


async def content_problems(conn: AsyncConnection, digests: Iterable[str]) -> dict[str, str]:
    """For each of ``digests`` whose stored content is altered or missing, what is wrong."""
    wanted = sorted({d.lower() for d in digests})
    problems = dict.fromkeys(wanted, CONTENT_MISSING)
    for start in range(0, len(wanted), CONTENT_BATCH):
        part = wanted[start : start + CONTENT_BATCH]
        query = select(contents.c.sha256, _DATA).where(contents.c.sha256.in_(part))
        for digest, data in (await conn.execute(query)).all():
            problem = content_altered(digest, data)
            if problem is None:
                del problems[digest]
            else:
                problems[digest] = problem
    return problems


async def first_bad_content(
    conn: AsyncConnection, *, before: int | None, batch: int = CONTENT_BATCH
) -> tuple[int, str] | None:
    """The first record (below seq ``before``, if given) whose content is missing or no
    longer has the SHA-256 the record carries, and what is wrong with it."""
    joined = evidence.outerjoin(contents, contents.c.sha256 == evidence.c.content_sha256)
    query = (
        select(evidence.c.seq, evidence.c.content_sha256, contents.c.sha256.label("key"), _DATA)
        .select_from(joined)
        .where(evidence.c.content_sha256.is_not(None))
        .order_by(evidence.c.seq)
        .limit(batch)
    )
    if before is not None:
        query = query.where(evidence.c.seq < before)
    last = 0
    while rows := (await conn.execute(query.where(evidence.c.seq > last))).all():
        for seq, expected, key, data in rows:
            if key is None:
                return seq, (
                    f"record {seq}'s content (SHA-256 {expected}) is missing from the store: "
                    "it was deleted, or moved under another hash."
                )
            if (problem := content_altered(expected, data)) is not None:
                return seq, f"record {seq}'s stored content has been altered: {problem}."
        last = int(rows[-1][0])
    return None


async def find_by_key(conn: AsyncConnection, contact_key: str) -> EvidenceRecord | None:
    query = select(evidence).where(evidence.c.contact_key == contact_key)
    row = (await conn.execute(query)).mappings().one_or_none()
    return None if row is None else row_to_record(row)


async def get_record(conn: AsyncConnection, seq: int) -> EvidenceRecord | None:
    row = (await conn.execute(select(evidence).where(evidence.c.seq == seq))).mappings()
    found = row.one_or_none()
    return None if found is None else row_to_record(found)


def lock_head(conn: Connection) -> ChainHead:
    """Take the chain's append lock for this transaction and return the current head."""
    return read_head_sync(conn, evidence_head, for_update=True)


def seal(entry: EvidenceEntry, head: ChainHead, now: datetime) -> EvidenceRecord:
    """``entry`` as the record after ``head``, with its hash (nothing written yet).

    The hash is taken over exactly the fields ``EvidenceRecord.hashed_fields`` gives
    (the entry is already normalised), so the record is built once, with its hash.
    """
    fields = entry.entry_fields()
    fields.update(seq=head.seq + 1, recorded_at=now, prev_hash=head.hash)
    body = _exact_canonical(entry, fields)
    fields["hash"] = chain_hash(fields) if body is None else hashlib.sha256(body).hexdigest()
    return EvidenceRecord.from_normalised(fields)


def _exact_canonical(entry: EvidenceEntry, fields: dict[str, Any]) -> bytes | None:
    """``canonical_json(fields)``'s bytes written by orjson, with the entry's JSON
    columns as already written (``json_texts``); None when only canonical_json may
    write them (a float among the values, a value orjson refuses)."""
    texts = entry.json_texts
    if texts is None:
        return None
    body = dict(fields)
    body["occurred_at"] = format_instant(fields["occurred_at"])
    body["recorded_at"] = format_instant(fields["recorded_at"])
    body["reasons"], body["counts"], body["details"] = (orjson.Fragment(str(t)) for t in texts)
    return exact_json(body)


def find_by_keys(conn: Connection, keys: list[str]) -> dict[str, EvidenceRecord]:
    """The records already made for any of ``keys``, by key."""
    if not keys:
        return {}
    query = select(evidence).where(evidence.c.contact_key.in_(keys))
    found = (row_to_record(row) for row in conn.execute(query).mappings())
    return {record.contact_key: record for record in found if record.contact_key is not None}


async def read_evidence_head(conn: AsyncConnection) -> ChainHead:
    return await read_head(conn, evidence_head, for_update=False)
