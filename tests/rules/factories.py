"""Small builders for policies in rules tests: a base case and keyword overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rules.closed_days import NO_CLOSED_DAYS, ClosedDays
from rules.decision import Contact
from rules.exemptions import ExemptionClassifier
from rules.models import Channel, Policy
from rules.policy_index import DecisionSettings, PolicyIndex
from rules.protected import NO_ROUTES, ProtectedRoutes
from rules.scope import Teams

LONDON = ZoneInfo("Europe/London")
# Tuesday 24 November 2026, 10:30 in London (GMT, so also 10:30 UTC).
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
CUSTOMER_EMAIL = "alex@example.net"
CUSTOMER_PHONE = "+447700900123"
REP_EMAIL = "worker@charity.example"
REP_PHONE = "+447700900555"
STAFF_EMAIL = "housing@example.org"
STAFF_NUMBER = "+441632960000"
EMERGENCY = "+441632960999"

OFFICERS: list[dict[str, Any]] = [
    {
        "id": "jsmith",
        "name": "Jane Smith",
        "email": "jane.smith@example.org",
        "phone": "+441632960001",
        "deputy": "akhan",
    },
    {"id": "akhan", "name": "Ali Khan", "email": "ali.khan@example.org", "phone": "+441632960002"},
    {"id": "nophone", "name": "No Phone", "email": "no.phone@example.org"},
]


def restriction(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "R-1",
        "customer": "C-1",
        "reason": "Over 40 calls a week to several staff",
        "proposed_by": "officer.a",
        "authorised_by": "director.b",
        "status": "active",
        "starts": "2026-11-01T09:00:00Z",
        "review_on": "2027-05-01",
        "channels": ["email"],
        "named_officer": "jsmith",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def customer(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "C-1",
        "name": "Alex Example",
        "emails": [CUSTOMER_EMAIL],
        "phones": ["07700 900123"],
        "representatives": [
            {"name": "Support worker", "emails": [REP_EMAIL], "phones": [REP_PHONE]}
        ],
    }
    base.update(overrides)
    return base


# The default classifier, built once: building it takes about 75 ms, and the property
# tests build a policy for every example. It reads every text the same way each time.
DEFAULT_EXEMPTIONS = ExemptionClassifier.build()


def index(
    *restrictions: dict[str, Any],
    customers: list[dict[str, Any]] | None = None,
    officers: list[dict[str, Any]] | None = None,
    emergency: str | None = EMERGENCY,
    protected: ProtectedRoutes = NO_ROUTES,
    closed: ClosedDays = NO_CLOSED_DAYS,
    teams: Teams | None = None,
) -> PolicyIndex:
    policy = Policy.model_validate(
        {
            "officers": OFFICERS if officers is None else officers,
            "customers": customers if customers is not None else [customer()],
            "restrictions": list(restrictions),
        }
    )
    return PolicyIndex(
        policy,
        DecisionSettings(
            zone=LONDON,
            emergency_number=emergency,
            protected=protected,
            exemptions=DEFAULT_EXEMPTIONS,
            closed=closed,
            teams=teams or {},
        ),
    )


def contact(channel: Channel | str = Channel.EMAIL, **overrides: Any) -> Contact:
    channel = Channel(channel)
    defaults: dict[str, Any] = {
        "channel": channel,
        "sender": CUSTOMER_PHONE if channel is not Channel.EMAIL else CUSTOMER_EMAIL,
        "recipient": STAFF_NUMBER if channel is not Channel.EMAIL else STAFF_EMAIL,
        "at": NOW,
    }
    defaults.update(overrides)
    return Contact(**defaults)
