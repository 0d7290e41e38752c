"""Letters to customers, the exception to notice, and the language letters are written in.

A letter row is written once, complete (its PDF and the PDF's SHA-256), in the caller's
transaction with its audit entry; after that only its delivery status moves (to post ->
posted). The PDF itself never goes into the audit log, its hash does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config.org_settings import org_settings_from
from gateway.store.admin_schema import (
    customer_languages,
    incidents,
    letter_incidents,
    letters,
    notice_exceptions,
    restriction_proposals,
)
from gateway.store.casework.admin import Conflict, Tx
from gateway.store.casework.casework import read_settings
from gateway.store.errors import NotFound
from gateway.store.schema import restrictions

# What a listing shows: everything but the PDF and the text.
_LISTED = [c for c in letters.c if c.name not in ("pdf", "body_text")]
# Statuses that mean the customer has been (or is being) told in writing.
DELIVERED = ("sent", "posted")


def _letter(row: Mapping[Any, Any]) -> dict[str, Any]:
    return dict(row)


async def insert_letter(
    tx: Tx, values: dict[str, Any], incident_ids: tuple[int, ...] = ()
) -> dict[str, Any]:
    """Store a whole letter, and the incidents it names, and audit it (with its hash, not
    its PDF)."""
    result = await tx.conn.execute(
        insert(letters).values(**values, created_by=tx.actor, created_at=tx.now)
    )
    key = result.inserted_primary_key
    assert key is not None
    for incident_id in incident_ids:
        await tx.conn.execute(
            insert(letter_incidents).values(letter_id=int(key[0]), incident_id=incident_id)
        )
    letter = await get_letter(tx.conn, int(key[0]))
    action = "letter_sent" if letter["status"] == "sent" else "letter_written"
    tx.record(action, "letter", str(letter["id"]), None, letter)
    return letter


async def get_letter(conn: AsyncConnection, letter_id: int) -> dict[str, Any]:
    """A letter's record (with the ids of the incidents it names), without its PDF or
    text."""
    row = (await conn.execute(select(*_LISTED).where(letters.c.id == letter_id))).mappings().first()
    if row is None:
        raise NotFound(f"there is no letter {letter_id}")
    return (await _with_incidents(conn, [_letter(row)]))[0]


async def _with_incidents(
    conn: AsyncConnection, found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    ids = [letter["id"] for letter in found]
    named: dict[int, list[int]] = {}
    if ids:
        query = (
            select(letter_incidents.c.letter_id, letter_incidents.c.incident_id)
            .where(letter_incidents.c.letter_id.in_(ids))
            .order_by(letter_incidents.c.incident_id)
        )
        for letter_id, incident_id in (await conn.execute(query)).all():
            named.setdefault(int(letter_id), []).append(int(incident_id))
    return [{**letter, "incidents": named.get(letter["id"], [])} for letter in found]


async def warnings_of(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    """The customer's warning letters, oldest first, each with the incidents it names
    (their records) and ``warned_at``: when it reached them (emailed, or marked posted;
    None while it waits to be posted). The warning stage is the first delivered one."""
    query = (
        select(*_LISTED)
        .where(letters.c.customer_id == customer_id, letters.c.kind == "warning")
        .order_by(letters.c.id)
    )
    found = await _with_incidents(
        conn, [_letter(row) for row in (await conn.execute(query)).mappings()]
    )
    wanted = sorted({i for letter in found for i in letter["incidents"]})
    records: dict[int, dict[str, Any]] = {}
    if wanted:
        rows = await conn.execute(select(incidents).where(incidents.c.id.in_(wanted)))
        records = {int(r["id"]): dict(r) for r in rows.mappings()}
    return [
        {
            **letter,
            "warned_at": letter["sent_at"] if letter["status"] in DELIVERED else None,
            "incident_records": [records[i] for i in letter["incidents"] if i in records],
        }
        for letter in found
    ]


async def letter_pdf(conn: AsyncConnection, letter_id: int) -> tuple[dict[str, Any], bytes]:
    """A letter's record and its stored PDF (the reprint is the letter as sent)."""
    letter = await get_letter(conn, letter_id)
    query = select(letters.c.pdf).where(letters.c.id == letter_id)
    return letter, bytes((await conn.execute(query)).scalar_one())


async def list_letters(
    conn: AsyncConnection,
    *,
    customer_id: str | None = None,
    restriction_id: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Letters, newest first, for a customer or a restriction."""
    query = select(*_LISTED).order_by(letters.c.id.desc()).limit(limit).offset(offset)
    if customer_id is not None:
        query = query.where(letters.c.customer_id == customer_id)
    if restriction_id is not None:
        query = query.where(letters.c.restriction_id == restriction_id)
    return await _with_incidents(
        conn, [_letter(row) for row in (await conn.execute(query)).mappings()]
    )


async def letters_waiting(
    conn: AsyncConnection, *, user_name: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """What is written but has not reached the customer: letters kept to print and post
    and not yet marked posted (``to_post``), and draft restrictions that wait for their
    decision letter before they can be authorised (``awaiting_letter``: no decision
    letter for the draft's current version emailed or posted, no signed-off exception,
    and the organisation requires written notice). With ``user_name``, only that
    person's: the letters they wrote and the drafts they proposed."""
    query = select(*_LISTED).where(letters.c.status == "to_post").order_by(letters.c.id)
    if user_name is not None:
        query = query.where(letters.c.created_by == user_name)
    to_post = [_letter(row) for row in (await conn.execute(query)).mappings()]
    awaiting: list[dict[str, Any]] = []
    if org_settings_from(await read_settings(conn)).written_notice_required:
        drafts = (
            select(
                restrictions.c.id,
                restrictions.c.customer_id,
                restrictions.c.version,
                restriction_proposals.c.proposed_by,
            )
            .join(
                restriction_proposals,
                restriction_proposals.c.restriction_id == restrictions.c.id,
            )
            .where(restrictions.c.status == "draft")
            .order_by(restrictions.c.id)
        )
        if user_name is not None:
            drafts = drafts.where(restriction_proposals.c.proposed_by == user_name)
        for rid, customer_id, version, proposed_by in (await conn.execute(drafts)).all():
            exception = await get_notice_exception(conn, str(rid))
            if exception is not None and exception["signed_off_by"] is not None:
                continue
            if await delivered_decision_letter(conn, str(rid), int(version)) is None:
                awaiting.append(
                    {
                        "restriction_id": str(rid),
                        "customer_id": str(customer_id),
                        "proposed_by": str(proposed_by),
                        "exception_asked": exception is not None,
                    }
                )
    return {"to_post": to_post, "awaiting_letter": awaiting}


async def letters_not_sent(conn: AsyncConnection, user_name: str) -> int:
    """One person's letters not yet sent, for their reminder digest: their letters to
    post and their drafts waiting for a decision letter (``letters_waiting``)."""
    waiting = await letters_waiting(conn, user_name=user_name)
    return len(waiting["to_post"]) + len(waiting["awaiting_letter"])


async def mark_posted(tx: Tx, letter_id: int) -> dict[str, Any]:
    """An officer printed and posted a letter written for the post."""
    before = await get_letter(tx.conn, letter_id)
    if before["delivery"] != "post":
        raise Conflict(f"letter {letter_id} was sent by email: there is nothing to post")
    if before["status"] == "posted":
        raise Conflict(f"letter {letter_id} was already marked posted by {before['posted_by']}")
    await tx.conn.execute(
        update(letters)
        .where(letters.c.id == letter_id)
        .values(status="posted", sent_at=tx.now, posted_by=tx.actor)
    )
    after = await get_letter(tx.conn, letter_id)
    tx.record("letter_posted", "letter", str(letter_id), before, after)
    return after


async def delivered_decision_letter(
    conn: AsyncConnection, restriction_id: str, version: int
) -> dict[str, Any] | None:
    """The latest decision letter written for this version of the restriction that has
    been sent or posted, if any."""
    query = (
        select(*_LISTED)
        .where(
            letters.c.restriction_id == restriction_id,
            letters.c.kind == "decision",
            letters.c.restriction_version == version,
            letters.c.status.in_(DELIVERED),
        )
        .order_by(letters.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _letter(row)


async def get_notice_exception(conn: AsyncConnection, restriction_id: str) -> dict[str, Any] | None:
    query = select(notice_exceptions).where(notice_exceptions.c.restriction_id == restriction_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def propose_notice_exception(tx: Tx, restriction_id: str, reasons: str) -> dict[str, Any]:
    """Ask for the exception (replacing an earlier request not yet signed off)."""
    before = await get_notice_exception(tx.conn, restriction_id)
    if before is not None and before["signed_off_by"] is not None:
        raise Conflict(
            f"the exception to notice for {restriction_id} was already signed off by "
            f"{before['signed_off_by']}"
        )
    await tx.conn.execute(
        delete(notice_exceptions).where(notice_exceptions.c.restriction_id == restriction_id)
    )
    await tx.conn.execute(
        insert(notice_exceptions).values(
            restriction_id=restriction_id, reasons=reasons, proposed_by=tx.actor, proposed_at=tx.now
        )
    )
    after = await get_notice_exception(tx.conn, restriction_id)
    tx.record("notice_exception_proposed", "restriction", restriction_id, before, after)
    assert after is not None
    return after


async def sign_off_notice_exception(tx: Tx, restriction_id: str, reason: str) -> dict[str, Any]:
    before = await get_notice_exception(tx.conn, restriction_id)
    if before is None:
        raise NotFound(f"no exception to notice has been asked for restriction {restriction_id}")
    if before["signed_off_by"] is not None:
        raise Conflict(f"it was already signed off by {before['signed_off_by']}")
    await tx.conn.execute(
        update(notice_exceptions)
        .where(notice_exceptions.c.restriction_id == restriction_id)
        .values(signed_off_by=tx.actor, signed_off_at=tx.now, sign_off_reason=reason)
    )
    after = await get_notice_exception(tx.conn, restriction_id)
    tx.record("notice_exception_signed_off", "restriction", restriction_id, before, after)
    assert after is not None
    return after


async def get_language(conn: AsyncConnection, customer_id: str) -> str | None:
    query = select(customer_languages.c.language).where(
        customer_languages.c.customer_id == customer_id
    )
    value = (await conn.execute(query)).scalar()
    return None if value is None else str(value)


async def set_language(tx: Tx, customer_id: str, language: str) -> None:
    before = await get_language(tx.conn, customer_id)
    if before == language:
        return
    await tx.conn.execute(
        delete(customer_languages).where(customer_languages.c.customer_id == customer_id)
    )
    await tx.conn.execute(
        insert(customer_languages).values(
            customer_id=customer_id, language=language, updated_by=tx.actor, updated_at=tx.now
        )
    )
    tx.record(
        "letter_language", "customer", customer_id, {"language": before}, {"language": language}
    )
