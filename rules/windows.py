"""Call windows: is a call inside one now, and which window should a caller be told about.

A policy's window is written in local wall-clock time ("Tuesdays 10:00-12:00" in
GATEWAY_TIMEZONE) because that is what the customer's letter says and what their clock
shows. So the question "is it inside?" is answered on wall-clock time, never by turning
the window into a fixed stretch of UTC first. That choice settles the clock-change days
without special cases: on the spring day the wall times 01:00-01:59 (Europe/London) never
occur, so no call can fall in them; on the autumn day 01:00-01:59 occurs twice and a call
at either 01:30 is inside a 01:00-02:00 window, as the customer's clock says it is.

A window belongs to the day it starts; one that ends after 24:00 ("26:00") runs into the
next morning, so a call is checked against today's windows and yesterday's.

No window applies on a day the office is closed (a bank holiday, or a closure an
administrator set: ``rules.closed_days``), and the next window a caller is told about is
never on one. A window belongs to the day it starts here too: Thursday's 22:00-26:00
window is open into the small hours of a Good Friday, and a window starting on a closed
day is shut all the way through.

Telling a caller when to call back needs real instants (for the message's dates and for
the evidence), and there the wall clock's oddities have to be resolved: a start or end
inside the spring gap becomes the moment the clocks jump (the first moment that exists
after it), and an ambiguous start or end takes the occurrence that keeps the window as
long as the wall clock says (first occurrence for the start, second for the end).

Nothing here reads the clock: ``now`` is always a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rules.closed_days import NO_CLOSED_DAYS, ClosedDays, ClosedKind
from rules.decision_parts import WindowOccurrence
from rules.models import CallWindow
from rules.wording import date_words, occurrence_words

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
# Windows recur weekly, so a week and a day ahead always reaches the next one even when
# today's has passed; the day before is there for windows that run past midnight.
_SEARCH_DAYS = tuple(timedelta(days=n) for n in range(-1, 9))
# With closed days a window may be weeks away (a Monday window and three closed
# Mondays); the search stops at the first day with a window, so looking as far as a
# year ahead costs nothing unless the office is closed for all of it.
_SEARCH_DAYS_WITH_CLOSURES = tuple(timedelta(days=n) for n in range(-1, 367))


def in_call_window(
    windows: Sequence[CallWindow],
    now: datetime,
    zone: ZoneInfo,
    closed: ClosedDays = NO_CLOSED_DAYS,
) -> bool:
    """True when the caller's local clock shows a time inside one of ``windows``, on a
    window that does not start on a ``closed`` day.

    No windows at all means the restriction does not limit calls to windows, so every
    time is allowed: an empty list answers True. (Answering False would make a
    restriction written without ``call_windows`` refuse every call, which is the opposite
    of what its author wrote.)
    """
    if not windows:
        return True
    local = _local(now, zone)
    today = local.date()
    wall = local.replace(tzinfo=None)
    shut = closed.days
    for day in (today, today - _DAY):
        if day in shut:
            continue
        weekday = day.weekday()
        offset = wall - _midnight(day)  # as ``_wall_offset``: clock readings, not time
        for window in windows:
            if weekday in window.day_numbers and window.start_offset <= offset < window.end_offset:
                return True
    return False


def closed_today(
    now: datetime, zone: ZoneInfo, closed: ClosedDays
) -> tuple[date, ClosedKind] | None:
    """Today's local date and why the office is closed, when it is closed today."""
    today = _local_date(now, zone)
    why = closed.why(today)
    return None if why is None else (today, why)


def next_window(
    windows: Sequence[CallWindow],
    now: datetime,
    zone: ZoneInfo,
    closed: ClosedDays = NO_CLOSED_DAYS,
) -> WindowOccurrence | None:
    """The window a caller should be told about: the one open now, else the next to open,
    never one on a ``closed`` day.

    When a window is open, its whole occurrence is reported (``starts_at <= now``) so a
    message can say "until 12 noon". Otherwise ``starts_at`` is the next instant a call
    would be inside, so it is always after ``now``. On the autumn day that can be the
    second pass through a window the first pass has already left (a caller at 01:45 BST
    outside a 01:00-01:30 window may call again at 01:00 GMT); reporting the first
    pass's start would tell them a time that has gone. None only when there are no
    windows (or, in theory, every occurrence for a week lies in a spring gap), or when
    the office is closed on every day with a window for the coming year.
    """
    best: tuple[datetime, _Occurrence] | None = None
    today = _local_date(now, zone)
    for occ in _occurrences(windows, today, zone, closed.days):
        if best is not None and occ.day > today and occ.day > best[1].day:
            # Every window of a later day opens after the local midnight that begins
            # it, which is after anything found on an earlier day (or open now): stop.
            break
        opens = _opens(occ, now, zone)
        if opens is not None and (best is None or _better((opens, occ), best, now)):
            best = (opens, occ)
    if best is None:
        return None
    opens, occ = best
    return WindowOccurrence(
        day=date_words(occ.day),
        words=occurrence_words(occ.day, occ.window),
        starts_at=opens,
        ends_at=occ.ends_at,
    )


class _Occurrence(NamedTuple):
    """A window on one local day, with the instants its wall times resolve to."""

    day: date
    window: CallWindow
    starts_at: datetime
    ends_at: datetime


def _local_date(now: datetime, zone: ZoneInfo) -> date:
    """Today's date on the local clock (see ``_local``)."""
    return _local(now, zone).date()


def _local(now: datetime, zone: ZoneInfo) -> datetime:
    """``now`` on the local clock; a naive ``now`` is refused, not guessed at.

    ``astimezone`` would read a naive datetime as the server's own local time, which is
    the environment leaking into a pure function, and wrong whenever the server is not
    in ``zone``.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must carry a time zone, got naive {now.isoformat()}")
    return now.astimezone(zone)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _wall_offset(day: date, instant: datetime, zone: ZoneInfo) -> timedelta:
    """How far the local clock at ``instant`` reads past midnight at the start of ``day``.

    Naive subtraction on purpose: this is the difference between two clock readings,
    which is what a window's "10:00" or "26:00" measures, not elapsed time.
    """
    return instant.astimezone(zone).replace(tzinfo=None) - _midnight(day)


def _wall_inside(day: date, window: CallWindow, instant: datetime, zone: ZoneInfo) -> bool:
    return _wall_between(day, window.start_offset, window.end_offset, instant, zone)


def _wall_between(
    day: date, start: timedelta, end: timedelta, instant: datetime, zone: ZoneInfo
) -> bool:
    return start <= _wall_offset(day, instant, zone) < end


def _occurrences(
    windows: Sequence[CallWindow], today: date, zone: ZoneInfo, shut: frozenset[date]
) -> Iterator[_Occurrence]:
    """Every occurrence from yesterday on (to a week tomorrow, or a year when some days
    are ``shut``) that has real instants and is not on a shut day, in order of day.

    A window lying wholly inside a spring gap resolves to an empty stretch (both ends
    become the moment of the jump): nobody can call in it, so it is never offered.
    """
    for ahead in _SEARCH_DAYS_WITH_CLOSURES if shut else _SEARCH_DAYS:
        day = today + ahead
        if day in shut:
            continue
        weekday = day.weekday()
        for window in windows:
            if weekday not in window.day_numbers:
                continue
            instants = _instants(day, window.start_offset, window.end_offset, zone)
            if instants is not None:
                yield _Occurrence(day, window, *instants)


@lru_cache(maxsize=4096)
def _instants(
    day: date, start: timedelta, end: timedelta, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The instants a window from ``start`` to ``end`` on ``day`` opens and closes, or
    None when it has none. Kept: every caller outside a window asks for the same few
    days and times, and resolving wall times is most of the work of telling them."""
    starts_at = _resolve(_midnight(day) + start, zone, fold=0)
    ends_at = _end(day, start, end, zone)
    return (starts_at, ends_at) if starts_at < ends_at else None


def _end(day: date, start: timedelta, end: timedelta, zone: ZoneInfo) -> datetime:
    """The instant a window closes: the second pass of an ambiguous end time, unless the
    repeated stretch begins exactly at the end (then the clock has already left the
    window before the second pass, and the first occurrence is the close)."""
    wall = _midnight(day) + end
    second = _resolve(wall, zone, fold=1)
    first = _resolve(wall, zone, fold=0)
    if second != first and not _wall_between(day, start, end, second - _TICK, zone):
        return first
    return second


def _opens(occ: _Occurrence, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The ``starts_at`` to report for ``occ`` seen from ``now``, or None if it is over.

    Between ``starts_at`` and ``ends_at`` the wall clock is inside the window except on
    an autumn day whose repeated hour only partly overlaps it; there ``now`` may sit in a
    stretch the clock says is outside, and the occurrence opens again later that night.
    """
    if now >= occ.ends_at:
        return None
    if now < occ.starts_at or _wall_inside(occ.day, occ.window, now, zone):
        return occ.starts_at
    return _reopens(occ, now, zone)


def _reopens(occ: _Occurrence, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the second pass of an autumn fold brings the wall clock back into ``occ``.

    The clock re-enters either at the start time's second occurrence or at the moment
    it is set back, if it is set back to a time inside the window. (None only if the
    zone changes offset more than once inside one window, which no real zone does.)
    """
    entries = [_resolve(_midnight(occ.day) + occ.window.start_offset, zone, fold=1)]
    setback = _transition(zone, occ.starts_at, occ.ends_at)
    if _wall_inside(occ.day, occ.window, setback, zone):
        entries.append(setback)
    return min((e for e in entries if e > now), default=None)


def _better(
    candidate: tuple[datetime, _Occurrence], best: tuple[datetime, _Occurrence], now: datetime
) -> bool:
    """Open now beats opening later, sooner beats later, and then the longer window wins."""

    def key(item: tuple[datetime, _Occurrence]) -> tuple[datetime, float]:
        return max(item[0], now), -item[1].ends_at.timestamp()

    return key(candidate) < key(best)


def _resolve(wall: datetime, zone: ZoneInfo, *, fold: int) -> datetime:
    """The UTC instant at which the local clock shows ``wall`` (naive).

    ``fold`` picks the first (0) or second (1) of an ambiguous autumn time. A time the
    clock skips in spring has no instant; the caller is then told the first moment that
    exists after it, which is the jump itself.
    """
    instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap, the two folds use the offsets before and after the jump, giving one
    # instant on each side of it.
    either = [wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    return _transition(zone, min(either), max(either))


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in ``(before, after]`` with the UTC offset in force at ``after``.

    zoneinfo does not publish its transition times, so the change is found by halving
    the interval; zone transitions fall on whole seconds, so whole seconds suffice.
    """
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    target = _offset(zone, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _offset(zone: ZoneInfo, timestamp: int) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()
