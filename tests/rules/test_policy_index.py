"""The policy index: who a sender is, and the lean form the service holds."""

from __future__ import annotations

from typing import Any

import pytest

from rules.decision import EMPTY_USAGE
from rules.engine import decide
from rules.models import Customer, Policy
from rules.policy_index import (
    AMBIGUOUS,
    Ambiguous,
    CustomerDirectory,
    DecisionSettings,
    Match,
    PolicyIndex,
    recorded_sender,
)
from tests.rules.factories import (
    CUSTOMER_EMAIL,
    CUSTOMER_PHONE,
    LONDON,
    NOW,
    OFFICERS,
    REP_EMAIL,
    contact,
    customer,
    restriction,
)

SHARED_REP = "advocate@charity.example"
LATE = "late@example.net"
SETTINGS = DecisionSettings(zone=LONDON)


def reference_resolve(policy: Policy, identity: str) -> Match | Ambiguous | None:
    """How the index answered before it kept a directory: every match per identity,
    the person themselves first, ambiguous across several customers."""
    matches: list[Match] = []
    for c in policy.customers:
        if identity in (*c.emails, *c.phones, recorded_sender(c.id)):
            matches.append(Match(c.id))
        for position, rep in enumerate(c.representatives):
            if identity in (*rep.emails, *rep.phones, recorded_sender(c.id, position)):
                matches.append(Match(c.id, rep.name))
    matches.sort(key=lambda m: m.representative is not None)
    if not matches:
        return None
    if matches[0].representative is None:
        return matches[0]
    if len({m.customer_id for m in matches}) > 1:
        return AMBIGUOUS
    return matches[0]


def rep(name: str, *emails: str) -> dict[str, Any]:
    return {"name": name, "emails": list(emails)}


def tangled_policy() -> Policy:
    """Representatives shared between customers, a customer who is also someone's
    representative, one representative listed twice for a customer, and customers
    with and without restrictions."""
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [
                customer(),
                customer(
                    id="C-2",
                    emails=["sam@example.net"],
                    phones=[],
                    representatives=[rep("Advocate", SHARED_REP, LATE), rep("Friend", REP_EMAIL)],
                ),
                customer(
                    id="C-3",
                    emails=["jo@example.net"],
                    phones=["07700 900777"],
                    representatives=[
                        rep("Advocate", SHARED_REP, LATE),
                        rep("Sister", "sam@example.net", "pal@example.net"),
                    ],
                ),
                customer(
                    id="C-4",
                    emails=["pat@example.net"],
                    phones=[],
                    representatives=[
                        rep("First", "two@example.org"),
                        rep("Second", "two@example.org"),
                    ],
                ),
                customer(id="C-5", emails=[], phones=[], representatives=[]),
                # writes from addresses that representatives listed before them
                customer(id="C-6", emails=[LATE, "pal@example.net"], phones=[], representatives=[]),
            ],
            "restrictions": [
                restriction(),
                restriction(id="R-3", customer="C-3", status="revoked"),
            ],
        }
    )


def lean(policy: Policy) -> PolicyIndex:
    directory = CustomerDirectory()
    for c in policy.customers:
        reps = [(r.name, r.emails, r.phones) for r in c.representatives]
        directory.add(c.id, c.name, c.emails, c.phones, reps)
    return PolicyIndex.from_directory(policy.officers, directory, policy.restrictions, SETTINGS)


def identities(policy: Policy) -> list[str]:
    out = ["nobody@elsewhere.example", "+447700900000", "customer:C-9", "customer:C-1#x"]
    for c in policy.customers:
        out += [*c.emails, *c.phones, recorded_sender(c.id)]
        for position, r in enumerate(c.representatives):
            out += [*r.emails, *r.phones, recorded_sender(c.id, position)]
        out += [recorded_sender(c.id, len(c.representatives)), f"customer:{c.id}#representative:00"]
    return out


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (CUSTOMER_EMAIL, Match("C-1")),
        (CUSTOMER_PHONE, Match("C-1")),
        (REP_EMAIL, AMBIGUOUS),  # C-1's support worker and C-2's friend
        (SHARED_REP, AMBIGUOUS),  # C-3 has no restriction in force: still unclear
        ("sam@example.net", Match("C-2")),  # a customer, and C-3's representative
        ("two@example.org", Match("C-4", "First")),  # listed twice: the first
        (LATE, Match("C-6")),  # the customer themselves, though listed last
        ("pal@example.net", Match("C-6")),
        (recorded_sender("C-5"), Match("C-5")),
        (recorded_sender("C-3", 1), Match("C-3", "Sister")),
        (recorded_sender("C-3", 2), None),
        ("customer:C-3#representative:01", None),
        ("customer:C-9", None),
        ("stranger@elsewhere.example", None),
    ],
)
@pytest.mark.parametrize("build", [lambda p: PolicyIndex(p, SETTINGS), lean])
def test_resolve(identity: str, expected: Match | Ambiguous | None, build: Any) -> None:
    assert build(tangled_policy()).resolve(identity) == expected


@pytest.mark.parametrize("build", [lambda p: PolicyIndex(p, SETTINGS), lean])
def test_resolve_answers_as_before_for_every_identity(build: Any) -> None:
    policy = tangled_policy()
    index = build(policy)
    for identity in identities(policy):
        assert index.resolve(identity) == reference_resolve(policy, identity), identity


def test_the_directory_rebuilds_every_customer() -> None:
    policy = tangled_policy()
    index = lean(policy)
    assert index.policy is None
    assert len(index.customers) == len(policy.customers)
    assert list(index.customers) == [c.id for c in policy.customers]
    assert [index.customers[c.id] for c in policy.customers] == policy.customers
    assert all(isinstance(c, Customer) for c in index.customers.values())
    assert index.customers.get("C-9") is None


def test_restrictions_by_id_whatever_their_status() -> None:
    for index in (PolicyIndex(tangled_policy(), SETTINGS), lean(tangled_policy())):
        assert index.restriction("R-3") is not None
        assert index.restriction("R-3").status == "revoked"  # type: ignore[union-attr]
        assert index.restriction("R-9") is None
        assert index.restriction(None) is None
        assert [r.id for r in index.active_restrictions("C-1", NOW)] == ["R-1"]
        assert index.active_restrictions("C-3", NOW) == ()
        # Only C-1's restriction is in force; none is yet, a year before.
        assert index.restricted_customers(NOW) == ("C-1",)
        assert index.restricted_customers(NOW.replace(year=NOW.year - 1)) == ()


@pytest.mark.parametrize("sender", [CUSTOMER_EMAIL, REP_EMAIL, "sam@example.net", "x@y.example"])
def test_the_same_decisions_from_either_form(sender: str) -> None:
    policy = tangled_policy()
    full, compact = PolicyIndex(policy, SETTINGS), lean(policy)
    case = contact(sender=sender)
    assert decide(case, compact, EMPTY_USAGE, NOW) == decide(case, full, EMPTY_USAGE, NOW)


def test_representative_names_from_either_form() -> None:
    policy = tangled_policy()
    for index in (PolicyIndex(policy, SETTINGS), lean(policy)):
        for c in policy.customers:
            assert index.representative_names(c.id) == tuple(r.name for r in c.representatives)
    assert lean(policy).representative_names("C-3") == ("Advocate", "Sister")
