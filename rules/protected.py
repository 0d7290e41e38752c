"""Protected routes and where each exemption class goes.

Every policy this product serves keeps some routes open whatever a restriction says:
the emergency repairs line, appeals, complaints, data protection, safeguarding. A
protected route is a staff address or number no restriction ever touches: contact to
it is delivered as addressed (and, from a restricted customer, recorded as exempt with
the route's name). The same routes are where the classes of exempt contact go: an
appeal written to the named officer goes to the appeals address, a request for one's
own data to the data-protection address, and so on. A class with no route of its own
goes where exempt contact went before: the named officer, or the staff it was sent to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ExemptClass(StrEnum):
    """The kinds of contact no restriction may stop, in the order a reader must see them
    (a message that is both a repair and a safeguarding concern is labelled safeguarding)."""

    SAFEGUARDING = "safeguarding"
    EMERGENCY_REPAIR = "emergency_repair"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"
    APPEAL = "appeal"
    COMPLAINT = "complaint"


class RouteName(StrEnum):
    """The protected routes an organisation names; each but ``other`` serves one class."""

    EMERGENCY_REPAIRS = "emergency_repairs"
    SAFEGUARDING = "safeguarding"
    DATA_PROTECTION = "data_protection"
    APPEALS = "appeals"
    COMPLAINTS = "complaints"
    HEAD_OF_SERVICE = "head_of_service"
    OTHER = "other"


# The route whose first address receives each class of exempt contact.
CLASS_ROUTE: Mapping[ExemptClass, RouteName] = {
    ExemptClass.EMERGENCY_REPAIR: RouteName.EMERGENCY_REPAIRS,
    ExemptClass.SAFEGUARDING: RouteName.SAFEGUARDING,
    ExemptClass.SUBJECT_ACCESS_REQUEST: RouteName.DATA_PROTECTION,
    ExemptClass.APPEAL: RouteName.APPEALS,
    ExemptClass.COMPLAINT: RouteName.COMPLAINTS,
}

# How a route is named to a customer ("To appeal, write to ...").
ROUTE_PURPOSE: Mapping[RouteName, str] = {
    RouteName.EMERGENCY_REPAIRS: "for an emergency repair",
    RouteName.SAFEGUARDING: "if you or someone else is at risk",
    RouteName.DATA_PROTECTION: "to ask for the information we hold about you",
    RouteName.APPEALS: "to appeal against the decision to restrict your contact",
    RouteName.COMPLAINTS: "to make a complaint",
}


@dataclass(frozen=True, slots=True)
class ProtectedRoutes:
    """The organisation's protected routes: route name -> its addresses and numbers.

    Addresses are lower-cased email addresses and numbers E.164 (the gateway normalises
    them when it reads its settings). The first address of a class's route is where
    that class of exempt contact is sent; ``head_of_service`` (if named) receives a new
    complaint from a customer under no contact, as the policies ask.
    """

    routes: Mapping[RouteName, tuple[str, ...]] = field(default_factory=dict)
    _by_identity: dict[str, RouteName] = field(init=False, repr=False, compare=False)
    _open: tuple[tuple[RouteName, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_identity: dict[str, RouteName] = {}
        for name, identities in self.routes.items():
            for identity in identities:
                by_identity.setdefault(identity, name)
        object.__setattr__(self, "_by_identity", by_identity)
        open_routes = []
        for name in ROUTE_PURPOSE:
            way = self.address(name) or self.number(name)
            if way is not None:
                open_routes.append((name, way))
        object.__setattr__(self, "_open", tuple(open_routes))

    @classmethod
    def of(
        cls, routes: Mapping[RouteName, Iterable[str]], emergency_number: str | None = None
    ) -> ProtectedRoutes:
        """Built from any iterables; routes with nothing in them are left out. The
        emergency number, when given, is always an emergency repairs route."""
        found = {name: tuple(ids) for name, ids in routes.items()}
        repairs = found.get(RouteName.EMERGENCY_REPAIRS, ())
        if emergency_number and emergency_number not in repairs:
            found[RouteName.EMERGENCY_REPAIRS] = (*repairs, emergency_number)
        return cls({name: ids for name, ids in found.items() if ids})

    def route_of(self, identity: str) -> RouteName | None:
        """The protected route ``identity`` (a staff address or number) belongs to."""
        return self._by_identity.get(identity)

    def address(self, name: RouteName) -> str | None:
        """The route's first email address, or None when it has none."""
        return next((i for i in self.routes.get(name, ()) if "@" in i), None)

    def number(self, name: RouteName) -> str | None:
        """The route's first number, or None when it has none."""
        return next((i for i in self.routes.get(name, ()) if i.startswith("+")), None)

    def destination(self, exempt_class: ExemptClass, *, no_contact: bool) -> str | None:
        """The address a class of exempt email or text goes to, or None for "as before"
        (the named officer, else the staff it was sent to).

        A complaint from a customer under no contact goes to the head of service where
        one is named (a policy's rule: such a complaint is referred upwards).
        """
        if exempt_class is ExemptClass.COMPLAINT and no_contact:
            head = self.address(RouteName.HEAD_OF_SERVICE)
            if head is not None:
                return head
        return self.address(CLASS_ROUTE[exempt_class])

    def open_routes(self) -> tuple[tuple[RouteName, str], ...]:
        """The routes to name in a notice, with the way to use each (address, else
        number), in a fixed order; routes with no purpose of their own are not named."""
        return self._open


NO_ROUTES = ProtectedRoutes()
