"""Limits in an officer's words: "at most 5 emails a week", both ways.

The form offers these counts and periods; the file and the API keep their exact forms
(``channel: email, max: 5, per: P7D``). A limit written in a file with another period
(``PT12H``) is shown with its period in words all the same.
"""

from __future__ import annotations

from typing import Any

from rules.models import parse_period
from rules.wording import period_words

# What an officer counts, and the API's channel for it.
LIMIT_THINGS = {"email": "emails", "sms": "texts", "voice": "calls", "any": "contacts"}
# The periods an officer chooses from, and the ISO 8601 duration each is in the file.
LIMIT_PERIODS = {"P1D": "day", "P7D": "week", "P14D": "fortnight", "P30D": "30 days"}


def limit_words(limit: dict[str, Any]) -> str:
    """``{"channel": "email", "max": 5, "per": "P7D"}`` -> "at most 5 emails a week"."""
    channel = str(limit["channel"])
    thing = LIMIT_THINGS.get(channel, channel.replace("_", " ") + " contacts")
    if int(limit["max"]) == 1:
        thing = thing.removesuffix("s")
    per = str(limit["per"])
    period = LIMIT_PERIODS.get(per)
    when = f"a {period}" if period in ("day", "week", "fortnight") else None
    if when is None:
        when = f"in {period or period_words(parse_period(per))}"
    return f"at most {limit['max']} {thing} {when}"
