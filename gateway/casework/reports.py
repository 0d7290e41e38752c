"""Committee reports: customers under restriction per quarter, new / lapsed / revoked
restrictions, reviews done late, appeals and their outcomes.

Read-only counts over the restrictions' versions (``restriction_history``, written by
every change: the API's lifecycle and ``rules import`` alike) and the reviews and
appeals. A restriction is "in force" while a version of it is active, from its
``starts`` to its ``ends``; that is what a committee means by "under restriction this
quarter", however the restriction came to be. A version counts from when it was
written, except one that arrived already active (only an import can bring one): the
file says it was authorised and in force, so it counts from its ``starts``. New means
authorised (a draft, or nothing, became active); lapsed and revoked are changes of
status. Shared by the web UI and ``contact-gateway report``.

Besides restrictions: incidents by category (``incidents``, recorded for any customer),
warning flags added by level, appeals decided by outcome with the working days each
took to decide, and reviews done late; and letters (``letter_figures``): a letter counts
in the quarter it reached the customer (emailed, or marked printed and posted), so one
written for the post and not yet posted is named as still to post, not counted as sent;
a warning letter is the warning stage; "withheld" is a restriction authorised into
force in the quarter under a signed-off exception to notice (its transition records
``notice: exception``), the one case where the customer was deliberately not told.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from itertools import groupby, pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config.org_settings import Nation, bank_holidays
from gateway.store.admin_schema import (
    appeals,
    customer_flags,
    incidents,
    letters,
    restriction_transitions,
    reviews,
)
from gateway.store.schema import restriction_history

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip().upper())
        if match is None or not 1900 <= int(match[1]) <= 9998:
            raise ValueError(f"'{text}' is not a quarter like 2026Q4")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The quarter as instants: local midnight of its first day to the next's."""
        start = datetime.combine(self.first_day, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.next.first_day, time(0), zone).astimezone(UTC)
        return start, end

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


@dataclass(frozen=True)
class LetterFigures:
    """The quarter's letters: warning letters sent or posted (the warning stage), all
    letters sent or posted, and restrictions put in force without a letter under a
    signed-off exception to notice ("withheld"); with the detail each row shows."""

    warnings: int
    sent: int
    withheld: int
    warned: tuple[str, ...] = ()  # customers sent a warning letter
    sent_by_kind: dict[str, int] = field(default_factory=dict)
    emailed: int = 0
    posted: int = 0
    to_post: int = 0  # written in the quarter for the post and not marked posted
    withheld_detail: tuple[str, ...] = ()  # "R-1 (signed off by auth3)"


def working_days_between(start: date, end: date, nation: Nation) -> int:
    """Working days after ``start`` up to and including ``end`` (0 the same day)."""
    holidays = bank_holidays(nation, start) | bank_holidays(nation, end)
    count, day = 0, start
    while day < end:
        day = date.fromordinal(day.toordinal() + 1)
        count += day.weekday() < 5 and day not in holidays
    return count


@dataclass
class Report:
    """One quarter's figures, and the rows behind them."""

    quarter: Quarter
    customers_under_restriction: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    reviews_late: list[dict[str, Any]] = field(default_factory=list)
    reviews_done: int = 0
    appeals_lodged: list[dict[str, Any]] = field(default_factory=list)
    appeal_outcomes: dict[str, int] = field(default_factory=dict)
    # Working days each decided appeal took, lodged to decided, by outcome.
    appeal_days: dict[str, list[int]] = field(default_factory=dict)
    incidents_by_category: dict[str, int] = field(default_factory=dict)
    flags_by_level: dict[str, int] = field(default_factory=dict)
    letters: LetterFigures = field(default_factory=lambda: LetterFigures(0, 0, 0))

    def rows(self) -> list[tuple[str, int | str, str]]:
        """(measure, count, detail) — the on-screen table and the CSV."""
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(self.appeal_outcomes.items()))
        return [*self._restriction_rows(outcomes), *self._casework_rows()]

    def _casework_rows(self) -> list[tuple[str, int | str, str]]:
        def spread(counts: dict[str, int]) -> str:
            return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(counts.items()))

        rows: list[tuple[str, int | str, str]] = [
            (
                "Incidents recorded",
                sum(self.incidents_by_category.values()),
                spread(self.incidents_by_category),
            ),
            ("Warning flags added", sum(self.flags_by_level.values()), spread(self.flags_by_level)),
        ]
        for outcome, days in sorted(self.appeal_days.items()):
            rows.append(
                (
                    f"Appeals {outcome}: working days to decide",
                    len(days),
                    f"average {sum(days) / len(days):.1f}, longest {max(days)}",
                )
            )
        figures = self.letters
        sent = [spread(figures.sent_by_kind)] if figures.sent_by_kind else []
        if figures.sent:
            sent.append(f"emailed {figures.emailed}, posted {figures.posted}")
        if figures.to_post:
            sent.append(f"{figures.to_post} more written and not yet posted")
        rows += [
            ("Warning letters sent", figures.warnings, ", ".join(figures.warned)),
            ("Letters sent", figures.sent, "; ".join(sent)),
            (
                "Letters withheld (exception to notice)",
                figures.withheld,
                ", ".join(figures.withheld_detail),
            ),
        ]
        return rows

    def _restriction_rows(self, outcomes: str) -> list[tuple[str, int | str, str]]:
        return [
            (
                "Customers under restriction",
                len(self.customers_under_restriction),
                ", ".join(self.customers_under_restriction),
            ),
            ("New restrictions (authorised)", len(self.new), ", ".join(self.new)),
            ("Restrictions lapsed at review", len(self.lapsed), ", ".join(self.lapsed)),
            ("Restrictions revoked", len(self.revoked), ", ".join(self.revoked)),
            ("Reviews done", self.reviews_done, ""),
            (
                "Reviews done late",
                len(self.reviews_late),
                ", ".join(
                    f"{r['restriction_id']} (due {r['due_on']}, done {r['done_on']})"
                    for r in self.reviews_late
                ),
            ),
            (
                "Appeals lodged",
                len(self.appeals_lodged),
                ", ".join(str(a["restriction_id"]) for a in self.appeals_lodged),
            ),
            ("Appeals decided", sum(self.appeal_outcomes.values()), outcomes),
        ]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["quarter", "measure", "count", "detail"])
        for measure, count, detail in self.rows():
            writer.writerow([str(self.quarter), measure, count, detail])
        return out.getvalue()


def _in(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end


async def build_report(
    conn: AsyncConnection,
    quarter: Quarter,
    zone: ZoneInfo,
    *,
    nation: Nation = "ENG",
) -> Report:
    """The figures for ``quarter`` (quarters are local, in the organisation's zone;
    ``nation``'s bank holidays are not working days when timing appeal decisions)."""
    start, end = quarter.span(zone)
    report = Report(quarter, letters=await letter_figures(conn, start, end))
    versions = (
        await conn.execute(
            select(
                restriction_history.c.restriction_id,
                restriction_history.c.at,
                restriction_history.c.data,
            ).order_by(restriction_history.c.restriction_id, restriction_history.c.version)
        )
    ).all()
    under: set[str] = set()
    for rid, steps in groupby(versions, key=lambda row: str(row[0])):
        for change in _changes([(at, data) for _, at, data in steps]):
            if change.in_force(start, end):
                under.add(change.customer)
            if not _in(change.effective, start, end):
                continue
            if change.status == "active" and change.before in (None, "draft"):
                report.new.append(rid)
            elif change.before is not None and change.status != change.before:
                if change.status == "lapsed":
                    report.lapsed.append(rid)
                elif change.status == "revoked":
                    report.revoked.append(rid)
    report.customers_under_restriction = sorted(under)
    for row in (await conn.execute(select(reviews))).mappings():
        done_on = row["reviewed_at"].astimezone(zone).date()
        if not _in(row["reviewed_at"], start, end):
            continue
        report.reviews_done += 1
        if row["due_on"] is not None and done_on > row["due_on"]:
            report.reviews_late.append(
                {
                    "restriction_id": row["restriction_id"],
                    "due_on": row["due_on"],
                    "done_on": done_on,
                }
            )
    outcomes: Counter[str] = Counter()
    for row in (await conn.execute(select(appeals))).mappings():
        if quarter.first_day <= row["lodged_on"] < quarter.next.first_day:
            report.appeals_lodged.append(dict(row))
        if row["decided_at"] is not None and _in(row["decided_at"], start, end):
            outcome = str(row["outcome"])
            outcomes[outcome] += 1
            decided_on = row["decided_at"].astimezone(zone).date()
            report.appeal_days.setdefault(outcome, []).append(
                working_days_between(row["lodged_on"], decided_on, nation)
            )
    report.appeal_outcomes = dict(outcomes)
    categories: Counter[str] = Counter()
    happened = (incidents.c.occurred_at >= start) & (incidents.c.occurred_at < end)
    for (category,) in (await conn.execute(select(incidents.c.category).where(happened))).all():
        categories[str(category)] += 1
    report.incidents_by_category = dict(categories)
    levels: Counter[str] = Counter()
    added = (customer_flags.c.created_at >= start) & (customer_flags.c.created_at < end)
    for (level,) in (await conn.execute(select(customer_flags.c.level).where(added))).all():
        levels[str(level)] += 1
    report.flags_by_level = dict(levels)
    return report


async def letter_figures(conn: AsyncConnection, start: datetime, end: datetime) -> LetterFigures:
    """Letters that reached customers in ``[start, end)`` (``sent_at``: emailed, or
    marked posted), those written for the post then and not posted yet, and the
    restrictions authorised then under a signed-off exception to notice."""
    reached = (letters.c.sent_at >= start) & (letters.c.sent_at < end)
    query = (
        select(letters.c.kind, letters.c.delivery, letters.c.customer_id)
        .where(reached)
        .order_by(letters.c.sent_at, letters.c.id)
    )
    kinds: Counter[str] = Counter()
    how: Counter[str] = Counter()
    warned: list[str] = []
    for kind, delivery, customer_id in (await conn.execute(query)).all():
        kinds[str(kind)] += 1
        how[str(delivery)] += 1
        if kind == "warning" and str(customer_id) not in warned:
            warned.append(str(customer_id))
    waiting = (
        (letters.c.created_at >= start)
        & (letters.c.created_at < end)
        & (letters.c.status == "to_post")
    )
    to_post = len((await conn.execute(select(letters.c.id).where(waiting))).all())
    authorised = (
        (restriction_transitions.c.action == "authorise")
        & (restriction_transitions.c.at >= start)
        & (restriction_transitions.c.at < end)
    )
    withheld: list[str] = []
    moves = (
        select(restriction_transitions.c.restriction_id, restriction_transitions.c.details)
        .where(authorised)
        .order_by(restriction_transitions.c.at, restriction_transitions.c.id)
    )
    for rid, details in (await conn.execute(moves)).all():
        notice: dict[str, Any] = details or {}
        if notice.get("notice") == "exception":
            withheld.append(f"{rid} (signed off by {notice.get('exception_signed_off_by')})")
    return LetterFigures(
        warnings=kinds["warning"],
        sent=sum(kinds.values()),
        withheld=len(withheld),
        warned=tuple(warned),
        sent_by_kind=dict(kinds),
        emailed=how["email"],
        posted=how["post"],
        to_post=to_post,
        withheld_detail=tuple(withheld),
    )


@dataclass(frozen=True)
class _Change:
    """One version of a restriction, from when it took effect until the next one did."""

    customer: str
    status: str
    before: str | None  # the previous version's status; None for the first version
    effective: datetime
    until: datetime | None
    starts: datetime | None
    ends: datetime | None

    def in_force(self, start: datetime, end: datetime) -> bool:
        """Was it in force (active, started, not ended) at some time in [start, end)?"""
        if self.status != "active":
            return False
        begin = max(self.effective, self.starts or self.effective)
        finish = min((t for t in (self.until, self.ends) if t is not None), default=None)
        return begin < end and (finish is None or (finish > start and begin < finish))


def _changes(steps: list[tuple[datetime, Any]]) -> list[_Change]:
    """A restriction's versions (when each was written, and its data), oldest first, as
    the spans each governed.

    Every way a restriction changes writes a version: the API's lifecycle and ``rules
    import`` alike (imports made before the import wrote lifecycle transitions too).
    A version takes effect when it was written, except a first version that is
    already active: only an import makes one (the API proposes a draft), and the file
    says it was authorised and in force from its ``starts``, so it counts from then.
    """
    changes: list[_Change] = []
    for index, (at, data) in enumerate(steps):
        status = str(data["status"])
        starts = _instant(data.get("starts"))
        effective = at
        if index == 0 and status == "active" and starts is not None:
            effective = min(at, starts)
        changes.append(
            _Change(
                customer=str(data["customer"]),
                status=status,
                before=changes[-1].status if changes else None,
                effective=effective,
                until=None,
                starts=starts,
                ends=_instant(data.get("ends")),
            )
        )
    return [replace(change, until=later.effective) for change, later in pairwise(changes)] + (
        changes[-1:]
    )


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
