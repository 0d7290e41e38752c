"""Restrictions fitted to the service: a scope, and a dedicated route.

Ombudsman guidance asks for restrictions tailored to the service involved, not blanket
ones. A restriction with a ``scope`` covers only the staff addresses, numbers and teams
it names (the complaints team, say): contact from the customer to any other staff
address or number is passed on untouched, as if there were no restriction. A
restriction with a ``dedicated_route`` names the one address (and/or number) the
customer is asked to use; contact to any other staff address is redirected to it, or
held when the restriction says ``otherwise: hold``.

A team is a named set of staff addresses and numbers the organisation defines once
(gateway: the ``teams`` organisation setting), so a restriction names "complaints"
rather than repeating its addresses, and a change of the team's members reaches every
restriction that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rules.fields import (
    EmailList,
    Identifier,
    Model,
    NonEmptyText,
    PhoneList,
    email_field,
    phones_field,
)

Teams = Mapping[str, frozenset[str]]
"""Team id -> its members: lower-cased email addresses and E.164 numbers."""

NO_TEAMS: Teams = {}
# Channels whose staff end is a number (a Channel is a str, so this serves both).
_NUMBERED = frozenset({"sms", "voice"})


class Team(Model):
    """A named set of staff addresses and numbers (the complaints team, the repairs desk)."""

    id: Identifier
    name: NonEmptyText
    addresses: EmailList = Field(default_factory=list)
    numbers: PhoneList = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_members(self) -> Self:
        if not self.addresses and not self.numbers:
            raise ValueError(
                f"team '{self.id}' has no addresses and no numbers: a team is the staff "
                "addresses and numbers it answers"
            )
        return self

    @property
    def members(self) -> frozenset[str]:
        return frozenset((*self.addresses, *self.numbers))


class Scope(Model):
    """The staff a restriction covers when it does not cover them all.

    Contact to any address or number outside the scope is passed on untouched. Leave
    ``scope`` out altogether for a restriction on contact with every part of the
    organisation (the default, and what every restriction did before scopes).
    """

    teams: list[Identifier] = Field(default_factory=list)
    addresses: EmailList = Field(default_factory=list)
    numbers: PhoneList = Field(default_factory=list)

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if not self.teams and not self.addresses and not self.numbers:
            raise ValueError(
                "scope names no team, address or number: name the staff the restriction "
                "covers, or leave scope out to cover every staff address and number"
            )
        return self

    def identities(self, teams: Teams) -> frozenset[str]:
        """Every staff address and number in scope, with the members of its teams (a
        team the organisation no longer defines adds nothing)."""
        found = {*self.addresses, *self.numbers}
        for team in self.teams:
            found.update(teams.get(team, ()))
        return frozenset(found)

    def words(self) -> str:
        """The scope as an officer reads it: "the complaints team and repairs@…"."""
        parts = [f"the {team} team" for team in self.teams]
        parts += [*self.addresses, *self.numbers]
        if len(parts) == 1:
            return parts[0]
        return ", ".join(parts[:-1]) + " and " + parts[-1]


class OffRoute(StrEnum):
    """What happens to contact sent anywhere but the dedicated route."""

    REDIRECT = "redirect"  # delivered to the dedicated route instead
    HOLD = "hold"  # held (a call is refused with a message), like other stopped contact


class DedicatedRoute(Model):
    """The address and/or number a customer is asked to use for all their contact.

    ``email`` serves email; ``phone`` serves texts and calls. A channel the route has
    nothing for (a call when only an address is named) is not affected by it.
    """

    email: str | None = None
    phone: str | None = None
    otherwise: OffRoute = OffRoute.REDIRECT

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else email_field(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else phones_field([value], info)[0]

    @model_validator(mode="after")
    def _names_a_way(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError(
                "dedicated_route names neither an email address nor a phone number: "
                "give the email or phone the customer must use, or leave it out"
            )
        return self

    def way_for(self, channel: str) -> str | None:
        """The route for contact on ``channel`` (an address or a number), or None."""
        if channel == "email":
            return self.email
        if channel in _NUMBERED:
            return self.phone
        return None

    def ways(self) -> tuple[tuple[str, str], ...]:
        """(field, address or number) for each part of the route that is set."""
        return tuple((k, v) for k, v in (("email", self.email), ("phone", self.phone)) if v)


def route_outside_scope(route: DedicatedRoute, covered: frozenset[str]) -> tuple[str, str] | None:
    """The first part of the route (field, value) the scope does not cover, if any.

    Such a route would be a contradiction: contact redirected to it would be contact
    the restriction says it does not cover.
    """
    for name, way in route.ways():
        if way not in covered:
            return name, way
    return None


def team_problems(
    scope: Scope | None, route: DedicatedRoute | None, teams: Teams
) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with a restriction's scope given the organisation's teams: an
    unknown team, or a dedicated route outside a scope made of teams. Each as (the
    location within the restriction, the message)."""
    if scope is None:
        return []
    problems: list[tuple[tuple[str | int, ...], str]] = []
    known = ", ".join(sorted(teams)) or "none is defined yet"
    for position, team in enumerate(scope.teams):
        if team not in teams:
            problems.append(
                (("scope", "teams", position), f"'{team}' is not a known team (known: {known})")
            )
    if route is not None and scope.teams:
        outside = route_outside_scope(route, scope.identities(teams))
        if outside is not None:
            problems.append((("dedicated_route", outside[0]), outside_message(*outside)))
    return problems


def outside_message(field: str, way: str) -> str:
    return (
        f"{field} '{way}' is outside the restriction's scope: the dedicated route must be "
        "one of the addresses or numbers the restriction covers"
    )
