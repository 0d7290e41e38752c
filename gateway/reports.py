"""Committee reports: customers under restriction per quarter, new / lapsed / revoked
restrictions, reviews done late, appeals and their outcomes.

Read-only counts over the lifecycle tables the administration API writes (transitions,
reviews, appeals). A restriction is "in force" during the spans between a transition
into ``active`` and the next transition out of it, from its ``starts``; that is what a
committee means by "under restriction this quarter". Shared by the web UI and
``contact-gateway report``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import appeals, restriction_transitions, reviews
from gateway.store.schema import restrictions

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

    def rows(self) -> list[tuple[str, int, str]]:
        """(measure, count, detail) — the on-screen table and the CSV."""
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(self.appeal_outcomes.items()))
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


async def build_report(conn: AsyncConnection, quarter: Quarter, zone: ZoneInfo) -> Report:
    """The figures for ``quarter`` (quarters are local, in the organisation's zone)."""
    start, end = quarter.span(zone)
    report = Report(quarter)
    owners = {
        str(row.id): (str(row.customer_id), row.starts, row.ends)
        for row in await conn.execute(
            select(
                restrictions.c.id,
                restrictions.c.customer_id,
                restrictions.c.starts,
                restrictions.c.ends,
            )
        )
    }
    moves = (
        (
            await conn.execute(
                select(restriction_transitions).order_by(
                    restriction_transitions.c.restriction_id,
                    restriction_transitions.c.at,
                    restriction_transitions.c.id,
                )
            )
        )
        .mappings()
        .all()
    )
    under: set[str] = set()
    opened: dict[str, datetime] = {}
    for move in moves:
        rid = str(move["restriction_id"])
        at: datetime = move["at"]
        if move["action"] == "authorise" and _in(at, start, end):
            report.new.append(rid)
        if move["action"] == "lapse" and _in(at, start, end):
            report.lapsed.append(rid)
        if move["to_status"] == "revoked" and _in(at, start, end):
            report.revoked.append(rid)
        if move["to_status"] == "active" and rid not in opened:
            opened[rid] = at
        elif (
            move["to_status"] != "active"
            and rid in opened
            and _overlaps(owners.get(rid), opened.pop(rid), at, start, end)
        ):
            under.add(owners[rid][0])
    for rid, since in opened.items():
        if _overlaps(owners.get(rid), since, None, start, end):
            under.add(owners[rid][0])
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
            outcomes[str(row["outcome"])] += 1
    report.appeal_outcomes = dict(outcomes)
    return report


def _overlaps(
    owner: tuple[str, Any, Any] | None,
    opened: datetime,
    closed: datetime | None,
    start: datetime,
    end: datetime,
) -> bool:
    """Was the restriction in force (authorised, started, not ended) inside [start, end)?"""
    if owner is None:
        return False
    _, starts, ends = owner
    begin = max(opened, _instant(starts) or opened)
    finish_candidates = [t for t in (closed, _instant(ends)) if t is not None]
    finish = min(finish_candidates) if finish_candidates else None
    return begin < end and (finish is None or finish > start) and (finish is None or begin < finish)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
