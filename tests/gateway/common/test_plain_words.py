"""The English plain forms every document uses (evidence pack, report, digest, letters):
table-driven, with the organisation's zone through summer and winter time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.common.plain_words import (
    contact_noun,
    plain_date,
    plain_limit,
    plain_limits,
    plain_time,
    plain_when,
)
from gateway.letters.words import date_words, limit_words, when_words
from rules.models import Limit

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (datetime(2026, 12, 6, 4, 5, 59, 999999, tzinfo=UTC), "Sunday 6 December 2026, 4:05 am"),
        (datetime(2026, 12, 6, 0, 0, tzinfo=UTC), "Sunday 6 December 2026, midnight"),
        (datetime(2026, 12, 6, 12, 0, tzinfo=UTC), "Sunday 6 December 2026, 12 noon"),
        (datetime(2026, 12, 6, 12, 30, tzinfo=UTC), "Sunday 6 December 2026, 12:30 pm"),
        (datetime(2026, 12, 6, 0, 30, tzinfo=UTC), "Sunday 6 December 2026, 12:30 am"),
        (datetime(2026, 12, 6, 15, 0, tzinfo=UTC), "Sunday 6 December 2026, 3 pm"),
        # British Summer Time: 23:30 UTC on 1 July is 00:30 on 2 July in London.
        (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "Thursday 2 July 2026, 12:30 am"),
        (datetime(2026, 7, 1, 11, 0, tzinfo=UTC), "Wednesday 1 July 2026, 12 noon"),
        # The clocks go back at 01:00 UTC on 25 October 2026: the same local hour twice.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Sunday 25 October 2026, 1:30 am"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Sunday 25 October 2026, 1:30 am"),
        # ... and forward at 01:00 UTC on 28 March 2027: 1 am local never happens.
        (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "Sunday 28 March 2027, 2 am"),
    ],
)
def test_an_instant_is_said_in_local_time(at: datetime, words: str) -> None:
    assert plain_time(at, LONDON) == words
    assert when_words(at, LONDON, "en") == words  # the letters say it the same


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 12, 6), "Sunday 6 December 2026"),
        (date(2027, 1, 1), "Friday 1 January 2027"),
        (date(2028, 2, 29), "Tuesday 29 February 2028"),
    ],
)
def test_a_date(day: date, words: str) -> None:
    assert plain_date(day) == words == date_words(day, "en")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "—"),
        ("", "—"),
        ("2026-12-06", "Sunday 6 December 2026"),
        ("2026-12-06T04:05:00Z", "Sunday 6 December 2026, 4:05 am"),
        ("2026-07-01T23:30:00+00:00", "Thursday 2 July 2026, 12:30 am"),
        ("2026-12-06T04:05:00", "Sunday 6 December 2026, 4:05 am"),  # naive: local already
        (date(2026, 12, 6), "Sunday 6 December 2026"),
        (datetime(2026, 12, 6, 4, 5), "Sunday 6 December 2026, 4:05 am"),
        # Text that is not a stored date or instant is kept as written: 10 characters
        # are not a date, nor an ISO week date, nor a bare number a date and time.
        ("read again", "read again"),
        ("2026-W49-7", "2026-W49-7"),
        ("20261206", "20261206"),
        ("2026-13-45", "2026-13-45"),
        ("2026-12-06T99:00", "2026-12-06T99:00"),
    ],
)
def test_a_stored_value_is_read_only_when_it_is_a_date_or_instant(
    value: object, words: str
) -> None:
    assert plain_when(value, LONDON) == words


@pytest.mark.parametrize(
    ("maximum", "channel", "per", "words", "letter_words"),
    [
        (2, "email", "P1D", "2 emails a day", None),
        (1, "email", "P1D", "1 email a day", None),
        (5, "voice", "P7D", "5 phone calls a week", None),
        (1, "voice", "P1W", "1 phone call a week", None),
        (3, "sms", "PT1H", "3 text messages an hour", None),
        # A fortnight and 30 days are sliding windows: "in any" (the letters: "every").
        (5, "voice", "P14D", "5 phone calls in any 14 days", "5 phone calls every 14 days"),
        (5, "voice", "P2W", "5 phone calls in any 14 days", "5 phone calls every 14 days"),
        (10, "any", "P30D", "10 contacts in any 30 days", "10 contacts every 30 days"),
        (2, "staff_mobile", "P1D", "2 calls to staff mobiles a day", None),
    ],
)
def test_a_limit_as_a_person_says_it(
    maximum: int, channel: str, per: str, words: str, letter_words: str | None
) -> None:
    assert plain_limit(maximum, channel, per) == words
    limit = Limit(channel=channel, max=maximum, per=per)  # type: ignore[arg-type]
    assert limit_words(limit, "en") == (letter_words or words)


def test_limits_join_and_none_is_said() -> None:
    assert plain_limits([]) == "no limit"
    both = [
        {"max": 2, "channel": "email", "per": "P1D"},
        {"max": 5, "channel": "voice", "per": "P7D"},
    ]
    assert plain_limits(both) == "2 emails a day; 5 phone calls a week"
    assert contact_noun("carrier_pigeon", 2) == "carrier pigeon"  # unknown: its own name
