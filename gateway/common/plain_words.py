"""Times, dates and limits as a lay reader reads them in a document: the evidence pack,
the committee report, the reminder digest and (later) the letters to customers.

"Sunday 6 December 2026, 4:05 am" in the organisation's own zone, not
``2026-12-06T04:05:00.123456Z``; "2 emails a day", not "2 email per P1D". The clock
words are ``rules.wording``'s (the same "12 noon" and "midnight" a customer hears);
names of days and months are spelled there too, never taken from ``strftime``, which
follows the process locale.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.models import Weekday, parse_period
from rules.wording import clock_words, period_words

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

# What one contact on a channel is called, singular and plural.
_CONTACT_NOUNS = {
    "email": ("email", "emails"),
    "sms": ("text message", "text messages"),
    "voice": ("phone call", "phone calls"),
    "letter": ("letter", "letters"),
    "visit": ("visit", "visits"),
    "staff_mobile": ("call to a staff mobile", "calls to a staff mobile"),
    "social_media": ("social media message", "social media messages"),
    "any": ("contact", "contacts"),
}

# Periods said the way people say them; any other is "in any 14 days" (a sliding window).
_NAMED_PERIODS = {
    timedelta(hours=1): "an hour",
    timedelta(days=1): "a day",
    timedelta(days=7): "a week",
}


def plain_date(day: date) -> str:
    """ "Sunday 6 December 2026"."""
    weekday = list(Weekday)[day.weekday()].full_name
    return f"{weekday} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def plain_time(at: datetime, zone: ZoneInfo) -> str:
    """An instant in the organisation's zone: "Sunday 6 December 2026, 4:05 am".

    Seconds and fractions are left out: a reader needs the minute, and the appendix of
    a document keeps the exact instant beside the record's hash for whoever checks it.
    """
    local = at.astimezone(zone)
    since_midnight = timedelta(hours=local.hour, minutes=local.minute)
    return f"{plain_date(local.date())}, {clock_words(since_midnight)}"


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
        if len(text) == 10:
            return plain_date(date.fromisoformat(text))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return plain_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=zone), zone)


def contact_noun(channel: str, count: int) -> str:
    """ "email" or "emails", "phone call" or "phone calls": the word agrees with ``count``."""
    singular, plural = _CONTACT_NOUNS.get(channel, (channel.replace("_", " "),) * 2)
    return singular if count == 1 else plural


def plain_limit(maximum: int, channel: str, per: str) -> str:
    """A limit as a person says it: "2 emails a day", "5 phone calls in any 14 days"."""
    period = parse_period(per)
    span = _NAMED_PERIODS.get(period) or f"in any {period_words(period)}"
    return f"{maximum} {contact_noun(channel, maximum)} {span}"


def plain_limits(limits: list[dict[str, Any]]) -> str:
    """A restriction's limits joined with "; ", or "no limit" when it has none."""
    if not limits:
        return "no limit"
    return "; ".join(plain_limit(int(x["max"]), str(x["channel"]), str(x["per"])) for x in limits)
