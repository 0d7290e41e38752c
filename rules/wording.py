"""Times, dates, call windows and periods in the plain English a customer reads or hears.

These words go into spoken TwiML, SMS and email replies, so they follow how people in
the UK say times ("10 am", "12 noon", "midnight") rather than how files write them
("10:00", "12:00", "24:00"). Names of days and months are spelled here, not taken from
``strftime``, because ``strftime`` follows the process locale and a server set to Welsh
or German must still write English messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from rules.models import DAY_NAMES, CallWindow, Weekday

_DAY = timedelta(days=1)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def join_words(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: the list form people write (no Oxford comma)."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def clock_words(offset: timedelta) -> str:
    """A time of day from its offset after local midnight, as it is said aloud.

    "12:00" is said "12 noon" and both "00:00" and "24:00" "midnight", because "12 am" and
    "12 pm" are misread often enough to send a caller at the wrong time of day. An offset
    past 24:00 names the clock time on the next day; saying so is the caller's job
    (see ``window_words``).
    """
    minutes = int((offset % _DAY).total_seconds()) // 60
    hour, minute = divmod(minutes, 60)
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "12 noon"
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    if minute == 0:
        return f"{hour12} {suffix}"
    return f"{hour12}:{minute:02d} {suffix}"


def span_words(window: CallWindow) -> str:
    """The times of a window, saying "the next day" when it runs past midnight.

    A window ending at exactly 24:00 ends at midnight of its own day, which needs no
    "next day": "between 10 pm and midnight" is already unambiguous.
    """
    return _span_words(window.start_offset, window.end_offset)


@lru_cache(maxsize=1024)
def _span_words(start_offset: timedelta, end_offset: timedelta) -> str:
    # (Kept: every caller outside a window is told about the same few windows.)
    start, end = clock_words(start_offset), clock_words(end_offset)
    if end_offset > _DAY:
        return f"from {start} to {end} the next day"
    return f"between {start} and {end}"


def date_words(day: date) -> str:
    """A date without ordinal or year ("Tuesday 24 November").

    Call windows are at most a week ahead, so the year adds nothing but length to a
    message read out by a text-to-speech voice.
    """
    return f"{DAY_NAMES[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def occurrence_words(day: date, window: CallWindow) -> str:
    """One concrete window: "Tuesday 24 November between 10 am and 12 noon"."""
    return f"{date_words(day)} {span_words(window)}"


def days_words(days: Sequence[Weekday]) -> str:
    """Recurring days, runs of three or more collapsed: "Mondays to Fridays".

    Runs stop at Sunday rather than wrapping to Monday: "Saturdays to Mondays" reads as a
    puzzle, "Mondays, Saturdays and Sundays" does not.
    """
    numbers = sorted({d.number for d in days})
    if len(numbers) == len(DAY_NAMES):
        return "every day"
    return join_words([words for run in _runs(numbers) for words in _run_words(run)])


def _runs(numbers: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def _run_words(run: list[int]) -> list[str]:
    names = [f"{DAY_NAMES[n]}s" for n in run]
    if len(names) >= 3:
        return [f"{names[0]} to {names[-1]}"]
    return names


def window_words(window: CallWindow) -> str:
    """A recurring window: "Tuesdays and Thursdays between 10 am and 12 noon"."""
    return f"{days_words(window.days)} {span_words(window)}"


def windows_words(windows: Sequence[CallWindow]) -> str:
    """Several recurring windows joined with "; ".

    No windows means calls are not limited to windows (see ``in_call_window``), which is
    said as "at any time" so that a sentence built around it still reads.
    """
    if not windows:
        return "at any time"
    return "; ".join(window_words(w) for w in windows)


def period_words(period: timedelta) -> str:
    """A limit's period as people count it: "7 days", "1 day and 2 hours".

    Days are not folded into weeks because limits are written in days (P7D) and a
    customer comparing the message with their letter should see the same number.
    Seconds appear only when a period has them, so PT90S still reads truthfully.
    """
    if period < timedelta(0):
        raise ValueError(f"a period cannot be negative: {period}")
    hours, rest = divmod(period.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    units = (("day", period.days), ("hour", hours), ("minute", minutes), ("second", seconds))
    parts = [f"{n} {name}" if n == 1 else f"{n} {name}s" for name, n in units if n]
    return join_words(parts) or "0 minutes"
