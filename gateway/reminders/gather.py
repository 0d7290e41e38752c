"""What is one person's to do, as of a day: the facts a reminder digest lists.

"Theirs": the customers assigned to them, and the restrictions they proposed or on which
they are the named officer (matched by their email address). An authoriser also gets
every review due and every appeal awaiting a decision, because deciding those is their
role. Held contact past its read-by deadline (``gateway.held.age``) and warning flags
due for review (``flag_review_period``) are listed for the customers that are theirs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config.org_settings import OrgSettings, bank_holidays
from gateway.held.age import HeldAges
from gateway.store.accounts.users import User
from gateway.store.admin_schema import appeals, customer_assignments, customer_flags
from gateway.store.schema import held_contact, officers, restrictions
from rules.lifecycle import add_period
from rules.roles import Role

# How far ahead a review counts as "due": the dashboard's 14 days.
DUE_WITHIN = timedelta(days=14)
LIVE = ("active", "suspended")

# One person's count of letters not yet sent (the connection and the user's name): the
# app wires ``gateway.store.casework.letters.letters_not_sent``. None: no section.
LetterSeam = Callable[[AsyncConnection, str], Awaitable[int]]


@dataclass
class Digest:
    """One person's reminders; empty when there is nothing of theirs to do."""

    reviews: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    letters_not_sent: int = 0

    @property
    def items(self) -> int:
        parts = (self.reviews, self.appeals, self.held, self.flags)
        return sum(len(part) for part in parts) + self.letters_not_sent

    def __bool__(self) -> bool:
        return self.items > 0


async def _theirs(conn: AsyncConnection, user: User) -> tuple[set[str], set[str]]:
    """(customer ids, restriction ids) that are the person's own."""
    customers = {
        str(c)
        for c in (
            await conn.execute(
                select(customer_assignments.c.customer_id).where(
                    customer_assignments.c.user_name == user.name
                )
            )
        ).scalars()
    }
    own_officers: set[str] = set()
    if user.email:
        found = await conn.execute(select(officers.c.id, officers.c.email))
        own_officers = {str(i) for i, e in found.all() if str(e).lower() == user.email.lower()}
    restriction_ids: set[str] = set()
    rows = await conn.execute(
        select(restrictions.c.id, restrictions.c.customer_id, restrictions.c.data).where(
            restrictions.c.status.in_(LIVE)
        )
    )
    for rid, customer_id, data in rows.all():
        proposer = str(data.get("proposed_by") or "").casefold()
        if proposer == user.name.casefold() or data.get("named_officer") in own_officers:
            restriction_ids.add(str(rid))
            customers.add(str(customer_id))
        elif str(customer_id) in customers:
            restriction_ids.add(str(rid))
    return customers, restriction_ids


async def gather(
    conn: AsyncConnection,
    user: User,
    *,
    today: date,
    org: OrgSettings,
    ages: HeldAges,
    letters: LetterSeam | None = None,
) -> Digest:
    """Everything of ``user``'s to remind them of, as of ``today`` (a local date)."""
    customers, own = await _theirs(conn, user)
    decides = user.role is Role.AUTHORISER
    holidays = bank_holidays(org.bank_holidays, today)
    digest = Digest()
    rows = await conn.execute(
        select(restrictions.c.id, restrictions.c.customer_id, restrictions.c.review_on)
        .where(restrictions.c.status.in_(LIVE), restrictions.c.review_on.is_not(None))
        .order_by(restrictions.c.review_on, restrictions.c.id)
    )
    for rid, customer_id, review_on in rows.all():
        if review_on <= today + DUE_WITHIN and (decides or str(rid) in own):
            digest.reviews.append(
                {
                    "restriction_id": str(rid),
                    "customer_id": str(customer_id),
                    "review_on": review_on,
                    "overdue": review_on < today,
                }
            )
    query = (
        select(appeals, restrictions.c.customer_id)
        .join(restrictions, restrictions.c.id == appeals.c.restriction_id)
        .where(appeals.c.status == "open")
        .order_by(appeals.c.lodged_on, appeals.c.id)
    )
    for row in (await conn.execute(query)).mappings():
        if not (decides or str(row["restriction_id"]) in own):
            continue
        decide_by = add_period(row["lodged_on"], org.appeal_decision_period, holidays)
        digest.appeals.append(
            {
                "id": int(row["id"]),
                "restriction_id": str(row["restriction_id"]),
                "customer_id": str(row["customer_id"]),
                "lodged_on": row["lodged_on"],
                "decide_by": decide_by,
                "notify_by": add_period(decide_by, org.appeal_notice_period, holidays),
                "overdue": decide_by < today,
            }
        )
    if customers:
        found = await conn.execute(
            select(held_contact)
            .where(
                held_contact.c.status == "held",
                held_contact.c.created_at < ages.held_before(),
                held_contact.c.customer_id.in_(sorted(customers)),
            )
            .order_by(held_contact.c.id)
        )
        for row in found.mappings():
            digest.held.append(
                {
                    "id": int(row["id"]),
                    "customer_id": str(row["customer_id"]),
                    "channel": str(row["channel"]),
                    "held_at": row["created_at"],
                    "read_by": ages.read_by(row["created_at"]),
                }
            )
        flags = await conn.execute(
            select(customer_flags.c.id, customer_flags.c.customer_id, customer_flags.c.level)
            .add_columns(customer_flags.c.category, customer_flags.c.created_at)
            .where(
                customer_flags.c.removed_at.is_(None),
                customer_flags.c.customer_id.in_(sorted(customers)),
            )
            .order_by(customer_flags.c.id)
        )
        for fid, customer_id, level, category, created_at in flags.all():
            due = flag_review_on(created_at, org, ages)
            if due <= today + DUE_WITHIN:
                digest.flags.append(
                    {
                        "id": int(fid),
                        "customer_id": str(customer_id),
                        "level": str(level),
                        "category": str(category),
                        "review_on": due,
                        "overdue": due < today,
                    }
                )
    if letters is not None:
        digest.letters_not_sent = await letters(conn, user.name)
    return digest


def flag_review_on(created_at: datetime, org: OrgSettings, ages: HeldAges) -> date:
    """When a warning flag added at ``created_at`` is due for review."""
    added = created_at.astimezone(ages.zone).date()
    return add_period(added, org.flag_review_period, bank_holidays(org.bank_holidays, added))
