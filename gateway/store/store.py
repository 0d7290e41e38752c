"""The store: one object that owns the database engine and every query the gateway makes.

Built by :meth:`Store.open` and closed by :meth:`Store.close`; nothing is created at
import time. SQLite (one process) and PostgreSQL (several processes) are both supported
through one schema. Every method raises :class:`StoreError` subclasses only, so each
edge maps "the store failed" in one place (SMTP ``451``, HTTP ``503``).

Appends to the hash chains are serialised twice: in this process one writer task takes
evidence (``EvidenceAppender``) and an ``asyncio.Lock`` queues audit entries, and the
chain's head row (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) queues
processes sharing the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.chain.links import ChainHead, VerifyResult
from gateway.chain.tree_scan import TreeCheck
from gateway.chain.verify_fast import verify_fast
from gateway.store import audit as audit_db
from gateway.store import evidence_db, held, notices, policy, policy_read, tree
from gateway.store.audit import AuditItem, AuditRecord, audit_hashed_fields
from gateway.store.chain_db import verify_chain
from gateway.store.engine import open_engine, read_transaction, translate_errors
from gateway.store.engine import write_transaction as _write
from gateway.store.errors import StoreError, StoreUnavailable
from gateway.store.evidence import (
    CountedContact,
    EvidenceEntry,
    EvidenceRecord,
    HoldEntry,
    RecordResult,
)
from gateway.store.evidence_batch import EvidenceAppender
from gateway.store.held import HeldContact, HeldStatus
from gateway.store.migrate import current_revision, head_revision, upgrade_engine
from gateway.store.policy import ImportSummary
from gateway.store.policy_read import LeanPolicy, RestrictionVersion
from gateway.store.policy_watch import PolicyWatch
from gateway.store.schema import audit_head, audit_log, evidence, evidence_head
from rules.models import Policy

Clock = Callable[[], datetime]
PING_TIMEOUT_S = 5.0
MAX_REMEMBERED_CLAIMS = 100_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Policy, evidence, content, held contact and the audit log, on one database."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._audit_lock = asyncio.Lock()
        self._policy_watch = PolicyWatch(engine)
        self._appender = EvidenceAppender(engine, lambda: self._clock())
        # Day's notices already claimed, by (customer, channel, day): a claim is never
        # undone, so once seen it needs no query. Cleared when it grows large.
        self._claimed: dict[tuple[str, str, date], str] = {}

    @classmethod
    async def open(
        cls, url: str, *, migrate: bool = True, clock: Clock = utc_now, echo: bool = False
    ) -> Self:
        """Connect to ``url``, bring the schema up to date (or check it is), and return.

        Without ``migrate`` a database at an older revision is refused with the command
        that fixes it, rather than failing later on a missing column.
        """
        engine = await open_engine(url, echo=echo)
        try:
            if migrate:
                await upgrade_engine(engine)
            else:
                found, wanted = await current_revision(engine), head_revision()
                if found != wanted:
                    raise StoreError(
                        f"the database schema is at revision {found or 'none'} but this "
                        f"version needs {wanted}: run 'contact-gateway db upgrade'"
                    )
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock=clock)

    async def close(self) -> None:
        await self._appender.close()
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def audit_lock(self) -> asyncio.Lock:
        """Held by every writer that appends to the audit chain, here or in other modules."""
        return self._audit_lock

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers a query promptly.

        A database that hangs is as unavailable as one that refuses, so there is a limit.
        """
        limit = PING_TIMEOUT_S
        try:
            async with (
                asyncio.timeout(limit),
                translate_errors("pinging the database"),
                self._engine.connect() as conn,
            ):
                await conn.execute(text("SELECT 1"))
        except TimeoutError as exc:
            raise StoreUnavailable(f"the database did not answer within {limit}s") from exc
        except StoreError as exc:
            raise StoreUnavailable(str(exc)) from exc

    # ------------------------------------------------------------------ policy

    async def load_policy(self) -> Policy:
        """The whole stored policy: officers, customers, representatives, restrictions."""
        async with read_transaction(self._engine, "loading the policy", snapshot=True) as conn:
            return await policy_read.load_policy(conn)

    async def load_lean_policy(self) -> LeanPolicy:
        """The stored policy as the contact service holds it: customers in a compact
        directory rather than a model each (see ``policy_read.load_lean_policy``)."""
        async with read_transaction(self._engine, "loading the policy", snapshot=True) as conn:
            return await policy_read.load_lean_policy(conn)

    @property
    def policy_generation(self) -> int:
        """Moves whenever this process has changed the policy (no query; see PolicyWatch)."""
        return self._policy_watch.generation

    def watch_policy(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call ``listener(generation)`` each time this process has changed the policy
        (synchronously, when the change is visible); returns the function that stops it."""
        self._policy_watch.listeners.append(listener)
        return lambda: self._policy_watch.listeners.remove(listener)

    async def policy_version(self) -> int:
        """A number bumped by every change, so instances know when to reload."""
        async with read_transaction(self._engine, "reading the policy version") as conn:
            return await policy_read.policy_version(conn)

    async def upsert_policy(self, new: Policy, *, actor: str) -> ImportSummary:
        """Create or update every item in ``new`` by id, in one transaction.

        Items not in ``new`` are left alone. Only real changes are written, audited and
        bump the policy version, so importing the same file twice changes nothing.
        """
        async with self._audit_lock, _write(self._engine, "importing the policy") as conn:
            now = self._clock()
            summary, items = await policy.upsert_policy(conn, new, actor=actor, now=now)
            await audit_db.append_audit_items(conn, items, now=now)
        return summary

    async def restriction_history(self, restriction_id: str) -> list[RestrictionVersion]:
        """Every version of a restriction, oldest first, with who changed it and when."""
        async with read_transaction(self._engine, "reading restriction history") as conn:
            return await policy_read.read_restriction_history(conn, restriction_id)

    # ---------------------------------------------------------------- evidence

    async def record_contact(
        self,
        entry: EvidenceEntry,
        *,
        content: bytes | None = None,
        hold: HoldEntry | None = None,
    ) -> RecordResult:
        """Store content, append the evidence record and open a held contact, atomically.

        Idempotent on ``entry.contact_key``: a retried delivery finds the first record
        and writes nothing (``created`` is False), so it is neither counted nor held twice.
        """
        if content is not None:
            entry = evidence_db.with_content(entry, content)
        # Contacts recorded at the same moment share one transaction (see EvidenceAppender).
        return await self._appender.record(entry, content, hold)

    async def append_evidence(self, entry: EvidenceEntry) -> RecordResult:
        """Append a record with no content, e.g. a call's outcome referring to its call.

        Evidence is never updated: later facts are new records that point back.
        """
        return await self.record_contact(entry)

    async def get_evidence(self, seq: int) -> EvidenceRecord | None:
        async with read_transaction(self._engine, "reading evidence") as conn:
            return await evidence_db.get_record(conn, seq)

    async def find_evidence(self, contact_key: str) -> EvidenceRecord | None:
        """The record made for ``contact_key`` (a MessageSid, CallSid, Message-ID), if any."""
        async with read_transaction(self._engine, "reading evidence") as conn:
            return await evidence_db.find_by_key(conn, contact_key)

    async def evidence_for_customer(self, customer_id: str) -> list[EvidenceRecord]:
        """All of one customer's records in chain order, for a timeline or an export."""
        query = select(evidence).where(evidence.c.customer_id == customer_id)
        async with read_transaction(self._engine, "reading evidence") as conn:
            rows = (await conn.execute(query.order_by(evidence.c.seq))).mappings()
            return [evidence_db.row_to_record(row) for row in rows]

    async def list_evidence(
        self, *, customer_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[EvidenceRecord]:
        """Newest first, for listing in the admin API and UI."""
        query = select(evidence).order_by(evidence.c.seq.desc()).limit(limit).offset(offset)
        if customer_id is not None:
            query = query.where(evidence.c.customer_id == customer_id)
        async with read_transaction(self._engine, "reading evidence") as conn:
            rows = (await conn.execute(query)).mappings()
            return [evidence_db.row_to_record(row) for row in rows]

    async def evidence_head(self) -> ChainHead:
        """The newest record's seq and hash, as written with it."""
        async with read_transaction(self._engine, "reading the evidence head") as conn:
            return await evidence_db.read_evidence_head(conn)

    async def verify_evidence(
        self, *, batch: int = 2000, processes: int = 1, fast: bool = True
    ) -> VerifyResult:
        """Recompute the whole evidence chain, check every record's stored content
        against the SHA-256 the record carries, and name the first bad record, if any.

        The fast scan (``verify_fast``, up to ``processes`` worker processes) answers
        for an intact chain; anything else is checked again by the reference, which
        says what is wrong. ``fast=False``: the reference only (the fast scan was
        already asked).
        """
        found = await verify_fast(self._engine, processes=processes) if fast else None
        if found is not None:
            return found
        async with read_transaction(self._engine, "verifying evidence", snapshot=True) as conn:
            chain = await verify_chain(
                conn, evidence, evidence_head, evidence_db.evidence_hashed_fields, batch=batch
            )
            # Content is checked up to the first bad record, so the earlier problem wins.
            bad = await evidence_db.first_bad_content(conn, before=chain.first_bad_seq)
        if bad is None:
            return chain
        seq, problem = bad
        return VerifyResult(
            ok=False,
            records_checked=seq - 1,
            head_seq=chain.head_seq,
            first_bad_seq=seq,
            problem=problem,
        )

    # ------------------------------------------------------------ the Merkle tree

    async def extend_tree(self) -> int:
        """Bring the evidence tree up to the records; the number of records it covers."""
        return await tree.extend_tree(self._engine)

    async def tree_size(self) -> int:
        """How many records the stored evidence tree covers (no extending)."""
        return await tree.tree_size(self._engine)

    async def tree_root(self, size: int) -> bytes:
        """The root of the evidence tree of the first ``size`` records."""
        return await tree.tree_root(self._engine, size)

    async def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        """Record ``seq``'s audit path in the tree of the first ``size`` records."""
        return await tree.inclusion_proof(self._engine, seq, size)

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """That the tree of ``old_size`` records is the start of that of ``new_size``."""
        return await tree.consistency_proof(self._engine, old_size, new_size)

    async def check_tree(self, sizes: Iterable[int] = ()) -> TreeCheck:
        """The tree recomputed from the records (roots at ``sizes``), and whether the
        stored one agrees: the in-memory check (``tree.check_tree``)."""
        return await tree.check_tree(self._engine, sizes)

    async def counted_since(self, since: datetime) -> list[CountedContact]:
        """Delivered contacts that count toward limits, from ``since``, oldest first.

        Usage counters are rebuilt from here after a restart, so a restart never resets
        a customer's cap.
        """
        query = (
            select(
                evidence.c.customer_id,
                evidence.c.channel,
                evidence.c.occurred_at,
                evidence.c.contact_key,
            )
            .where(
                evidence.c.counted.is_(True),
                evidence.c.occurred_at >= since,
                evidence.c.customer_id.is_not(None),
            )
            .order_by(evidence.c.occurred_at, evidence.c.seq)
        )
        async with read_transaction(self._engine, "reading usage") as conn:
            rows = (await conn.execute(query)).all()
        return [CountedContact(r[0], r[1], r[2], r[3]) for r in rows]

    async def get_content(self, sha256: str) -> bytes | None:
        """Stored content by its SHA-256 (hex), or None; ``ContentAltered`` when the
        stored bytes no longer have that SHA-256 (they were changed after recording)."""
        async with read_transaction(self._engine, "reading content") as conn:
            return await evidence_db.get_content(conn, sha256)

    async def content_problems(self, digests: Iterable[str]) -> dict[str, str]:
        """Which of ``digests`` have stored content that is altered or missing, and how."""
        async with read_transaction(self._engine, "checking content") as conn:
            return await evidence_db.content_problems(conn, digests)

    # ------------------------------------------------------------ held contact

    async def list_held(
        self,
        customer_id: str | None = None,
        status: str | None = HeldStatus.HELD.value,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> list[HeldContact]:
        """Held contact, oldest first; ``status=None`` lists every status."""
        async with read_transaction(self._engine, "listing held contact") as conn:
            return await held.list_held(
                conn, customer_id=customer_id, status=status, limit=limit, offset=offset
            )

    async def count_held(
        self, customer_id: str | None = None, status: str | None = HeldStatus.HELD.value
    ) -> int:
        async with read_transaction(self._engine, "counting held contact") as conn:
            return await held.count_held(conn, customer_id=customer_id, status=status)

    async def count_overdue(self, held_before: datetime) -> int:
        """Unread held contacts held before ``held_before`` (see gateway.held.age)."""
        async with read_transaction(self._engine, "counting overdue held contact") as conn:
            return await held.count_overdue(conn, held_before)

    async def get_held(self, held_id: int) -> HeldContact | None:
        async with read_transaction(self._engine, "reading held contact") as conn:
            return await held.get_held(conn, held_id)

    async def attach_held_content(
        self, evidence_seq: int, *, content_sha256: str, summary: str
    ) -> int | None:
        """Attach stored content (e.g. a voicemail's reference) to the contact held for a
        record; returns the held contact's id, or None when there is none to attach to."""
        async with _write(self._engine, "attaching content to held contact") as conn:
            return await held.attach_content(
                conn, evidence_seq, content_sha256=content_sha256, summary=summary
            )

    async def release_held(
        self, held_id: int, *, actor: str, note: str | None = None, raises: str | None = None
    ) -> HeldContact:
        """Mark a held contact released (the service then delivers it); audited.

        ``raises``: what its reader said it raises, when that is why it was released."""
        return await self._resolve(
            held_id, HeldStatus.RELEASED, actor=actor, note=note, raises=raises
        )

    async def mark_reviewed(
        self, held_id: int, *, actor: str, note: str | None = None
    ) -> HeldContact:
        """Mark a held contact read and filed, not delivered; audited."""
        return await self._resolve(held_id, HeldStatus.REVIEWED, actor=actor, note=note)

    async def _resolve(
        self,
        held_id: int,
        to: HeldStatus,
        *,
        actor: str,
        note: str | None,
        raises: str | None = None,
    ) -> HeldContact:
        async with self._audit_lock, _write(self._engine, f"marking contact {to}") as conn:
            now = self._clock()
            result, item = await held.resolve_held(
                conn, held_id, to, actor=actor, note=note, now=now, raises=raises
            )
            await audit_db.append_audit_items(conn, [item], now=now)
        return result

    # ------------------------------------------------------------------ notices

    async def claim_notice(
        self, *, customer_id: str, channel: str, day: date, contact_key: str
    ) -> bool:
        """May this contact tell the customer what is allowed instead? Once per day.

        Looked up first without the write lock: after the first contact of the day the
        answer is already there, and on SQLite every write queues behind the evidence.
        A claim this process has seen is remembered, since claims are never undone.
        """
        slot = (customer_id, channel, day)
        claimed_by = self._claimed.get(slot)
        if claimed_by is None:
            async with read_transaction(self._engine, "reading notices") as conn:
                claimed_by = await notices.claimed_by(
                    conn, customer_id=customer_id, channel=channel, day=day
                )
        if claimed_by is None:
            async with _write(self._engine, "claiming a notice") as conn:
                claimed = await notices.claim_notice(
                    conn,
                    customer_id=customer_id,
                    channel=channel,
                    day=day,
                    contact_key=contact_key,
                    now=self._clock(),
                )
            if not claimed:
                return False  # another gateway's claim: read it next time
            claimed_by = contact_key
        if len(self._claimed) >= MAX_REMEMBERED_CLAIMS:
            self._claimed.clear()
        self._claimed[slot] = claimed_by
        return claimed_by == contact_key

    async def notice_claimed_by(self, contact_key: str) -> bool:
        """Whether ``contact_key`` holds a day's notice claim (read only, for retries)."""
        async with read_transaction(self._engine, "reading notice claims") as conn:
            return await notices.claims_by_contact(conn, contact_key)

    async def set_sms_opt_out(self, number: str, opted_out: bool) -> None:
        """Record a STOP (True) or START (False) from ``number``."""
        async with _write(self._engine, "recording an SMS opt-out") as conn:
            await notices.set_opt_out(conn, number, opted_out, self._clock())

    async def sms_opted_out(self, number: str) -> bool:
        async with read_transaction(self._engine, "reading SMS opt-outs") as conn:
            return await notices.is_opted_out(conn, number)

    # ------------------------------------------------------------------- audit

    async def append_audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        before: Any = None,
        after: Any = None,
    ) -> AuditRecord:
        """Record who did what to which thing, with JSON snapshots before and after."""
        item = AuditItem(actor, action, entity, entity_id, before, after)
        async with self._audit_lock, _write(self._engine, "writing the audit log") as conn:
            (record,) = await audit_db.append_audit_items(conn, [item], now=self._clock())
        return record

    async def list_audit(self, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
        """Newest first."""
        async with read_transaction(self._engine, "reading the audit log") as conn:
            return await audit_db.list_audit(conn, limit=limit, offset=offset)

    async def verify_audit(self, *, batch: int = 2000) -> VerifyResult:
        """Recompute the audit chain, as :meth:`verify_evidence` does for evidence."""
        async with read_transaction(self._engine, "verifying the audit log", snapshot=True) as c:
            return await verify_chain(c, audit_log, audit_head, audit_hashed_fields, batch=batch)
