"""What a letter says, as words in one language: the context its template is rendered with.

Each letter kind has the same context shape (so any template may use any field, and a
field a template names that is not here is caught at start-up by ``StrictUndefined``).
Values are already words: dates and times in the organisation's zone and plain form,
limits as "2 emails a day", officers by name and role, the routes that stay open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config.org_settings import OrgSettings, bank_holidays
from gateway.letters.words import (
    HANDLING,
    OUTCOME,
    ROUTE_PURPOSE,
    Lang,
    date_words,
    incident_category_words,
    incident_way_words,
    join_cy,
    limit_words,
    period_amount_words,
    ways_words,
    when_words,
    window_words_lang,
)
from rules.identity import display_phone
from rules.lifecycle import add_period
from rules.models import Officer, Restriction
from rules.protected import ProtectedRoutes, RouteName
from rules.roles import Role
from rules.wording import join_words


class LetterKind(StrEnum):
    """The letters the policies require, in the order a case meets them."""

    WARNING = "warning"
    DECISION = "decision"
    VARIATION = "variation"
    REVIEW = "review"
    APPEAL_ACKNOWLEDGEMENT = "appeal_acknowledgement"
    APPEAL_OUTCOME = "appeal_outcome"


# Which letters are about a restriction (and need one named).
NEEDS_RESTRICTION = frozenset(LetterKind) - {LetterKind.WARNING}

ROLE_WORDS = {
    "en": {
        Role.OFFICER: "Housing Officer",
        Role.AUTHORISER: "Senior Manager",
        Role.ADMIN: "Administrator",
        Role.VIEWER: "Officer",
    },
    "cy": {
        Role.OFFICER: "Swyddog Tai",
        Role.AUTHORISER: "Uwch Reolwr",
        Role.ADMIN: "Gweinyddwr",
        Role.VIEWER: "Swyddog",
    },
}
_NAMED_OFFICER = {"en": "your named officer", "cy": "eich swyddog enwebedig"}
_DEPUTY = {"en": "deputy to your named officer", "cy": "dirprwy i'ch swyddog enwebedig"}


@dataclass(frozen=True)
class LetterInput:
    """Everything a letter is written from, independent of language."""

    kind: LetterKind
    now: datetime
    zone: ZoneInfo
    org: OrgSettings
    org_name: str
    org_address: tuple[str, ...]
    customer: dict[str, Any]
    signatory: str
    signatory_role: Role
    restriction: Restriction | None = None
    officers: dict[str, Officer] = field(default_factory=dict)
    routes: ProtectedRoutes = field(default_factory=ProtectedRoutes)
    emergency_number: str = ""
    behaviour: str | None = None  # a warning: what the customer did
    appeal: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    change_reason: str | None = None  # a variation: why it changed
    # A warning: the incidents it is about (occurred_at, channel, category, description).
    incidents: tuple[dict[str, Any], ...] = ()


def facts(source: LetterInput, lang: Lang) -> dict[str, Any]:
    """The template context for ``source`` in ``lang``."""
    zone = source.zone
    today = source.now.astimezone(zone).date()
    restriction = source.restriction
    return {
        "kind": source.kind.value,
        "lang": lang,
        "org": {"name": source.org_name, "address": list(source.org_address)},
        "date": date_words(today, lang),
        "customer": {"id": source.customer["id"], "name": source.customer["name"]},
        "reference": restriction.id if restriction else source.customer["id"],
        "restriction": None if restriction is None else _restriction(source, restriction, lang),
        "appeal_rights": _appeal_rights(source, today, lang),
        "open_routes": _open_routes(source, lang),
        "emergency_number": _way(source.emergency_number) if source.emergency_number else None,
        "officer": _officer(source, "named", lang),
        "deputy": _officer(source, "deputy", lang),
        "signatory": {
            "name": source.signatory,
            "role": ROLE_WORDS[lang][source.signatory_role],
        },
        "behaviour": source.behaviour,
        "incidents": [_incident(i, zone, lang) for i in source.incidents],
        "change_reason": source.change_reason,
        "review": _review(source.review, lang),
        "appeal": _appeal(source.appeal, zone, lang),
    }


def _restriction(source: LetterInput, restriction: Restriction, lang: Lang) -> dict[str, Any]:
    zone = source.zone
    # Enforced from its start, but never before the decision is made and written.
    starts = max(restriction.starts, source.now)
    allowed = ways_words(
        restriction.channels, lang, by_appointment=restriction.visits_by_appointment
    )
    minutes = None
    if restriction.call_time_limit is not None:
        minutes = max(1, restriction.call_time_limit // 60)
    return {
        "id": restriction.id,
        "reason": restriction.reason,
        "starts": when_words(starts, zone, lang),
        "ends": None if restriction.ends is None else when_words(restriction.ends, zone, lang),
        "review_on": None
        if restriction.review_on is None
        else date_words(restriction.review_on, lang),
        "channels": allowed,
        "ways": join_words(allowed) if lang == "en" else join_cy(allowed),
        "no_channels": not allowed,
        "limits": [limit_words(limit, lang) for limit in restriction.limits],
        "call_windows": [window_words_lang(w, lang) for w in restriction.call_windows],
        "call_minutes": minutes,
        "record_calls": restriction.record_calls,
        "handling": HANDLING[lang][restriction.handling],
        "status": restriction.status.value,
    }


def _appeal_rights(source: LetterInput, today: date, lang: Lang) -> dict[str, Any]:
    period = source.org.appeal_period
    deadline = add_period(today, period, bank_holidays(source.org.bank_holidays, today))
    route = source.routes.address(RouteName.APPEALS) or source.routes.number(RouteName.APPEALS)
    route = None if route is None else _way(route)
    return {
        "period": period_amount_words(period.amount, period.unit.value, lang),
        "deadline": date_words(deadline, lang),
        "route": route,
    }


def _open_routes(source: LetterInput, lang: Lang) -> list[dict[str, str]]:
    out = []
    for name, way in source.routes.open_routes():
        if name is RouteName.EMERGENCY_REPAIRS and way == source.emergency_number:
            continue  # said on its own line
        out.append({"purpose": ROUTE_PURPOSE[lang][name.value], "way": _way(way)})
    return out


def _officer(source: LetterInput, which: str, lang: Lang) -> dict[str, Any] | None:
    restriction = source.restriction
    if restriction is None or restriction.named_officer is None:
        return None
    officer = source.officers.get(restriction.named_officer)
    role = _NAMED_OFFICER[lang]
    if which == "deputy":
        officer = None if officer is None else source.officers.get(officer.deputy or "")
        role = _DEPUTY[lang]
    if officer is None:
        return None
    phone = None if officer.phone is None else display_phone(officer.phone)
    return {"name": officer.name, "role": role, "email": officer.email, "phone": phone}


def _way(way: str) -> str:
    """A route as a customer writes or dials it: numbers in the national format."""
    return display_phone(way) if way.startswith("+") else way


def _review(review: dict[str, Any] | None, lang: Lang) -> dict[str, Any] | None:
    if review is None:
        return None
    next_on = review.get("next_review_on")
    return {
        "renewed": review["outcome"] == "renew",
        "notes": review["notes"],
        "next_review_on": None if next_on is None else date_words(_day(next_on), lang),
    }


def _appeal(appeal: dict[str, Any] | None, zone: ZoneInfo, lang: Lang) -> dict[str, Any] | None:
    if appeal is None:
        return None
    outcome = appeal.get("outcome")
    return {
        "id": appeal["id"],
        "lodged_on": date_words(_day(appeal["lodged_on"]), lang),
        "grounds": appeal["grounds"],
        "outcome": outcome,
        "outcome_words": None if outcome is None else OUTCOME[lang][outcome],
        "reason": appeal.get("decision_reason"),
        "decided_by": appeal.get("decided_by"),
    }


def _incident(incident: dict[str, Any], zone: ZoneInfo, lang: Lang) -> dict[str, str]:
    """One incident as the warning names it: when, how, of what kind, what happened."""
    at = incident["occurred_at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    category = incident_category_words(str(incident["category"]), lang)
    return {
        "when": when_words(at, zone, lang),
        "how": incident_way_words(str(incident["channel"]), lang),
        "kind": category[:1].upper() + category[1:],
        "what": str(incident["description"]).strip(),
    }


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
