"""Call windows on the local wall clock, including the days the clocks change.

Europe/London changes at 01:00 UTC: on the last Sunday of March 01:00 GMT becomes
02:00 BST (wall times 01:00-01:59 never happen), on the last Sunday of October 02:00 BST
becomes 01:00 GMT (wall times 01:00-01:59 happen twice). Instants on those days are
written in UTC with the local reading beside them, because a local time alone cannot say
which 01:30 is meant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.models import CallWindow
from rules.windows import in_call_window, next_window

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # moves its clocks by 30 minutes


def _w(days: str, start: str, end: str) -> CallWindow:
    return CallWindow.model_validate({"days": days.split(), "start": start, "end": end})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def london(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON, fold=fold)


TUE = [_w("tue", "10:00", "12:00")]
FRI_NIGHT = [_w("fri", "22:00", "26:00")]
SUN_1_TO_3 = [_w("sun", "01:00", "03:00")]


# --- in_call_window -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "now", "inside"),
    [
        # Half-open: the start minute is in, the end minute is out.
        (TUE, london("2026-11-24 10:00"), True),
        (TUE, london("2026-11-24 09:59:59.999999"), False),
        (TUE, london("2026-11-24 11:59"), True),
        (TUE, london("2026-11-24 11:59:59.999999"), True),
        (TUE, london("2026-11-24 12:00"), False),
        (TUE, london("2026-11-25 10:30"), False),  # Wednesday
        (TUE, london("2026-11-17 10:30"), True),  # the week before
        # British Summer Time: 10:00 on the clock is 09:00 UTC.
        (TUE, utc("2026-07-14 09:00"), True),
        (TUE, utc("2026-07-14 11:00"), False),
        # Past midnight: the window belongs to Friday and covers early Saturday.
        (FRI_NIGHT, london("2026-11-27 21:59"), False),
        (FRI_NIGHT, london("2026-11-27 22:00"), True),
        (FRI_NIGHT, london("2026-11-27 23:59"), True),
        (FRI_NIGHT, london("2026-11-28 00:00"), True),
        (FRI_NIGHT, london("2026-11-28 01:30"), True),
        (FRI_NIGHT, london("2026-11-28 01:59"), True),
        (FRI_NIGHT, london("2026-11-28 02:00"), False),
        (FRI_NIGHT, london("2026-11-27 01:30"), False),  # Thursday night has no window
        (FRI_NIGHT, london("2026-11-29 01:30"), False),  # nor Saturday night
        ([_w("fri", "22:00", "24:00")], london("2026-11-27 23:59"), True),
        ([_w("fri", "22:00", "24:00")], london("2026-11-28 00:00"), False),
        # Several windows: any one will do.
        ([*TUE, _w("thu", "14:00", "16:00")], london("2026-11-26 15:00"), True),
        ([*TUE, _w("thu", "14:00", "16:00")], london("2026-11-26 11:00"), False),
        # No windows: calls are not limited to windows.
        ([], london("2026-11-25 03:00"), True),
        # Spring 2026: the clock reads 00:59 GMT, then 02:00 BST.
        (SUN_1_TO_3, utc("2026-03-29 00:59"), False),  # 00:59 GMT
        (SUN_1_TO_3, utc("2026-03-29 01:00"), True),  # 02:00 BST
        (SUN_1_TO_3, utc("2026-03-29 01:59"), True),  # 02:59 BST
        (SUN_1_TO_3, utc("2026-03-29 02:00"), False),  # 03:00 BST
        ([_w("sun", "00:00", "01:30")], utc("2026-03-29 00:59"), True),  # 00:59 GMT
        ([_w("sun", "00:00", "01:30")], utc("2026-03-29 01:00"), False),  # 02:00 BST
        ([_w("sat", "22:00", "26:00")], utc("2026-03-29 00:59"), True),  # 00:59 GMT
        ([_w("sat", "22:00", "26:00")], utc("2026-03-29 01:00"), False),  # 02:00 BST
        # Autumn 2026: 01:00-01:59 happens in BST, then again in GMT.
        ([_w("sun", "01:00", "02:00")], utc("2026-10-24 23:59"), False),  # 00:59 BST
        ([_w("sun", "01:00", "02:00")], utc("2026-10-25 00:00"), True),  # 01:00 BST
        ([_w("sun", "01:00", "02:00")], london("2026-10-25 01:30", fold=0), True),
        ([_w("sun", "01:00", "02:00")], london("2026-10-25 01:30", fold=1), True),
        ([_w("sun", "01:00", "02:00")], utc("2026-10-25 01:59"), True),  # 01:59 GMT
        ([_w("sun", "01:00", "02:00")], utc("2026-10-25 02:00"), False),  # 02:00 GMT
        (SUN_1_TO_3, utc("2026-10-25 00:00"), True),  # 01:00 BST
        (SUN_1_TO_3, utc("2026-10-25 02:59"), True),  # 02:59 GMT
        (SUN_1_TO_3, utc("2026-10-25 03:00"), False),  # 03:00 GMT
        # A window the repeated hour only partly overlaps is left and re-entered.
        ([_w("sun", "00:30", "01:30")], utc("2026-10-25 00:15"), True),  # 01:15 BST
        ([_w("sun", "00:30", "01:30")], utc("2026-10-25 00:45"), False),  # 01:45 BST
        ([_w("sun", "00:30", "01:30")], utc("2026-10-25 01:15"), True),  # 01:15 GMT
        ([_w("sun", "00:30", "01:30")], utc("2026-10-25 01:30"), False),  # 01:30 GMT
        ([_w("sun", "01:30", "02:30")], utc("2026-10-25 00:45"), True),  # 01:45 BST
        ([_w("sun", "01:30", "02:30")], utc("2026-10-25 01:15"), False),  # 01:15 GMT
        ([_w("sun", "01:30", "02:30")], utc("2026-10-25 01:30"), True),  # 01:30 GMT
        ([_w("sat", "22:00", "26:00")], utc("2026-10-25 01:30"), True),  # 01:30 GMT
        ([_w("sat", "22:00", "26:00")], utc("2026-10-25 02:00"), False),  # 02:00 GMT
        # 2027 changes: 28 March and 31 October.
        (SUN_1_TO_3, utc("2027-03-28 00:59"), False),  # 00:59 GMT
        (SUN_1_TO_3, utc("2027-03-28 01:00"), True),  # 02:00 BST
        (SUN_1_TO_3, utc("2027-03-28 02:00"), False),  # 03:00 BST
        (SUN_1_TO_3, utc("2027-10-30 23:59"), False),  # 00:59 BST
        (SUN_1_TO_3, utc("2027-10-31 00:30"), True),  # 01:30 BST
        (SUN_1_TO_3, utc("2027-10-31 01:30"), True),  # 01:30 GMT
        (SUN_1_TO_3, utc("2027-10-31 03:00"), False),  # 03:00 GMT
    ],
)
def test_in_call_window_london(windows: list[CallWindow], now: datetime, inside: bool) -> None:
    assert in_call_window(windows, now, LONDON) is inside


def test_window_inside_spring_gap_is_never_open() -> None:
    windows = [_w("sun", "01:15", "01:45")]
    day_start = utc("2026-03-28 23:00")
    minutes = [day_start + timedelta(minutes=m) for m in range(26 * 60)]
    assert [m for m in minutes if in_call_window(windows, m, LONDON)] == []
    # The same window a week later is an ordinary half hour.
    assert in_call_window(windows, utc("2026-04-05 00:15"), LONDON)  # 01:15 BST


@pytest.mark.parametrize(
    ("now", "london_inside", "new_york_inside"),
    [
        (utc("2026-11-24 10:30"), True, False),  # 10:30 GMT, 05:30 EST
        (utc("2026-11-24 15:30"), False, True),  # 15:30 GMT, 10:30 EST
        (utc("2026-11-24 17:00"), False, False),  # 17:00 GMT, 12:00 EST
        (utc("2026-07-14 14:30"), False, True),  # 15:30 BST, 10:30 EDT
    ],
)
def test_in_call_window_honours_the_zone(
    now: datetime, london_inside: bool, new_york_inside: bool
) -> None:
    assert in_call_window(TUE, now, LONDON) is london_inside
    assert in_call_window(TUE, now, NEW_YORK) is new_york_inside


def test_naive_now_is_refused() -> None:
    naive = datetime(2026, 11, 24, 10, 30)
    with pytest.raises(ValueError, match="time zone"):
        in_call_window(TUE, naive, LONDON)
    with pytest.raises(ValueError, match="time zone"):
        next_window(TUE, naive, LONDON)


# --- next_window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "now", "starts_at", "ends_at", "words"),
    [
        # Inside: the occurrence containing now, from its start.
        (TUE, london("2026-11-24 10:00"), "2026-11-24 10:00", "2026-11-24 12:00",
         "Tuesday 24 November between 10 am and 12 noon"),
        (TUE, london("2026-11-24 11:59"), "2026-11-24 10:00", "2026-11-24 12:00",
         "Tuesday 24 November between 10 am and 12 noon"),
        # Before it today, at its end, after it: today's, then next week's.
        (TUE, london("2026-11-24 09:59"), "2026-11-24 10:00", "2026-11-24 12:00",
         "Tuesday 24 November between 10 am and 12 noon"),
        (TUE, london("2026-11-24 12:00"), "2026-12-01 10:00", "2026-12-01 12:00",
         "Tuesday 1 December between 10 am and 12 noon"),
        (TUE, london("2026-11-25 08:00"), "2026-12-01 10:00", "2026-12-01 12:00",
         "Tuesday 1 December between 10 am and 12 noon"),
        # Across the week's end (Sunday night to Tuesday) and the year's end.
        (TUE, london("2026-11-29 23:59"), "2026-12-01 10:00", "2026-12-01 12:00",
         "Tuesday 1 December between 10 am and 12 noon"),
        (TUE, london("2026-12-30 09:00"), "2027-01-05 10:00", "2027-01-05 12:00",
         "Tuesday 5 January between 10 am and 12 noon"),
        # Summer time: the clock's 10:00 is 09:00 UTC.
        (TUE, london("2026-07-13 12:00"), "2026-07-14 09:00", "2026-07-14 11:00",
         "Tuesday 14 July between 10 am and 12 noon"),
        # Past midnight: Saturday 01:00 is inside Friday's window.
        (FRI_NIGHT, london("2026-11-28 01:00"), "2026-11-27 22:00", "2026-11-28 02:00",
         "Friday 27 November from 10 pm to 2 am the next day"),
        (FRI_NIGHT, london("2026-11-28 02:00"), "2026-12-04 22:00", "2026-12-05 02:00",
         "Friday 4 December from 10 pm to 2 am the next day"),
        # The soonest of several windows.
        ([_w("mon", "09:00", "17:00"), *FRI_NIGHT], london("2026-11-28 02:00"),
         "2026-11-30 09:00", "2026-11-30 17:00", "Monday 30 November between 9 am and 5 pm"),
        ([_w("mon", "09:00", "17:00"), *FRI_NIGHT], london("2026-11-30 17:00"),
         "2026-12-04 22:00", "2026-12-05 02:00",
         "Friday 4 December from 10 pm to 2 am the next day"),
        # Windows that start together or overlap: the longer one, whatever the order.
        ([_w("tue", "10:00", "11:00"), *TUE], london("2026-11-24 10:30"),
         "2026-11-24 10:00", "2026-11-24 12:00", "Tuesday 24 November between 10 am and 12 noon"),
        ([*TUE, _w("tue", "10:00", "11:00")], london("2026-11-24 10:30"),
         "2026-11-24 10:00", "2026-11-24 12:00", "Tuesday 24 November between 10 am and 12 noon"),
        ([_w("tue", "10:00", "11:00"), *TUE], london("2026-11-24 09:00"),
         "2026-11-24 10:00", "2026-11-24 12:00", "Tuesday 24 November between 10 am and 12 noon"),
        ([_w("tue", "09:00", "10:30"), *TUE], london("2026-11-24 10:15"),
         "2026-11-24 10:00", "2026-11-24 12:00", "Tuesday 24 November between 10 am and 12 noon"),
        # Spring 2026: a start in the gap becomes the jump (01:00 UTC, 02:00 BST) ...
        (SUN_1_TO_3, utc("2026-03-28 12:00"), "2026-03-29 01:00", "2026-03-29 02:00",
         "Sunday 29 March between 1 am and 3 am"),
        # ... so does an end in the gap ...
        ([_w("sun", "00:30", "01:30")], utc("2026-03-28 12:00"), "2026-03-29 00:30",
         "2026-03-29 01:00", "Sunday 29 March between 12:30 am and 1:30 am"),
        ([_w("sat", "22:00", "25:30")], utc("2026-03-28 12:00"), "2026-03-28 22:00",
         "2026-03-29 01:00", "Saturday 28 March from 10 pm to 1:30 am the next day"),
        # ... and a window wholly in the gap is skipped for next week's.
        ([_w("sun", "01:15", "01:45")], utc("2026-03-28 12:00"), "2026-04-05 00:15",
         "2026-04-05 00:45", "Sunday 5 April between 1:15 am and 1:45 am"),
        ([_w("sun", "01:15", "01:45"), _w("sun", "03:00", "04:00")], utc("2026-03-28 12:00"),
         "2026-03-29 02:00", "2026-03-29 03:00", "Sunday 29 March between 3 am and 4 am"),
        # Autumn 2026: the start is the first 01:00 (BST), the end the second (GMT).
        ([_w("sun", "01:00", "02:00")], utc("2026-10-24 12:00"), "2026-10-25 00:00",
         "2026-10-25 02:00", "Sunday 25 October between 1 am and 2 am"),
        ([_w("sun", "01:00", "01:30")], utc("2026-10-24 12:00"), "2026-10-25 00:00",
         "2026-10-25 01:30", "Sunday 25 October between 1 am and 1:30 am"),
        (SUN_1_TO_3, utc("2026-10-25 01:30"), "2026-10-25 00:00", "2026-10-25 03:00",
         "Sunday 25 October between 1 am and 3 am"),
        # Out of a partly repeated window, it opens again on the second pass.
        ([_w("sun", "01:00", "01:30")], utc("2026-10-25 00:45"), "2026-10-25 01:00",
         "2026-10-25 01:30", "Sunday 25 October between 1 am and 1:30 am"),  # at 01:45 BST
        ([_w("sun", "00:30", "01:30")], utc("2026-10-25 00:45"), "2026-10-25 01:00",
         "2026-10-25 01:30", "Sunday 25 October between 12:30 am and 1:30 am"),  # 01:45 BST
        ([_w("sun", "01:30", "02:30")], utc("2026-10-25 01:15"), "2026-10-25 01:30",
         "2026-10-25 02:30", "Sunday 25 October between 1:30 am and 2:30 am"),  # 01:15 GMT
        ([_w("sun", "01:30", "02:30")], utc("2026-10-25 00:45"), "2026-10-25 00:30",
         "2026-10-25 02:30", "Sunday 25 October between 1:30 am and 2:30 am"),  # 01:45 BST
        # 2027.
        (SUN_1_TO_3, utc("2027-03-27 12:00"), "2027-03-28 01:00", "2027-03-28 02:00",
         "Sunday 28 March between 1 am and 3 am"),
        (SUN_1_TO_3, utc("2027-10-30 12:00"), "2027-10-31 00:00", "2027-10-31 03:00",
         "Sunday 31 October between 1 am and 3 am"),
        (SUN_1_TO_3, utc("2027-10-31 03:00"), "2027-11-07 01:00", "2027-11-07 03:00",
         "Sunday 7 November between 1 am and 3 am"),
    ],
)  # fmt: skip
def test_next_window_london(
    windows: list[CallWindow], now: datetime, starts_at: str, ends_at: str, words: str
) -> None:
    occurrence = next_window(windows, now, LONDON)
    assert occurrence is not None
    assert (occurrence.starts_at, occurrence.ends_at) == (utc(starts_at), utc(ends_at))
    assert occurrence.starts_at.tzinfo is UTC
    assert occurrence.words == words
    assert words.startswith(occurrence.day)


@pytest.mark.parametrize(
    ("windows", "now", "starts_at", "ends_at", "day"),
    [
        (TUE, utc("2026-11-24 12:00"), "2026-11-24 15:00", "2026-11-24 17:00",
         "Tuesday 24 November"),
        (TUE, utc("2026-11-24 17:00"), "2026-12-01 15:00", "2026-12-01 17:00",
         "Tuesday 1 December"),
        # 8 March 2026: 02:00 EST becomes 03:00 EDT, so 02:00-03:00 never happens there.
        ([_w("sun", "02:00", "03:00")], utc("2026-03-07 12:00"), "2026-03-15 06:00",
         "2026-03-15 07:00", "Sunday 15 March"),
        # 1 November 2026: 02:00 EDT becomes 01:00 EST.
        ([_w("sun", "01:00", "02:00")], utc("2026-10-31 12:00"), "2026-11-01 05:00",
         "2026-11-01 07:00", "Sunday 1 November"),
    ],
)  # fmt: skip
def test_next_window_honours_the_zone(
    windows: list[CallWindow], now: datetime, starts_at: str, ends_at: str, day: str
) -> None:
    occurrence = next_window(windows, now, NEW_YORK)
    assert occurrence is not None
    assert (occurrence.starts_at, occurrence.ends_at) == (utc(starts_at), utc(ends_at))
    assert occurrence.day == day


def test_next_window_without_windows_is_none() -> None:
    assert next_window([], london("2026-11-24 10:30"), LONDON) is None


# --- properties -----------------------------------------------------------------------

ZONES = (LONDON, NEW_YORK, LORD_HOWE)


def _clock_changes(zone: ZoneInfo, year: int) -> list[datetime]:
    """Hours in ``year`` after which the zone's offset differs (found by a plain scan)."""
    hours = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    return [
        a
        for a, b in pairwise(hours)
        if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    ]


CHANGES = {zone.key: _clock_changes(zone, 2026) + _clock_changes(zone, 2027) for zone in ZONES}


def test_every_zone_has_its_clock_changes() -> None:
    assert all(len(changes) == 4 for changes in CHANGES.values())


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def windows_strategy(draw: st.DrawFn) -> list[CallWindow]:
    """1-3 windows, often on Sundays and in the small hours, when clocks change."""
    count = draw(st.integers(1, 3))
    out = []
    for _ in range(count):
        days = draw(
            st.sets(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1)
        ) | draw(st.sampled_from([set(), {"sun"}]))
        start = draw(st.one_of(st.integers(0, 24 * 60 - 1), st.integers(0, 4 * 60)))
        length = draw(st.one_of(st.integers(1, 24 * 60), st.integers(1, 3 * 60)))
        out.append(_w(" ".join(sorted(days)), _clock(start), _clock(start + length)))
    return out


@st.composite
def case_strategy(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone and an instant, half the time near a clock change (often within 3 hours)."""
    zone = draw(st.sampled_from(ZONES))
    ordinary = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
    near = st.builds(
        lambda change, seconds: change + timedelta(seconds=seconds),
        st.sampled_from(CHANGES[zone.key]),
        st.one_of(
            st.integers(-36 * 3600, 36 * 3600),
            st.integers(-36 * 60, 36 * 60).map(lambda m: m * 60),
            st.integers(-3 * 60, 3 * 60).map(lambda m: m * 60),
            st.integers(-3 * 3600, 3 * 3600),
        ),
    )
    return zone, draw(st.one_of(ordinary, near))


@settings(max_examples=300, deadline=None)
@given(windows=windows_strategy(), case=case_strategy())
def test_told_window_contains_now_exactly_when_inside(
    windows: list[CallWindow], case: tuple[ZoneInfo, datetime]
) -> None:
    """Inside a window iff the window a caller is told about contains now.

    This holds on clock-change days too, and not by luck: on an autumn day a window the
    repeated hour only partly covers is, on the wall clock, left and re-entered; a caller
    in the stretch between is told about the re-entry (after now), never about a stretch
    of UTC that merely surrounds now.
    """
    zone, now = case
    occurrence = next_window(windows, now, zone)
    assert occurrence is not None
    contains = occurrence.starts_at <= now < occurrence.ends_at
    assert in_call_window(windows, now, zone) is contains


@settings(max_examples=300, deadline=None)
@given(windows=windows_strategy(), case=case_strategy(), data=st.data())
def test_told_window_is_the_next_one_and_really_open(
    windows: list[CallWindow], case: tuple[ZoneInfo, datetime], data: st.DataObject
) -> None:
    """The start is never in the past unless now is inside; nothing opens sooner; the
    reported stretch is open at both ends."""
    zone, now = case
    occurrence = next_window(windows, now, zone)
    assert occurrence is not None
    start, end = occurrence.starts_at, occurrence.ends_at
    assert start < end
    assert end - start <= timedelta(hours=25)  # 24 h plus at most one repeated hour
    assert start - now <= timedelta(days=8)
    assert in_call_window(windows, start, zone)
    assert in_call_window(windows, end - timedelta(microseconds=1), zone)
    if start <= now:
        assert in_call_window(windows, now, zone)
    else:
        gap = (start - now) // timedelta(microseconds=1)
        before = now + timedelta(microseconds=data.draw(st.integers(0, gap - 1), label="before"))
        assert not in_call_window(windows, before, zone)
        if start - timedelta(seconds=1) > now:
            assert not in_call_window(windows, start - timedelta(seconds=1), zone)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    data=st.data(),
    start=st.integers(0, 4 * 60),
    length=st.integers(1, 3 * 60),
    seconds=st.integers(-4 * 3600, 4 * 3600),
)
def test_around_clock_changes_told_window_agrees_with_the_clock(
    zone: ZoneInfo, data: st.DataObject, start: int, length: int, seconds: int
) -> None:
    """The same agreement, aimed at the hours a clock change lands in.

    A daily window in the small hours and an instant within four hours of a change
    exercise every way a window can meet a gap or a repeated hour: before, across,
    partly over either edge, or wholly inside it.
    """
    change = data.draw(st.sampled_from(CHANGES[zone.key]), label="change")
    windows = [_w("mon tue wed thu fri sat sun", _clock(start), _clock(start + length))]
    now = change + timedelta(seconds=seconds)
    occurrence = next_window(windows, now, zone)
    assert occurrence is not None
    contains = occurrence.starts_at <= now < occurrence.ends_at
    assert in_call_window(windows, now, zone) is contains
    assert in_call_window(windows, occurrence.starts_at, zone)
    assert in_call_window(windows, occurrence.ends_at - timedelta(microseconds=1), zone)
    # Nothing opens sooner: every minute up to the told start (six hours at most,
    # which reaches past any re-entry after a repeated hour) is outside.
    probes = (now + timedelta(minutes=m) for m in range(1, 6 * 60))
    assert not any(in_call_window(windows, p, zone) for p in probes if p < occurrence.starts_at)


def test_window_ending_where_a_repeated_half_hour_begins_closes_at_the_first_pass() -> None:
    """Lord Howe sets its clocks back 30 minutes (02:00 -> 01:30) on 5 April 2026, so
    01:30-02:00 happens twice. A window ending at 01:30 closes the first time the clock
    shows 01:30: the clock is outside it through both passes of the repeated stretch."""
    zone = ZoneInfo("Australia/Lord_Howe")
    windows = [_w("sun", "00:00", "01:30")]
    now = datetime(2026, 4, 4, 14, 0, tzinfo=UTC)  # 01:00 LHDT, inside
    occurrence = next_window(windows, now, zone)
    assert occurrence is not None
    assert occurrence.ends_at == datetime(2026, 4, 4, 14, 30, tzinfo=UTC)
    assert in_call_window(windows, occurrence.ends_at - timedelta(microseconds=1), zone)
    assert not in_call_window(windows, occurrence.ends_at, zone)
