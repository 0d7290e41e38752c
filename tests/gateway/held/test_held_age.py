"""The read-by rule for held contact (gateway.held.age), table-driven, with the real
``holidays`` data: weekends and the nation's bank holidays are not working days, the day
held does not count, and the item is overdue from local midnight after its last day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config.org_settings import Nation
from gateway.held.age import HeldAges

LONDON = ZoneInfo("Europe/London")


def ages(now: datetime, read_within: int = 1, nation: Nation = "ENG") -> HeldAges:
    return HeldAges(now=now, read_within=read_within, zone=LONDON, nation=nation)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@pytest.mark.parametrize(
    ("held_at", "read_within", "nation", "overdue_from"),
    [
        # Tuesday, an ordinary week: Wednesday is the working day, overdue Thursday 00:00.
        (london(2026, 11, 24, 10, 30), 1, "ENG", london(2026, 11, 26)),
        # Friday before the English late-summer bank holiday (Monday 31 August 2026):
        # Saturday, Sunday and Monday do not count, so it must be read by Tuesday's end.
        (london(2026, 8, 28, 14, 0), 1, "ENG", london(2026, 9, 2)),
        (london(2026, 8, 29, 9, 0), 1, "ENG", london(2026, 9, 2)),  # held on the Saturday
        (london(2026, 8, 28, 14, 0), 2, "ENG", london(2026, 9, 3)),
        # Scotland's summer bank holiday was 3 August: 31 August is a working day there.
        (london(2026, 8, 28, 14, 0), 1, "SCT", london(2026, 9, 1)),
        # Christmas Eve: Friday 25th and Monday 28th (Boxing Day observed) are holidays.
        (london(2026, 12, 24, 16, 0), 1, "ENG", london(2026, 12, 30)),
        # 23:30 UTC on Monday 1 June is 00:30 on Tuesday in London: the local day counts.
        (datetime(2026, 6, 1, 23, 30, tzinfo=UTC), 1, "ENG", london(2026, 6, 4)),
    ],
)
def test_read_by(
    held_at: datetime, read_within: int, nation: Nation, overdue_from: datetime
) -> None:
    at = ages(held_at, read_within, nation)
    assert at.read_by(held_at) == overdue_from
    assert not ages(overdue_from - timedelta(seconds=1), read_within, nation).overdue(
        held_at, "held"
    )
    assert ages(overdue_from, read_within, nation).overdue(held_at, "held")
    # Read (or released) items are never overdue, however old.
    assert not ages(overdue_from + timedelta(days=30)).overdue(held_at, "reviewed")
    assert not ages(overdue_from + timedelta(days=30)).overdue(held_at, "released")


@pytest.mark.parametrize(
    ("now", "shown", "days"),
    [
        (london(2026, 8, 28, 17, 0), "held today", 0),
        (london(2026, 8, 30, 12, 0), "held less than a working day ago", 0),  # Sunday
        (london(2026, 8, 31, 12, 0), "held less than a working day ago", 0),  # bank holiday
        (london(2026, 9, 1, 9, 0), "held 1 working day ago", 1),
        (london(2026, 9, 2, 0, 0), "held 2 working days ago", 2),
    ],
)
def test_age_in_working_days(now: datetime, shown: str, days: int) -> None:
    held_at = london(2026, 8, 28, 14, 0)
    assert ages(now).describe(held_at) == shown
    assert ages(now).working_days(held_at) == days
    assert ages(now).age_seconds(held_at) == int((now - held_at).total_seconds())


def test_age_is_never_negative() -> None:
    held_at = london(2026, 8, 28, 14, 0)
    assert ages(held_at - timedelta(hours=1)).age_seconds(held_at) == 0


@given(
    now=st.datetimes(
        min_value=datetime(2026, 1, 10), max_value=datetime(2027, 12, 20), timezones=st.just(UTC)
    ),
    back=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=45)),
    read_within=st.integers(min_value=1, max_value=5),
    nation=st.sampled_from(["ENG", "SCT", "WLS", "NIR"]),
)
def test_the_store_filter_agrees_with_the_rule(
    now: datetime, back: timedelta, read_within: int, nation: Nation
) -> None:
    """``held_before`` (what the store filters on) selects exactly the overdue items."""
    at = ages(now, read_within, nation)
    held_at = now - back
    assert (held_at < at.held_before()) == at.overdue(held_at, "held")
