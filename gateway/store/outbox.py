"""The durable mail queue: messages accepted with ``250`` that still have to go out.

A row is written (and committed, fsync'd on SQLite) before the SMTP client is told
``250``, and marked done only once the upstream has taken the message or a bounce has
been queued in its place, in the same transaction. Several gateways may share the queue:
a worker claims a row by moving its ``next_attempt_at`` forward while checking that
``attempts`` has not changed, so only one claim succeeds; if that worker dies, the row
is due again when the claim runs out — or at once, when the same instance (same machine
and SMTP port, which no two live processes can share) starts again and takes back
what its predecessor had claimed.

``queue_key`` makes queueing idempotent: a retried SMTP transaction that was already
queued finds its row instead of adding a second one. Done rows keep their key (their
content is dropped) for ``KEEP_DONE``, longer than any sender keeps retrying, so a
retried message is not answered or relayed a second time after the first has gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.engine import read_transaction, write_transaction
from gateway.store.schema import metadata
from gateway.store.types import UtcDateTime

mail_queue = Table(
    "mail_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue_key", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("mail_from", Text, nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("done_at", UtcDateTime),
    Column("claimed_by", Text),
    Index("ix_mail_queue_done_at_next_attempt_at", "done_at", "next_attempt_at"),
)

KEEP_DONE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class NewMail:
    """A message to queue. ``mail_from`` is ``""`` for the null sender (replies, bounces)."""

    queue_key: str
    kind: str  # relay | reply | bounce | release
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes
    error: str | None = None  # why it could not go at once, for operators


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """A queued message as a worker sees it once it has claimed it."""

    id: int
    queue_key: str
    kind: str
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes
    created_at: datetime
    expires_at: datetime
    attempts: int
    last_error: str | None


def _queued(row: Mapping[Any, Any]) -> QueuedMail:
    return QueuedMail(
        id=int(row["id"]),
        queue_key=row["queue_key"],
        kind=row["kind"],
        mail_from=row["mail_from"],
        recipients=tuple(row["recipients"]),
        content=bytes(row["content"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
    )


class MailQueue:
    """Queue operations on the store's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def enqueue(
        self, mail: NewMail, *, now: datetime, first_attempt: datetime, lifetime: timedelta
    ) -> bool:
        """Queue ``mail`` durably; False when its ``queue_key`` was already queued."""
        async with write_transaction(self._engine, "queueing mail") as conn:
            return await _insert(conn, mail, now, first_attempt, lifetime) is not None

    async def enqueue_claimed(
        self,
        mail: NewMail,
        *,
        now: datetime,
        lease: timedelta,
        lifetime: timedelta,
        claimer: str,
    ) -> QueuedMail | None:
        """Queue ``mail`` durably as already claimed by ``claimer`` (one attempt under way,
        until ``now + lease``), for a delivery begun before it was queued; None when its
        ``queue_key`` was already queued."""
        async with write_transaction(self._engine, "queueing mail") as conn:
            row_id = await _insert(conn, mail, now, now + lease, lifetime, claimed_by=claimer)
        if row_id is None:
            return None
        return QueuedMail(
            id=row_id,
            queue_key=mail.queue_key,
            kind=mail.kind,
            mail_from=mail.mail_from,
            recipients=mail.recipients,
            content=mail.content,
            created_at=now,
            expires_at=now + lifetime,
            attempts=1,
            last_error=mail.error,
        )

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, claimer: str = ""
    ) -> list[QueuedMail]:
        """Rows due at ``now``, each claimed by ``claimer`` until ``now + lease``."""
        due = (
            select(mail_queue.c.id, mail_queue.c.attempts)
            .where(mail_queue.c.done_at.is_(None), mail_queue.c.next_attempt_at <= now)
            .order_by(mail_queue.c.next_attempt_at, mail_queue.c.id)
            .limit(limit)
        )
        # Look first, without the write lock: most rounds find nothing due, and on
        # SQLite every write transaction queues behind the evidence being recorded.
        async with read_transaction(self._engine, "looking for due mail") as conn:
            candidates = (await conn.execute(due)).all()
        if not candidates:
            return []
        claimed: list[QueuedMail] = []
        async with write_transaction(self._engine, "claiming queued mail") as conn:
            for row_id, attempts in candidates:
                result = await conn.execute(
                    update(mail_queue)
                    .where(mail_queue.c.id == row_id, mail_queue.c.attempts == attempts)
                    .values(next_attempt_at=now + lease, attempts=attempts + 1, claimed_by=claimer)
                    .returning(*mail_queue.c)
                )
                row = result.mappings().one_or_none()
                if row is not None:  # else another gateway claimed it first
                    claimed.append(_queued(row))
        return claimed

    async def settle(
        self,
        item: QueuedMail,
        *,
        remaining: Sequence[str] = (),
        retry_at: datetime | None = None,
        error: str | None = None,
        bounce: NewMail | None = None,
        now: datetime,
        lifetime: timedelta,
    ) -> None:
        """Finish an attempt in one transaction: keep the recipients still to try (or
        mark the row done) and queue the bounce for those that failed for good."""
        async with write_transaction(self._engine, "settling queued mail") as conn:
            if remaining and retry_at is not None:
                await conn.execute(
                    update(mail_queue)
                    .where(mail_queue.c.id == item.id)
                    .values(
                        recipients=list(remaining),
                        next_attempt_at=retry_at,
                        last_error=error,
                        claimed_by=None,
                    )
                )
            else:
                await conn.execute(
                    update(mail_queue)
                    .where(mail_queue.c.id == item.id)
                    .values(done_at=now, content=b"", last_error=error, claimed_by=None)
                )
            if bounce is not None:
                await _insert(conn, bounce, now, now, lifetime)

    async def take_back(self, claimer: str, now: datetime) -> int:
        """Make rows claimed by a dead predecessor of ``claimer`` due again now."""
        query = (
            update(mail_queue)
            .where(mail_queue.c.claimed_by == claimer, mail_queue.c.done_at.is_(None))
            .values(next_attempt_at=now, claimed_by=None)
        )
        async with write_transaction(self._engine, "taking back queued mail") as conn:
            return int((await conn.execute(query)).rowcount)

    async def forget_done(self, before: datetime) -> int:
        """Remove rows finished before ``before`` (their keys need not be kept longer)."""
        query = delete(mail_queue).where(mail_queue.c.done_at < before)
        async with write_transaction(self._engine, "pruning the mail queue") as conn:
            return int((await conn.execute(query)).rowcount)

    async def pending(self) -> int:
        """How many messages are still waiting to go."""
        query = select(func.count()).select_from(mail_queue).where(mail_queue.c.done_at.is_(None))
        async with read_transaction(self._engine, "counting queued mail") as conn:
            return int((await conn.execute(query)).scalar_one())

    async def list_queued(self, limit: int = 100) -> list[QueuedMail]:
        """Oldest first, for operators (and tests) to see what is waiting and why."""
        query = (
            select(mail_queue)
            .where(mail_queue.c.done_at.is_(None))
            .order_by(mail_queue.c.id)
            .limit(limit)
        )
        async with read_transaction(self._engine, "listing queued mail") as conn:
            return [_queued(row) for row in (await conn.execute(query)).mappings()]


async def enqueue_in(
    conn: AsyncConnection, mail: NewMail, *, now: datetime, lifetime: timedelta
) -> bool:
    """Queue ``mail`` inside the caller's transaction, due at once; False if its key was
    already queued. The message then commits (or not) with the change that caused it,
    so a crash between the two can neither lose it nor send it for a change undone."""
    return await _insert(conn, mail, now, now, lifetime) is not None


async def _insert(
    conn: AsyncConnection,
    mail: NewMail,
    now: datetime,
    first_attempt: datetime,
    lifetime: timedelta,
    *,
    claimed_by: str | None = None,
) -> int | None:
    """Insert a row (claimed, with its first attempt counted, when ``claimed_by`` is
    given); its id, or None when the key was already queued."""
    values = {
        "queue_key": mail.queue_key,
        "kind": mail.kind,
        "mail_from": mail.mail_from,
        "recipients": list(mail.recipients),
        "content": mail.content,
        "created_at": now,
        "expires_at": now + lifetime,
        "next_attempt_at": first_attempt,
        "attempts": 0 if claimed_by is None else 1,
        "last_error": mail.error,
        "claimed_by": claimed_by,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(mail_queue).values(**values).on_conflict_do_nothing()
    row_id = (await conn.execute(statement.returning(mail_queue.c.id))).scalar_one_or_none()
    return None if row_id is None else int(row_id)
