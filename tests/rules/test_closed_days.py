"""Call windows on the days the office is closed: bank holidays and closures an
administrator set. No window applies on a closed day, the next window named is never on
one, and a caller on a closed day is told why.

The dates are the real ones of 2026-27 in England and Wales: Christmas Day is a Friday,
Boxing Day a Saturday with its substitute on Monday 28 December, New Year's Day a Friday.
(The gateway reads them from the ``holidays`` library; here they are written out, since
rules take closed days as a value.)
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from rules.closed_days import NO_CLOSED_DAYS, ClosedDays, ClosedKind
from rules.decision import EMPTY_USAGE, Action, HoldReason
from rules.engine import decide
from rules.models import CallWindow, Channel
from rules.windows import closed_today, in_call_window, next_window

from .factories import contact, index, restriction
from .test_windows import london

LONDON = ZoneInfo("Europe/London")
CHRISTMAS_2026 = ClosedDays(
    bank_holidays=frozenset(
        {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)}
    )
)
# The same, and the office shut between Christmas and New Year by an administrator.
WITH_CLOSURE = ClosedDays(
    bank_holidays=CHRISTMAS_2026.bank_holidays,
    closures=frozenset({date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)}),
)


def _w(days: str, start: str, end: str) -> CallWindow:
    return CallWindow.model_validate({"days": days.split(), "start": start, "end": end})


WEEKDAYS = [_w("mon tue wed thu fri", "10:00", "12:00")]
FRIDAY = [_w("fri", "10:00", "12:00")]
MONDAY = [_w("mon", "10:00", "12:00")]
THURSDAY_NIGHT = [_w("thu", "22:00", "26:00")]
FRIDAY_NIGHT = [_w("fri", "22:00", "26:00")]


@pytest.mark.parametrize(
    ("windows", "now", "closed", "inside"),
    [
        # Friday 25 December 2026, 10:30: inside the Friday window's hours, but closed.
        (FRIDAY, london("2026-12-25 10:30"), NO_CLOSED_DAYS, True),
        (FRIDAY, london("2026-12-25 10:30"), CHRISTMAS_2026, False),
        # The substitute Boxing Day (Monday 28th) is closed; Tuesday 29th is open...
        (WEEKDAYS, london("2026-12-28 10:30"), CHRISTMAS_2026, False),
        (WEEKDAYS, london("2026-12-29 10:30"), CHRISTMAS_2026, True),
        # ...unless an administrator closed it too.
        (WEEKDAYS, london("2026-12-29 10:30"), WITH_CLOSURE, False),
        (WEEKDAYS, london("2027-01-04 10:30"), WITH_CLOSURE, True),
        # A window belongs to the day it starts: Thursday night's runs into Christmas
        # morning, and Christmas night's is shut into Boxing Day.
        (THURSDAY_NIGHT, london("2026-12-25 01:30"), CHRISTMAS_2026, True),
        (FRIDAY_NIGHT, london("2026-12-26 01:30"), CHRISTMAS_2026, False),
        (FRIDAY_NIGHT, london("2027-01-09 01:30"), CHRISTMAS_2026, True),
        # No windows: calls are not limited to windows, closed day or not.
        ([], london("2026-12-25 10:30"), CHRISTMAS_2026, True),
    ],
)
def test_no_window_applies_on_a_closed_day(
    windows: list[CallWindow], now: object, closed: ClosedDays, inside: bool
) -> None:
    assert in_call_window(windows, now, LONDON, closed) is inside  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("windows", "now", "closed", "words"),
    [
        # Christmas Day inside the Friday window: the next Friday window is New Year's
        # Day, also a bank holiday, so the one after.
        (FRIDAY, london("2026-12-25 10:30"), CHRISTMAS_2026, "Friday 8 January"),
        # Every weekday: the 28th is the substitute Boxing Day, so Tuesday 29 December.
        (WEEKDAYS, london("2026-12-25 10:30"), CHRISTMAS_2026, "Tuesday 29 December"),
        # With the office shut to New Year: Monday 4 January.
        (WEEKDAYS, london("2026-12-25 10:30"), WITH_CLOSURE, "Monday 4 January"),
        # Nothing closed: the window is open now.
        (WEEKDAYS, london("2026-12-25 10:30"), NO_CLOSED_DAYS, "Friday 25 December"),
        # Weeks away: a Monday window with the next three Mondays closed.
        (
            MONDAY,
            london("2026-12-24 10:30"),
            ClosedDays(
                closures=frozenset({date(2026, 12, 28), date(2027, 1, 4), date(2027, 1, 11)})
            ),
            "Monday 18 January",
        ),
        # A closed day before the window does not move it.
        (FRIDAY, london("2026-12-21 10:30"), CHRISTMAS_2026, "Friday 8 January"),
        (WEEKDAYS, london("2026-12-24 12:30"), CHRISTMAS_2026, "Tuesday 29 December"),
    ],
)
def test_the_next_window_is_never_on_a_closed_day(
    windows: list[CallWindow], now: object, closed: ClosedDays, words: str
) -> None:
    window = next_window(windows, now, LONDON, closed)  # type: ignore[arg-type]
    assert window is not None
    assert window.day == words
    assert window.words.startswith(words + " between 10 am and 12 noon")


def test_no_next_window_when_every_window_day_is_closed_for_a_year() -> None:
    mondays = frozenset(date.fromordinal(date(2026, 12, 28).toordinal() + 7 * n) for n in range(60))
    closed = ClosedDays(closures=mondays)
    assert next_window(MONDAY, london("2026-12-24 10:30"), LONDON, closed) is None


@pytest.mark.parametrize(
    ("day", "closed", "why"),
    [
        (date(2026, 12, 25), CHRISTMAS_2026, ClosedKind.BANK_HOLIDAY),
        (date(2026, 12, 29), WITH_CLOSURE, ClosedKind.CLOSURE),
        (date(2026, 12, 29), CHRISTMAS_2026, None),
        # Both: the bank holiday is the reason a caller recognises.
        (
            date(2026, 12, 25),
            ClosedDays(
                bank_holidays=frozenset({date(2026, 12, 25)}),
                closures=frozenset({date(2026, 12, 25)}),
            ),
            ClosedKind.BANK_HOLIDAY,
        ),
    ],
)
def test_why_a_day_is_closed(day: date, closed: ClosedDays, why: ClosedKind | None) -> None:
    assert closed.why(day) is why
    assert (day in closed.days) is (why is not None)
    now = london(f"{day.isoformat()} 10:30")
    assert closed_today(now, LONDON, closed) == (None if why is None else (day, why))


@pytest.mark.parametrize(
    ("now", "closed", "reason", "told", "next_day"),
    [
        (
            london("2026-12-25 10:30"),
            CHRISTMAS_2026,
            "The call is on a bank holiday (Friday 25 December), when no call window applies.",
            "We are closed today for the bank holiday.",
            "Tuesday 29 December",
        ),
        (
            london("2026-12-29 10:30"),
            WITH_CLOSURE,
            "The call is on a day the office is closed (Tuesday 29 December), when no call "
            "window applies.",
            "The office is closed today.",
            "Monday 4 January",
        ),
        # A closed day outside the window's hours: still told why.
        (
            london("2026-12-25 08:00"),
            CHRISTMAS_2026,
            "The call is on a bank holiday (Friday 25 December), when no call window applies.",
            "We are closed today for the bank holiday.",
            "Tuesday 29 December",
        ),
        # An open day outside the window: no word of closures, but the next window
        # still skips them.
        (
            london("2026-12-24 12:30"),
            CHRISTMAS_2026,
            "The call is outside every call window the restriction sets.",
            "We can take your calls only",
            "Tuesday 29 December",
        ),
    ],
)
def test_a_caller_on_a_closed_day_hears_why_and_when_to_call(
    now: object, closed: ClosedDays, reason: str, told: str, next_day: str
) -> None:
    policy = index(
        restriction(channels=["voice", "email"], call_windows=[w.model_dump() for w in WEEKDAYS]),
        closed=closed,
    )
    decision = decide(contact(Channel.VOICE, at=now), policy, EMPTY_USAGE, now)  # type: ignore[arg-type]
    assert decision.action is Action.MESSAGE
    assert decision.hold_reason is HoldReason.OUTSIDE_CALL_WINDOW
    assert decision.reasons[0].text == reason
    assert decision.next_window is not None and decision.next_window.day == next_day
    notice = decision.notice
    assert notice is not None and notice.startswith(told)
    assert f"The next time you can call is {next_day} between 10 am and 12 noon." in notice


def test_a_text_notice_quoting_the_next_window_skips_closed_days() -> None:
    """A held text's notice names the next call window: never a closed day either."""
    now = london("2026-12-24 12:30")
    policy = index(
        restriction(channels=["voice", "email"], call_windows=[w.model_dump() for w in WEEKDAYS]),
        closed=WITH_CLOSURE,
    )
    decision = decide(contact(Channel.SMS, at=now), policy, EMPTY_USAGE, now)  # type: ignore[arg-type]
    assert decision.action is Action.HOLD
    notice = decision.notice
    assert notice is not None
    assert "The next time you can call is Monday 4 January between 10 am and 12 noon." in notice
    assert "closed today" not in notice
