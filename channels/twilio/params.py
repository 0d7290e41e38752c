"""Twilio's webhook parameters turned into what the rules understand.

Twilio sends numbers in E.164, but not always numbers: a withheld caller arrives as
``anonymous`` or as one of a few reserved pseudo-numbers (``+266696687`` and friends),
and calls from SIP or Twilio Client carry ``sip:`` or ``client:`` addresses. None of those
can identify a customer, so they become markers that match nobody and the caller passes
straight through, as any unknown caller does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from rules.decision import Contact
from rules.identity import IdentityError, normalise_phone
from rules.models import Channel

# What Twilio puts in From when the caller's number is not available.
WITHHELD = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unknown",
        "unavailable",
        "private",
        "blocked",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
    }
)
UNIDENTIFIED = "withheld"
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")

# Twilio's standard opt-out and opt-in keywords (a text that is only the keyword).
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke"})
START_WORDS = frozenset({"start", "yes", "unstop"})


class NumberReader:
    """Normalises Twilio's From and To; cached, since the same numbers call again."""

    def __init__(self, region: str) -> None:
        self._region = region
        self.read = lru_cache(maxsize=4096)(self._read)

    def _read(self, raw: str) -> str:
        value = raw.strip()
        if value.lower() in WITHHELD:
            return UNIDENTIFIED
        if _E164.match(value):
            # What Twilio sends, already in the form policies are normalised to.
            return value
        if value.lower().startswith(("sip:", "client:")):
            return value.lower()
        try:
            return normalise_phone(value, self._region)
        except IdentityError:
            return f"unreadable:{value}"


def is_number(identity: str) -> bool:
    """True when ``identity`` is an E.164 number (something a reply could go to)."""
    return identity.startswith("+")


def call_contact(
    params: Mapping[str, str], numbers: NumberReader, at: datetime, *, emergency: bool = False
) -> Contact:
    return Contact(
        channel=Channel.VOICE,
        sender=numbers.read(params.get("From", "")),
        recipient=numbers.read(params.get("To", "")),
        at=at,
        emergency_requested=emergency,
    )


def sms_contact(params: Mapping[str, str], numbers: NumberReader, at: datetime) -> Contact:
    return Contact(
        channel=Channel.SMS,
        sender=numbers.read(params.get("From", "")),
        recipient=numbers.read(params.get("To", "")),
        at=at,
        text=params.get("Body", ""),
    )


def call_details(params: Mapping[str, str]) -> dict[str, str]:
    """The call's own facts worth keeping with its evidence (Twilio's ids, caller's area)."""
    keep = ("CallSid", "AccountSid", "From", "To", "Direction", "ForwardedFrom", "CallerName")
    return {key: params[key] for key in keep if params.get(key)}


def sms_details(params: Mapping[str, str]) -> dict[str, object]:
    """The text's facts kept with its evidence; MMS media are kept as references."""
    keep = ("MessageSid", "AccountSid", "From", "To", "NumSegments", "NumMedia")
    details: dict[str, object] = {key: params[key] for key in keep if params.get(key)}
    media = [
        {"url": params[f"MediaUrl{i}"], "type": params.get(f"MediaContentType{i}", "")}
        for i in range(_int(params.get("NumMedia")))
        if params.get(f"MediaUrl{i}")
    ]
    if media:
        details["media"] = media
    return details


def opt_keyword(body: str) -> bool | None:
    """True for STOP, False for START, None for any other text."""
    word = body.strip().lower()
    if word in STOP_WORDS:
        return True
    if word in START_WORDS:
        return False
    return None


def _int(value: str | None) -> int:
    try:
        return max(0, min(int(value or "0"), 10))
    except ValueError:
        return 0


def seconds(value: str | None) -> int | None:
    """A duration Twilio sent (CallDuration, RecordingDuration), or None."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
