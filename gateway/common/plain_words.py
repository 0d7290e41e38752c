"""Times, dates and limits as a lay reader reads them in a document: the evidence pack,
the committee report, the reminder digest and the letters to customers. The one source
of these English forms (the letters keep their Welsh ones in ``gateway.letters.words``).

"Sunday 6 December 2026, 4:05 am" in the organisation's own zone, not
``2026-12-06T04:05:00.123456Z``; "2 emails a day", not "2 email per P1D". The clock
words are ``rules.wording``'s (the same "12 noon" and "midnight" a customer hears);
names of days and months are spelled there too, never taken from ``strftime``, which
follows the process locale.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from rules.models import Weekday, parse_period
from rules.wording import clock_words, period_words

MONTHS = (
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

# What one contact on a channel is called, singular and plural.
_CONTACT_NOUNS = {
    "email": ("email", "emails"),
    "sms": ("text message", "text messages"),
    "voice": ("phone call", "phone calls"),
    "letter": ("letter", "letters"),
    "visit": ("visit", "visits"),
    "staff_mobile": ("call to a staff mobile", "calls to staff mobiles"),
    "social_media": ("social media message", "social media messages"),
    "any": ("contact", "contacts"),
}

# Periods said the way people say them; any other is "in any 14 days" (a sliding window).
_NAMED_PERIODS = {
    timedelta(hours=1): "an hour",
    timedelta(days=1): "a day",
    timedelta(days=7): "a week",
}


# What ``plain_when`` takes for a stored date or instant; any other text is kept as it is
# (a 10-character note is not a date, nor is an ISO week date such as 2026-W49-7).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def plain_date(day: date) -> str:
    """ "Sunday 6 December 2026"."""
    weekday = list(Weekday)[day.weekday()].full_name
    return f"{weekday} {day.day} {MONTHS[day.month - 1]} {day.year}"


def plain_clock(at: datetime, zone: ZoneInfo) -> str:
    """The local time of day of an instant: "4:05 am", "12 noon", "midnight"."""
    local = at.astimezone(zone)
    return clock_words(timedelta(hours=local.hour, minutes=local.minute))


def plain_time(at: datetime, zone: ZoneInfo) -> str:
    """An instant in the organisation's zone: "Sunday 6 December 2026, 4:05 am".

    Seconds and fractions are left out: a reader needs the minute, and the appendix of
    a document keeps the exact instant beside the record's hash for whoever checks it.
    """
    return f"{plain_date(at.astimezone(zone).date())}, {plain_clock(at, zone)}"


def plain_when(value: Any, zone: ZoneInfo) -> str:
    """``plain_time`` or ``plain_date`` of a value as stored or sent as JSON (an ISO
    string, a ``datetime`` or a ``date``); "—" for none. Text that is neither is kept."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return plain_time(value if value.tzinfo else value.replace(tzinfo=zone), zone)
    if isinstance(value, date):
        return plain_date(value)
    text = str(value)
    try:
        if _ISO_DATE.match(text):
            return plain_date(date.fromisoformat(text))
        if not _ISO_INSTANT.match(text):
            return text
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return plain_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=zone), zone)


def contact_noun(channel: str, count: int) -> str:
    """ "email" or "emails", "phone call" or "phone calls": the word agrees with ``count``."""
    singular, plural = _CONTACT_NOUNS.get(channel, (channel.replace("_", " "),) * 2)
    return singular if count == 1 else plural


def plain_limit(
    maximum: int, channel: str, per: str, *, other: Literal["in any", "every"] = "in any"
) -> str:
    """A limit as a person says it: "2 emails a day", "5 phone calls in any 14 days".

    A period without a name is "in any 14 days" (the window slides), or "every 14 days"
    where ``other`` says so: the letters' wording, kept as it was."""
    period = parse_period(per)
    span = _NAMED_PERIODS.get(period) or f"{other} {period_words(period)}"
    return f"{maximum} {contact_noun(channel, maximum)} {span}"


def plain_limits(limits: list[dict[str, Any]]) -> str:
    """A restriction's limits joined with "; ", or "no limit" when it has none."""
    if not limits:
        return "no limit"
    return "; ".join(plain_limit(int(x["max"]), str(x["channel"]), str(x["per"])) for x in limits)
