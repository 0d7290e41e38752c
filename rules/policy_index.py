"""The policy compiled for lookups: who is this sender, and what applies to them.

``decide`` runs for every inbound contact, so the work that does not depend on the
contact (parsing periods, indexing identities, sorting restrictions) is done once here,
when the policy is loaded or changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.exemptions import ExemptionClassifier
from rules.lifecycle import lapse_instant
from rules.models import Channel, Customer, Limit, Officer, Policy, Restriction, Status


@dataclass(frozen=True, slots=True)
class DecisionSettings:
    """Organisation-wide facts decisions depend on (from the gateway's settings)."""

    zone: ZoneInfo
    emergency_number: str | None = None
    exemptions: ExemptionClassifier = field(default_factory=ExemptionClassifier.build)
    # The organisation's choice that a restriction stops at the start of its review date
    # (local time) unless it was renewed; enforced here, at the moment, so no contact
    # slips through while the recorded status catches up.
    lapse_at_review: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """A sender identified: the customer, and the representative's name if it was one."""

    customer_id: str
    representative: str | None = None


class Ambiguous:
    """Marker: the sender represents several customers."""

    __slots__ = ()


AMBIGUOUS = Ambiguous()


def recorded_sender(customer_id: str, representative: int | None = None) -> str:
    """The sender of contact an officer records (a letter, a visit): the customer, or
    their representative by position, since such contact has no address to match."""
    key = f"customer:{customer_id}"
    return key if representative is None else f"{key}#representative:{representative}"


@dataclass(frozen=True, slots=True)
class CompiledLimit:
    """A limit with its period parsed and its channel ready for counting (None = any)."""

    limit: Limit
    period: timedelta
    channel: Channel | None


@dataclass(frozen=True, slots=True)
class CompiledRestriction:
    """A restriction with its limits compiled."""

    restriction: Restriction
    limits: tuple[CompiledLimit, ...]

    @property
    def id(self) -> str:
        return self.restriction.id


def _compile(restriction: Restriction) -> CompiledRestriction:
    limits = tuple(
        CompiledLimit(
            limit=limit,
            period=limit.period,
            channel=None if limit.channel == "any" else Channel(limit.channel),
        )
        for limit in restriction.limits
    )
    return CompiledRestriction(restriction=restriction, limits=limits)


class PolicyIndex:
    """A read-only, indexed view of a Policy for ``decide``."""

    __slots__ = (
        "_identities",
        "_restrictions",
        "customers",
        "longest_period",
        "officers",
        "policy",
        "settings",
        "version",
    )

    def __init__(self, policy: Policy, settings: DecisionSettings, *, version: int = 0) -> None:
        self.policy = policy
        self.settings = settings
        self.version = version
        self.officers: Mapping[str, Officer] = {o.id: o for o in policy.officers}
        self.customers: Mapping[str, Customer] = {c.id: c for c in policy.customers}
        identities: dict[str, list[Match]] = {}
        for customer in policy.customers:
            for identity in (*customer.emails, *customer.phones, recorded_sender(customer.id)):
                identities.setdefault(identity, []).append(Match(customer.id))
            for position, rep in enumerate(customer.representatives):
                own = recorded_sender(customer.id, position)
                for identity in (*rep.emails, *rep.phones, own):
                    identities.setdefault(identity, []).append(Match(customer.id, rep.name))
        # The person themselves first: someone who is both a customer and another
        # customer's representative is, when they write, first of all themselves.
        self._identities = {
            k: tuple(sorted(v, key=lambda m: m.representative is not None))
            for k, v in identities.items()
        }
        by_customer: dict[str, list[CompiledRestriction]] = {}
        for restriction in sorted(policy.restrictions, key=lambda r: r.id):
            if restriction.status is Status.ACTIVE and restriction.authorised_by:
                by_customer.setdefault(restriction.customer, []).append(_compile(restriction))
        self._restrictions = {k: tuple(v) for k, v in by_customer.items()}
        periods = [
            limit.period for rs in self._restrictions.values() for r in rs for limit in r.limits
        ]
        self.longest_period: timedelta = max(periods, default=timedelta(0))

    def resolve(self, identity: str) -> Match | Ambiguous | None:
        """Whose contact this is: the customer (or their representative), nobody, or unclear.

        Unclear only when the sender is a representative of several customers and not a
        customer themselves: no one customer's restriction can then be applied.
        """
        matches = self._identities.get(identity)
        if not matches:
            return None
        if matches[0].representative is None:
            return matches[0]
        if len({m.customer_id for m in matches}) > 1:
            return AMBIGUOUS
        return matches[0]

    def active_restrictions(
        self, customer_id: str, now: datetime
    ) -> tuple[CompiledRestriction, ...]:
        """The customer's restrictions in force at ``now``, in id order."""
        return tuple(
            r
            for r in self._restrictions.get(customer_id, ())
            if r.restriction.is_active(now) and not self.lapsed(r.restriction, now)
        )

    def lapsed(self, restriction: Restriction, now: datetime) -> bool:
        """True once a restriction has reached its review date, where reviews lapse."""
        if not self.settings.lapse_at_review or restriction.review_on is None:
            return False
        return now >= lapse_instant(restriction.review_on, self.settings.zone)

    def officer(self, officer_id: str | None) -> Officer | None:
        return None if officer_id is None else self.officers.get(officer_id)
