"""The policy compiled for lookups: who is this sender, and what applies to them.

``decide`` runs for every inbound contact, so the work that does not depend on the
contact (parsing periods, indexing identities, sorting restrictions) is done once here,
when the policy is loaded or changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Self
from zoneinfo import ZoneInfo

from rules.closed_days import NO_CLOSED_DAYS, ClosedDays
from rules.exemptions import ExemptionClassifier
from rules.frozen import direct_init
from rules.lifecycle import lapse_instant
from rules.models import (
    Channel,
    Customer,
    Limit,
    Officer,
    Policy,
    Representative,
    Restriction,
    Status,
)
from rules.protected import NO_ROUTES, ProtectedRoutes
from rules.scope import Teams


@dataclass(frozen=True, slots=True)
class DecisionSettings:
    """Organisation-wide facts decisions depend on (from the gateway's settings)."""

    zone: ZoneInfo
    emergency_number: str | None = None
    exemptions: ExemptionClassifier = field(default_factory=ExemptionClassifier.build)
    # Staff addresses and numbers no restriction touches, and where each class of
    # exempt contact goes (rules.protected).
    protected: ProtectedRoutes = NO_ROUTES
    # The organisation's choice that a restriction stops at the start of its review date
    # (local time) unless it was renewed; enforced here, at the moment, so no contact
    # slips through while the recorded status catches up.
    lapse_at_review: bool = False
    # The days the office is closed (bank holidays, closures an administrator set): no
    # call window applies on them, and callers are never told to call on one.
    closed: ClosedDays = NO_CLOSED_DAYS
    # The organisation's teams (rules.scope): what a restriction's scope names.
    teams: Teams = field(default_factory=dict)


@direct_init
@dataclass(frozen=True, slots=True)
class Match:
    """A sender identified: the customer, and the representative's name if it was one."""

    customer_id: str
    representative: str | None = None


class Ambiguous:
    """Marker: the sender represents several customers."""

    __slots__ = ()


AMBIGUOUS = Ambiguous()


_RECORDED = "customer:"
_REPRESENTATIVE = "#representative:"


def recorded_sender(customer_id: str, representative: int | None = None) -> str:
    """The sender of contact an officer records (a letter, a visit): the customer, or
    their representative by position, since such contact has no address to match."""
    key = f"{_RECORDED}{customer_id}"
    return key if representative is None else f"{key}{_REPRESENTATIVE}{representative}"


@dataclass(frozen=True, slots=True)
class CompiledLimit:
    """A limit with its period parsed and its channel ready for counting (None = any)."""

    limit: Limit
    period: timedelta
    channel: Channel | None
    # The limit's channel as a decision's counts name it ("email", "any").
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.limit.channel))


@dataclass(frozen=True, slots=True)
class CompiledRestriction:
    """A restriction with its limits compiled, and the instants it is in force between:
    from ``starts`` until ``until`` (its end or, where reviews lapse, its lapse, whichever
    comes first; None for neither)."""

    restriction: Restriction
    limits: tuple[CompiledLimit, ...]
    starts: datetime
    until: datetime | None
    # Every staff address and number it covers (teams resolved); None for all of them.
    scope: frozenset[str] | None = None
    # The restriction's id (read for every decision, so kept here).
    id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.restriction.id)

    def covers(self, recipient: str) -> bool:
        """True when contact to ``recipient`` is contact this restriction is about."""
        return self.scope is None or recipient in self.scope


def _compile(restriction: Restriction, settings: DecisionSettings) -> CompiledRestriction:
    limits = tuple(
        CompiledLimit(
            limit=limit,
            period=limit.period,
            channel=None if limit.channel == "any" else Channel(limit.channel),
        )
        for limit in restriction.limits
    )
    ends = [restriction.ends] if restriction.ends is not None else []
    if settings.lapse_at_review and restriction.review_on is not None:
        ends.append(lapse_instant(restriction.review_on, settings.zone))
    return CompiledRestriction(
        restriction=restriction,
        limits=limits,
        starts=restriction.starts,
        until=min(ends, default=None),
        scope=None if restriction.scope is None else restriction.scope.identities(settings.teams),
    )


class CustomerDirectory(Mapping[str, Customer]):
    """Every customer's addresses and numbers, compactly, for working out who wrote.

    A customer as a pydantic model costs about 1.5 kB, a large landlord has 100,000 of
    them, and ``decide`` needs one at a time. The directory keeps what identifying a
    sender takes (each address or number already resolved: to the customer's id when it
    is their own, else to their representative's ``Match`` or to ``AMBIGUOUS``) and one
    flat tuple per customer, from which the customer's model is rebuilt when it is asked
    for (``directory[customer_id]``). Filled with ``add``.
    """

    __slots__ = ("_identities", "_names", "_people")

    def __init__(self) -> None:
        self._identities: dict[str, str | Match | Ambiguous] = {}
        # customer id -> (name, n emails, n phones, *emails, *phones, then for each
        # representative: Match, n emails, n phones, *emails, *phones)
        self._people: dict[str, tuple[Any, ...]] = {}
        self._names: dict[str, str] = {}  # one copy of each name: many people share one

    def add(
        self,
        customer_id: str,
        name: str,
        emails: Sequence[str],
        phones: Sequence[str],
        representatives: Iterable[tuple[str, Sequence[str], Sequence[str]]] = (),
    ) -> None:
        """Add a customer: their own (normalised) identities, then each representative's
        ``(name, emails, phones)`` in order of position."""
        record: list[object] = [self._shared(name), len(emails), len(phones), *emails, *phones]
        for identity in (*emails, *phones):
            self._claim(identity, customer_id)
        for rep_name, rep_emails, rep_phones in representatives:
            rep = Match(customer_id, self._shared(rep_name))
            record += [rep, len(rep_emails), len(rep_phones), *rep_emails, *rep_phones]
            for identity in (*rep_emails, *rep_phones):
                self._claim(identity, rep)
        self._people[customer_id] = tuple(record)

    def resolve(self, identity: str) -> Match | Ambiguous | None:
        """See ``PolicyIndex.resolve``."""
        found = self._identities.get(identity)
        if isinstance(found, str):
            return Match(found)
        if found is not None or not identity.startswith(_RECORDED):
            return found
        customer_id, marker, position = identity[len(_RECORDED) :].partition(_REPRESENTATIVE)
        record = self._people.get(customer_id)
        if record is None:
            return None
        if not marker:
            return Match(customer_id)
        for number, (rep, _, _, _) in enumerate(_unpack(record).representatives):
            if str(number) == position:
                return rep
        return None

    def __getitem__(self, customer_id: str) -> Customer:
        # Built without validating again: what was added came from validated models,
        # or from the store, which holds nothing else.
        person = _unpack(self._people[customer_id])
        return Customer.model_construct(
            id=customer_id,
            name=person.name,
            emails=list(person.emails),
            phones=list(person.phones),
            representatives=[
                Representative.model_construct(name=name, emails=list(emails), phones=list(phones))
                for _, name, emails, phones in person.representatives
            ],
        )

    def representative_names(self, customer_id: str) -> tuple[str, ...]:
        """The customer's representatives' names, by position, without the model."""
        # (Read for every notice: their addresses are not copied out of the record.)
        record = self._people[customer_id]
        return tuple(record[at].representative for at in _representatives_at(record))

    def __iter__(self) -> Iterator[str]:
        return iter(self._people)

    def __len__(self) -> int:
        return len(self._people)

    def _shared(self, name: str) -> str:
        return self._names.setdefault(name, name)

    def _claim(self, identity: str, claim: str | Match) -> None:
        """Note who writes from ``identity`` (a customer id: the customer themselves),
        keeping one answer per identity: the person themselves first (someone who is
        both a customer and another customer's representative is, when they write,
        first of all themselves), else the first representative by position, unless
        representatives of several customers share it."""
        current = self._identities.get(identity)
        if current is None or (isinstance(claim, str) and not isinstance(current, str)):
            self._identities[identity] = claim
        elif (
            isinstance(current, Match)
            and isinstance(claim, Match)
            and current.customer_id != claim.customer_id
        ):
            self._identities[identity] = AMBIGUOUS


class _Person(NamedTuple):
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    # (Match, name, emails, phones) for each representative, by position
    representatives: tuple[tuple[Match, str, tuple[str, ...], tuple[str, ...]], ...]


def _unpack(record: tuple[Any, ...]) -> _Person:
    """A directory record read back: the inverse of the layout ``add`` writes."""
    name, n_emails, n_phones = record[:3]
    emails, phones = record[3 : 3 + n_emails], record[3 + n_emails : 3 + n_emails + n_phones]
    reps = []
    for at in _representatives_at(record):
        rep, n_emails, n_phones = record[at : at + 3]
        start = at + 3
        emails_ = record[start : start + n_emails]
        phones_ = record[start + n_emails : start + n_emails + n_phones]
        reps.append((rep, rep.representative, emails_, phones_))
    return _Person(name, emails, phones, tuple(reps))


def _representatives_at(record: tuple[Any, ...]) -> Iterator[int]:
    """Where each representative's part of a directory record starts (its ``Match``,
    then how many emails and phones follow), in order of position."""
    at = 3 + record[1] + record[2]
    while at < len(record):
        yield at
        at += 3 + record[at + 1] + record[at + 2]


class PolicyIndex:
    """A read-only, indexed view of a policy for ``decide``.

    Built from a whole ``Policy`` (tests, benchmarks, explaining a decision), or with
    ``from_directory`` from the officers, the restrictions and a ``CustomerDirectory``,
    which is how the service holds a large policy without a model per customer. Both
    give the same ``resolve``, ``active_restrictions`` and so the same decisions.
    """

    __slots__ = (
        "_directory",
        "_restrictions",
        "_restrictions_by_id",
        "customers",
        "longest_period",
        "officers",
        "policy",
        "settings",
        "version",
    )

    def __init__(self, policy: Policy, settings: DecisionSettings, *, version: int = 0) -> None:
        directory = CustomerDirectory()
        for customer in policy.customers:
            directory.add(
                customer.id,
                customer.name,
                customer.emails,
                customer.phones,
                [(rep.name, rep.emails, rep.phones) for rep in customer.representatives],
            )
        self._build(policy.officers, directory, policy.restrictions, settings, version)
        self.policy: Policy | None = policy
        self.customers: Mapping[str, Customer] = {c.id: c for c in policy.customers}

    @classmethod
    def from_directory(
        cls,
        officers: Iterable[Officer],
        customers: CustomerDirectory,
        restrictions: Iterable[Restriction],
        settings: DecisionSettings,
        *,
        version: int = 0,
    ) -> Self:
        """The index of a policy held without a model per customer: ``customers`` then
        rebuilds a customer's model when asked, and ``policy`` is None."""
        index = cls.__new__(cls)
        index._build(officers, customers, restrictions, settings, version)
        index.policy = None
        index.customers = customers
        return index

    def _build(
        self,
        officers: Iterable[Officer],
        directory: CustomerDirectory,
        restrictions: Iterable[Restriction],
        settings: DecisionSettings,
        version: int,
    ) -> None:
        self.settings = settings
        self.version = version
        self.officers: Mapping[str, Officer] = {o.id: o for o in officers}
        self._directory = directory
        self._restrictions_by_id = {r.id: r for r in restrictions}
        by_customer: dict[str, list[CompiledRestriction]] = {}
        for restriction in sorted(self._restrictions_by_id.values(), key=lambda r: r.id):
            if restriction.status is Status.ACTIVE and restriction.authorised_by:
                by_customer.setdefault(restriction.customer, []).append(
                    _compile(restriction, settings)
                )
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
        return self._directory.resolve(identity)

    def restriction(self, restriction_id: str | None) -> Restriction | None:
        """A restriction by id, whatever its status (held contact names the one it was
        held under, which may have ended since)."""
        return None if restriction_id is None else self._restrictions_by_id.get(restriction_id)

    def active_restrictions(
        self, customer_id: str, now: datetime
    ) -> tuple[CompiledRestriction, ...]:
        """The customer's restrictions in force at ``now``, in id order."""
        compiled = self._restrictions.get(customer_id)
        if compiled is None:
            return ()
        in_force = [r for r in compiled if r.starts <= now and (r.until is None or now < r.until)]
        # (Usually all of them: then the tuple kept, not a copy.)
        return compiled if len(in_force) == len(compiled) else tuple(in_force)

    def restricted_customers(self, now: datetime) -> tuple[str, ...]:
        """The customers with a restriction in force at ``now``, in id order (what an
        unknown sender is compared with, to list possible matches)."""
        return tuple(c for c in sorted(self._restrictions) if self.active_restrictions(c, now))

    def representative_names(self, customer_id: str) -> tuple[str, ...]:
        """The names of the customer's representatives, by position (for a notice)."""
        customers = self.customers
        if isinstance(customers, CustomerDirectory):
            return customers.representative_names(customer_id)  # no model built
        return tuple(rep.name for rep in customers[customer_id].representatives)

    def officer(self, officer_id: str | None) -> Officer | None:
        return None if officer_id is None else self.officers.get(officer_id)
