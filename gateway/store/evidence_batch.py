"""Appending evidence in batches: every contact that arrives while one batch is being
written goes into the next, in one transaction (group commit).

The chain is a single line, so appends are serialised, and each append used to be a
transaction of its own: a dozen round trips to the database and a sync to disk, all
while every other restricted contact waited its turn. Under load that queue, not the
deciding, set the pace. Here one writer task takes whatever is waiting, appends it all
after one read of the chain head, writes the head once and commits once; the callers
each get their own result. Nothing is acknowledged before its transaction commits.

A batch refused by the database is retried one contact at a time, so a bad contact
fails only itself; when the database is unavailable the whole batch fails at once.
A caller that gives up waiting (a webhook's time limit) does not stop the batch: the
others in it still get their records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.chain.links import ChainHead
from gateway.store import evidence_db, held
from gateway.store.bulk_insert import insert_rows
from gateway.store.chain_db import write_head_sync
from gateway.store.engine import translate_errors, write_transaction
from gateway.store.errors import StoreUnavailable
from gateway.store.evidence import EvidenceEntry, EvidenceRecord, HoldEntry, RecordResult
from gateway.store.evidence_append_pg import append_if_head
from gateway.store.schema import contents, evidence, evidence_head

log = logging.getLogger(__name__)

MAX_BATCH = 256
# After the one-statement append finds the head moved by another writer, this many
# batches take the locking path before it is tried again (two busy gateways would
# otherwise each miss often, paying a statement for nothing every time).
LOCKED_AFTER_MISS = 8


@dataclass(slots=True)
class _Pending:
    entry: EvidenceEntry
    content: bytes | None
    hold: HoldEntry | None
    done: asyncio.Future[RecordResult]


class EvidenceAppender:
    """The one writer of a store's evidence chain in this process."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        # The head as this process last left it (None: unknown, take the locking path),
        # and how many batches are still to take the locking path after a miss.
        self._head: ChainHead | None = None
        self._locked_only = 0
        self._conn: AsyncConnection | None = None  # see _statement_connection

    async def record(
        self, entry: EvidenceEntry, content: bytes | None, hold: HoldEntry | None
    ) -> RecordResult:
        loop = asyncio.get_running_loop()
        item = _Pending(entry, content, hold, loop.create_future())
        item.done.add_done_callback(_retrieve)
        self._pending.append(item)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_all(), name="evidence-appender")
        return await asyncio.shield(item.done)

    async def close(self) -> None:
        """Wait for everything already handed in to be written."""
        if self._writer is not None:
            await asyncio.wait([self._writer])
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _write_all(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._write_batch(batch)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait for ever
            for item in self._pending:
                _settle(item, exc)
            self._pending.clear()
            raise

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            results = await self._append(batch)
        except StoreUnavailable as exc:
            # The database is down or not answering: every contact would fail the same way.
            for item in batch:
                _settle(item, exc)
            return
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            for item in batch:
                await self._write_batch([item])
            return
        except BaseException as exc:
            for item in batch:
                _settle(item, exc)
            raise
        for item, result in zip(batch, results, strict=True):
            _settle(item, result)

    async def _append(self, batch: Sequence[_Pending]) -> list[RecordResult]:
        head, self._head = self._head, None  # unknown until this batch is settled
        keys = [i.entry.contact_key for i in batch if i.entry.contact_key is not None]
        if head is not None and self._unlocked_ok(keys):
            results = await self._append_unlocked(batch, head, keys)
            if results is not None:
                return results
        results, self._head = await self._append_locked(batch, keys)
        return results

    def _unlocked_ok(self, keys: list[str]) -> bool:
        """Try the one-statement append (PostgreSQL) for a batch with these keys?"""
        if self._engine.dialect.name != "postgresql":
            return False
        if self._locked_only:
            self._locked_only -= 1
            return False
        return len(set(keys)) == len(keys)  # a key twice in the batch: the locking path

    async def _append_unlocked(
        self, batch: Sequence[_Pending], head: ChainHead, keys: list[str]
    ) -> list[RecordResult] | None:
        """Seal after the head this process last wrote, and write it all in one
        statement if that is still the head (see ``evidence_append_pg``); None if not."""
        now = self._clock()
        new: list[tuple[_Pending, EvidenceRecord]] = []
        last = head
        for item in batch:
            record = evidence_db.seal(item.entry, last, now)
            last = ChainHead(seq=record.seq, hash=record.hash)
            new.append((item, record))
        holds = [(record, item.hold) for item, record in new if item.hold is not None]
        try:
            conn = await self._statement_connection()
            async with translate_errors("recording a contact"):
                held_ids = await append_if_head(
                    conn,
                    head,
                    last,
                    keys,
                    _content_rows(new, now),
                    _evidence_rows(new),
                    held.held_rows(holds, now),
                )
        except Exception as exc:
            # A connection kept since the last batch may have gone (the server
            # restarted), or the batch itself was refused: either way the locking path
            # answers, on a connection the pool has just checked.
            log.info("one-statement append failed (%s); taking the locking path", exc)
            await self._drop_connection()
            return None
        except BaseException:
            self._conn = None  # stopped mid-statement (shutting down): never used again
            raise
        if held_ids is None:
            self._locked_only = LOCKED_AFTER_MISS  # someone else is appending too
            return None
        self._head = last
        return [RecordResult(record, True, held_ids.get(record.seq)) for _, record in new]

    async def _statement_connection(self) -> AsyncConnection:
        """The connection kept for one-statement appends (autocommit): taking one from
        the pool for each batch costs a round trip of its own (the pool checks it)."""
        if self._conn is None:
            conn = await self._engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()

    async def _append_locked(
        self, batch: Sequence[_Pending], keys: list[str]
    ) -> tuple[list[RecordResult], ChainHead]:
        """Lock the head, find the keys already recorded, seal and write: the results
        and the head as this transaction left it."""
        async with write_transaction(self._engine, "recording a contact") as conn:
            return await conn.run_sync(_locked_batch, batch, keys, self._clock())


def _locked_batch(
    conn: Connection, batch: Sequence[_Pending], keys: list[str], now: datetime
) -> tuple[list[RecordResult], ChainHead]:
    """The locking append, in the caller's transaction on a synchronous connection."""
    head = evidence_db.lock_head(conn)
    found = evidence_db.find_by_keys(conn, keys)
    out: list[RecordResult | str] = []
    new: list[tuple[_Pending, EvidenceRecord]] = []
    for item in batch:
        key = item.entry.contact_key
        if key is not None and key in found:
            out.append(key)  # seen before (or earlier in this batch): resolved below
            continue
        record = evidence_db.seal(item.entry, head, now)
        head = ChainHead(seq=record.seq, hash=record.hash)
        new.append((item, record))
        out.append(RecordResult(record, True, None))
        if key is not None:
            found[key] = record
    if new:
        content_rows = _content_rows(new, now)
        if content_rows:
            insert_rows(conn, contents, content_rows, skip_duplicates=True)
        insert_rows(conn, evidence, _evidence_rows(new))
        write_head_sync(conn, evidence_head, head)
    holds = [(record, item.hold) for item, record in new if item.hold is not None]
    held_ids = held.insert_held_many(conn, holds, now)
    seen = [found[r] for r in out if isinstance(r, str)]
    if seen:
        held_ids.update(held.held_ids_for(conn, [r.seq for r in seen]))
    results = []
    for result in out:
        if isinstance(result, str):
            record = found[result]
            results.append(RecordResult(record, False, held_ids.get(record.seq)))
        else:
            results.append(RecordResult(result.record, True, held_ids.get(result.record.seq)))
    return results, head


def _content_rows(
    new: list[tuple[_Pending, EvidenceRecord]], now: datetime
) -> list[dict[str, Any]]:
    """Each new content once, under its SHA-256."""
    by_digest = {
        record.content_sha256: item.content
        for item, record in new
        if item.content is not None and record.content_sha256 is not None
    }
    return [
        {"sha256": digest, "size": len(data), "data": data, "created_at": now}
        for digest, data in by_digest.items()
    ]


def _evidence_rows(new: list[tuple[_Pending, EvidenceRecord]]) -> list[dict[str, Any]]:
    rows = []
    for item, record in new:
        row = record.hashed_fields()
        row["hash"] = record.hash
        texts = item.entry.json_texts
        if texts is not None:  # written once already, for the hash
            row["reasons"], row["counts"], row["details"] = texts
        rows.append(row)
    return rows


def _settle(item: _Pending, outcome: RecordResult | BaseException) -> None:
    if item.done.done():
        return
    if isinstance(outcome, asyncio.CancelledError):
        item.done.cancel()
    elif isinstance(outcome, BaseException):
        item.done.set_exception(outcome)
    else:
        item.done.set_result(outcome)


def _retrieve(future: asyncio.Future[RecordResult]) -> None:
    # A caller that stopped waiting never reads its outcome; do not log it as lost.
    if not future.cancelled():
        future.exception()
