"""Plain-English times, dates, windows and periods for messages to customers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.models import CallWindow
from rules.wording import (
    clock_words,
    date_words,
    days_words,
    join_words,
    occurrence_words,
    period_words,
    span_words,
    window_words,
    windows_words,
)


def _window(days: list[str], start: str, end: str) -> CallWindow:
    return CallWindow.model_validate({"days": days, "start": start, "end": end})


def _hm(hours: int, minutes: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (_hm(0), "midnight"),
        (_hm(0, 30), "12:30 am"),
        (_hm(1), "1 am"),
        (_hm(9, 5), "9:05 am"),
        (_hm(10), "10 am"),
        (_hm(10, 30), "10:30 am"),
        (_hm(11, 59), "11:59 am"),
        (_hm(12), "12 noon"),
        (_hm(12, 30), "12:30 pm"),
        (_hm(14, 15), "2:15 pm"),
        (_hm(17), "5 pm"),
        (_hm(23, 59), "11:59 pm"),
        (_hm(24), "midnight"),
        (_hm(26), "2 am"),
        (_hm(36), "12 noon"),
        (_hm(10, 30) + timedelta(seconds=59), "10:30 am"),
    ],
)
def test_clock_words(offset: timedelta, words: str) -> None:
    assert clock_words(offset) == words


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ([], ""),
        (["a"], "a"),
        (["a", "b"], "a and b"),
        (["a", "b", "c"], "a, b and c"),
        (["a", "b", "c", "d"], "a, b, c and d"),
    ],
)
def test_join_words(parts: list[str], words: str) -> None:
    assert join_words(parts) == words


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 11, 24), "Tuesday 24 November"),
        (date(2026, 1, 1), "Thursday 1 January"),
        (date(2026, 3, 29), "Sunday 29 March"),
        (date(2027, 12, 31), "Friday 31 December"),
        (date(2024, 2, 29), "Thursday 29 February"),
    ],
)
def test_date_words(day: date, words: str) -> None:
    assert date_words(day) == words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (["tue"], "Tuesdays"),
        (["tue", "thu"], "Tuesdays and Thursdays"),
        (["thu", "tue"], "Tuesdays and Thursdays"),
        (["mon", "tue"], "Mondays and Tuesdays"),
        (["mon", "tue", "wed", "thu", "fri"], "Mondays to Fridays"),
        (["fri", "mon", "wed", "thu", "tue"], "Mondays to Fridays"),
        (["mon", "wed", "fri"], "Mondays, Wednesdays and Fridays"),
        (["mon", "tue", "wed", "fri"], "Mondays to Wednesdays and Fridays"),
        (["mon", "tue", "thu", "fri"], "Mondays, Tuesdays, Thursdays and Fridays"),
        (["sat", "sun", "mon"], "Mondays, Saturdays and Sundays"),
        (["tue", "tue"], "Tuesdays"),
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "every day"),
    ],
)
def test_days_words(days: list[str], words: str) -> None:
    assert days_words(_window(days, "10:00", "11:00").days) == words


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("10:00", "12:00", "between 10 am and 12 noon"),
        ("09:00", "17:00", "between 9 am and 5 pm"),
        ("22:00", "24:00", "between 10 pm and midnight"),
        ("00:00", "02:30", "between midnight and 2:30 am"),
        ("22:00", "26:00", "from 10 pm to 2 am the next day"),
        ("23:30", "24:15", "from 11:30 pm to 12:15 am the next day"),
        ("12:00", "36:00", "from 12 noon to 12 noon the next day"),
    ],
)
def test_span_words(start: str, end: str, words: str) -> None:
    assert span_words(_window(["tue"], start, end)) == words


@pytest.mark.parametrize(
    ("days", "start", "end", "words"),
    [
        (["tue", "thu"], "10:00", "12:00", "Tuesdays and Thursdays between 10 am and 12 noon"),
        (
            ["mon", "tue", "wed", "thu", "fri"],
            "09:00",
            "17:00",
            "Mondays to Fridays between 9 am and 5 pm",
        ),
        (["fri"], "22:00", "26:00", "Fridays from 10 pm to 2 am the next day"),
    ],
)
def test_window_words(days: list[str], start: str, end: str, words: str) -> None:
    assert window_words(_window(days, start, end)) == words


@pytest.mark.parametrize(
    ("windows", "words"),
    [
        ([], "at any time"),
        ([_window(["tue"], "10:00", "12:00")], "Tuesdays between 10 am and 12 noon"),
        (
            [_window(["tue"], "10:00", "12:00"), _window(["fri"], "22:00", "26:00")],
            "Tuesdays between 10 am and 12 noon; Fridays from 10 pm to 2 am the next day",
        ),
    ],
)
def test_windows_words(windows: list[CallWindow], words: str) -> None:
    assert windows_words(windows) == words


@pytest.mark.parametrize(
    ("day", "start", "end", "words"),
    [
        (date(2026, 11, 24), "10:00", "12:00", "Tuesday 24 November between 10 am and 12 noon"),
        (
            date(2026, 11, 27),
            "22:00",
            "26:00",
            "Friday 27 November from 10 pm to 2 am the next day",
        ),
    ],
)
def test_occurrence_words(day: date, start: str, end: str, words: str) -> None:
    assert occurrence_words(day, _window(["mon"], start, end)) == words


@pytest.mark.parametrize(
    ("period", "words"),
    [
        (timedelta(days=1), "1 day"),
        (timedelta(days=7), "7 days"),
        (timedelta(days=30), "30 days"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=12), "12 hours"),
        (timedelta(days=1, hours=2), "1 day and 2 hours"),
        (timedelta(minutes=90), "1 hour and 30 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(days=2, hours=1, minutes=5), "2 days, 1 hour and 5 minutes"),
        (timedelta(seconds=90), "1 minute and 30 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(days=1, seconds=1), "1 day and 1 second"),
        (timedelta(0), "0 minutes"),
        (timedelta(milliseconds=500), "0 minutes"),
    ],
)
def test_period_words(period: timedelta, words: str) -> None:
    assert period_words(period) == words


def test_period_words_refuses_negative() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        period_words(timedelta(hours=-1))
