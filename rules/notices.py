"""What the customer is told instead (SPEC §4): plain words, no jargon, no blame.

The notice is the part of a restriction the customer actually meets, and what an
ombudsman later reads. It says what happened to this contact, what is allowed instead
(the channel, the named officer's address, the next call window) and, always, how to
reach the organisation in an emergency, because a restriction must never stop that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.closed_days import NO_CLOSED_DAYS, ClosedDays, ClosedKind
from rules.decision_parts import HoldReason, LimitCount
from rules.frozen import direct_init
from rules.identity import display_phone
from rules.models import Channel, Officer, Restriction, parse_period
from rules.protected import ROUTE_PURPOSE, RouteName
from rules.windows import closed_today, next_window
from rules.wording import clock_words, date_words, period_words, windows_words

_THING = {
    Channel.EMAIL: "email",
    Channel.SMS: "text message",
    Channel.VOICE: "call",
    Channel.LETTER: "letter",
    Channel.VISIT: "visit",
    Channel.STAFF_MOBILE: "call",
    Channel.SOCIAL_MEDIA: "social media message",
}
_PLURAL = {
    Channel.EMAIL: "emails",
    Channel.SMS: "text messages",
    Channel.VOICE: "phone calls",
    Channel.LETTER: "letters",
    Channel.VISIT: "visits to our offices",
    Channel.STAFF_MOBILE: "calls to staff mobiles",
    Channel.SOCIAL_MEDIA: "social media messages",
}
# Contact that has happened and cannot be "kept and not passed on" (a visit, a call).
_NOT_KEPT = frozenset({Channel.VOICE, Channel.VISIT, Channel.STAFF_MOBILE})
_OTHER_WAYS = {
    Channel.LETTER: "by letter",
    Channel.STAFF_MOBILE: "by phone to a member of staff's mobile",
    Channel.SOCIAL_MEDIA: "through social media",
}


@direct_init
@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """Everything a notice may mention, gathered by the engine."""

    channel: Channel
    hold_reason: HoldReason
    restriction: Restriction
    officer: Officer | None
    zone: ZoneInfo
    emergency_number: str | None
    representatives: tuple[str, ...]
    now: datetime
    exceeded: LimitCount | None = None
    reset_at: datetime | None = None
    # The routes that stay open whatever the restriction (rules.protected).
    routes: tuple[tuple[RouteName, str], ...] = ()
    # Only when the caller may call (and the emergency route): a call outside every call
    # window under a restriction whose customer is not otherwise told (SPEC §4.5).
    when_to_call_only: bool = False
    # The days the office is closed: the next window is never on one, and a call on one
    # is told why it is not taken.
    closed: ClosedDays = NO_CLOSED_DAYS


_CLOSED_TODAY = {
    ClosedKind.BANK_HOLIDAY: "We are closed today for the bank holiday.",
    ClosedKind.CLOSURE: "The office is closed today.",
}


def notice_text(facts: NoticeFacts) -> str:
    """The message for the customer: what happened, what is allowed instead, emergencies."""
    if facts.when_to_call_only:
        return " ".join(
            p for p in (_what_happened(facts), _when_to_call(facts), _emergency(facts)) if p
        )
    parts = [_what_happened(facts)]
    if facts.hold_reason not in (HoldReason.NO_CONTACT, HoldReason.REPRESENTATIVE_ONLY):
        parts.append(_allowed_instead(facts))
    parts.append(_emergency(facts))
    parts.append(_open_routes(facts))
    return " ".join(p for p in parts if p)


def _what_happened(facts: NoticeFacts) -> str:
    thing = _THING[facts.channel]
    kept = f"Your {thing} has been kept on our records but will not be passed on."
    if facts.channel in _NOT_KEPT:
        kept = ""
    reason = facts.hold_reason
    if reason is HoldReason.NO_CONTACT:
        return (
            "Under the arrangement we have written to you about, we cannot accept contact "
            f"from you at present. {kept}"
        ).strip()
    if reason is HoldReason.REPRESENTATIVE_ONLY:
        names = " or ".join(facts.representatives) or "your representative"
        return (f"At present we can accept contact only through {names}. {kept}").strip()
    if reason is HoldReason.CHANNEL_NOT_ALLOWED:
        return f"At present we cannot accept {_PLURAL[facts.channel]} from you. {kept}".strip()
    if reason is HoldReason.OUTSIDE_CALL_WINDOW:
        only = f"We can take your calls only {windows_words(facts.restriction.call_windows)}."
        closed = closed_today(facts.now, facts.zone, facts.closed)
        return only if closed is None else f"{_CLOSED_TODAY[closed[1]]} {only}"
    if reason is HoldReason.EXCESS:
        return _excess(facts, kept)
    if reason is HoldReason.OFF_ROUTE:
        return _off_route(facts, kept)
    return (
        f"Your {thing} has been received and will be read. Under the arrangement we have "
        "written to you about, we will reply only if it raises a new matter."
    )


def _excess(facts: NoticeFacts, kept: str) -> str:
    text = "You have reached the number of contacts we agreed with you"
    if facts.exceeded is not None:
        what = (
            "contacts"
            if facts.exceeded.channel == "any"
            else _PLURAL[Channel(facts.exceeded.channel)]
        )
        period = period_words(parse_period(facts.exceeded.per))
        text = (
            f"You have reached the limit of {facts.exceeded.max} {what} in {period} "
            "that we agreed with you"
        )
    text += "." + (f" {kept}" if kept else "")
    if facts.reset_at is not None:
        text += f" You can contact us again from {_when(facts.reset_at, facts.zone)}."
    return text


def _off_route(facts: NoticeFacts, kept: str) -> str:
    """Sent elsewhere than the dedicated route: say where to write or call instead."""
    route = facts.restriction.dedicated_route
    # The engine holds contact as off route only under a route with a way for its channel.
    way = (route.way_for(facts.channel) if route is not None else None) or ""
    if way.startswith("+"):
        shown = display_phone(way)
        ask = f"Please call or text us only on {shown}, the number we agreed with you."
    else:
        ask = f"Please write to us only at {way}, the address we agreed with you."
    return f"{ask} {kept}".strip()


def _allowed_instead(facts: NoticeFacts) -> str:
    restriction = facts.restriction
    ways: list[str] = []
    for channel in restriction.channels:
        if channel is not facts.channel:
            ways.append(_way(channel, facts))
    sentences = []
    if ways:
        also = " also" if facts.hold_reason is HoldReason.OUTSIDE_CALL_WINDOW else ""
        sentences.append(f"You can{also} contact us " + _join(ways) + ".")
    if Channel.VOICE in restriction.channels:
        sentences.append(_when_to_call(facts))
    return " ".join(s for s in sentences if s)


def _when_to_call(facts: NoticeFacts) -> str:
    """The next call window, or the one open now; empty when calls have no windows."""
    restriction = facts.restriction
    window = None
    if restriction.call_windows:
        window = next_window(restriction.call_windows, facts.now, facts.zone, facts.closed)
    if window is None:
        return ""
    if window.starts_at <= facts.now:
        end = clock_words(_local_offset(window.ends_at, facts.zone))
        return f"You can call now, until {end}."
    return f"The next time you can call is {window.words}."


def _way(channel: Channel, facts: NoticeFacts) -> str:
    officer = facts.officer
    if channel is Channel.EMAIL:
        return f"by email to {officer.name} at {officer.email}" if officer else "by email"
    if channel is Channel.SMS:
        return "by text message"
    if channel is Channel.VISIT:
        if facts.restriction.visits_by_appointment:
            return "in person at our offices, by appointment"
        return "in person at our offices"
    if channel in _OTHER_WAYS:
        return _OTHER_WAYS[channel]
    way = "by phone"
    if officer is not None and officer.phone:
        way += f" to {officer.name} on {display_phone(officer.phone)}"
    if facts.restriction.call_windows:
        way += f" ({windows_words(facts.restriction.call_windows)})"
    return way


def _emergency(facts: NoticeFacts) -> str:
    lead = (
        "If you need an emergency repair, have a gas or water leak, or you or someone else "
        "is in danger,"
    )
    if facts.emergency_number:
        return f"{lead} call {display_phone(facts.emergency_number)} at any time."
    if facts.channel is Channel.VOICE:
        return (
            f"{lead} call 999 if anyone is in immediate danger, or our main number for an "
            "emergency repair."
        )
    return f"{lead} say so in your message and it will be passed on straight away."


def _open_routes(facts: NoticeFacts) -> str:
    """The protected routes, each with what it is for: "To appeal against this decision,
    write to appeals@example.org." A caller hears only those with a number."""
    sentences = []
    for name, way in facts.routes:
        if name is RouteName.EMERGENCY_REPAIRS and way == facts.emergency_number:
            continue  # already said
        purpose = ROUTE_PURPOSE[name]
        if way.startswith("+"):
            sentences.append(f"{purpose[0].upper()}{purpose[1:]}, call {display_phone(way)}.")
        elif facts.channel is not Channel.VOICE:
            sentences.append(f"{purpose[0].upper()}{purpose[1:]}, write to {way}.")
    return " ".join(sentences)


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _local_offset(at: datetime, zone: ZoneInfo) -> timedelta:
    local = at.astimezone(zone)
    return timedelta(hours=local.hour, minutes=local.minute)


def _when(at: datetime, zone: ZoneInfo) -> str:
    return f"{date_words(at.astimezone(zone).date())} at {clock_words(_local_offset(at, zone))}"
