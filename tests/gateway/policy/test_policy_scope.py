"""Scope and dedicated route in the policy file: read, written back, and refused on the
line at fault."""

from __future__ import annotations

import pytest

from gateway.policy.file import PolicyFileError, dump_policy, load_policy_file
from rules.models import Restriction

TEAMS = {
    "complaints": frozenset({"complaints@example.org"}),
    "repairs": frozenset({"repairs@example.org"}),
}

HEAD = """\
officers:
  - id: jsmith
    name: Jane Smith
    email: jane.smith@example.org
customers:
  - id: C-1
    name: Alex Example
    emails: [alex@example.net]
restrictions:
  - id: R-1
    customer: C-1
    reason: Abuse of the complaints team
    proposed_by: officer.a
    authorised_by: director.b
    status: active
    starts: 2026-11-01T09:00:00Z
    channels: [email, voice]
"""


def test_scope_and_route_read_and_round_trip() -> None:
    text = HEAD + (
        "    scope:\n"
        "      teams: [complaints]\n"
        "      addresses: [Tenancy.Alex@example.org]\n"
        "    dedicated_route:\n"
        "      email: tenancy.alex@example.org\n"
        "      otherwise: hold\n"
    )
    policy = load_policy_file(text, teams=TEAMS)
    made = policy.restrictions[0]
    assert made.scope is not None and made.scope.teams == ["complaints"]
    assert made.dedicated_route is not None and made.dedicated_route.otherwise == "hold"
    again = load_policy_file(dump_policy(policy), teams=TEAMS)
    assert again.restrictions == policy.restrictions


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            "    scope:\n      teams: [complaint]\n",
            "line 19: restriction R-1, scope.teams[0]: 'complaint' is not a known team "
            "(known: complaints, repairs)",
        ),
        (
            "    scope:\n      addresses:\n"
            "        - complaints@example.org\n        - complaints\n",
            "line 21: restriction R-1, scope.addresses[1]: 'complaints' is not an email address",
        ),
        (
            "    scope:\n      numbers: ['0161']\n",
            "line 19: restriction R-1, scope.numbers[0]: '0161' is not",
        ),
        (
            "    dedicated_route:\n      phone: '12'\n",
            "line 19: restriction R-1, dedicated_route.phone: '12' is not",
        ),
        (
            "    scope:\n      teams: [repairs]\n    dedicated_route:\n"
            "      email: complaints@example.org\n",
            "line 21: restriction R-1, dedicated_route.email: email 'complaints@example.org' "
            "is outside the restriction's scope",
        ),
        (
            "    scope:\n      addresses: [repairs@example.org]\n    dedicated_route:\n"
            "      email: complaints@example.org\n",
            "line 21: restriction R-1, dedicated_route: email 'complaints@example.org' "
            "is outside the restriction's scope",
        ),
        (
            "    scope: {}\n",
            "line 18: restriction R-1, scope: scope names no team, address or number",
        ),
    ],
)
def test_bad_scope_or_route_names_the_line_and_field(tail: str, expected: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(HEAD + tail, teams=TEAMS)
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.report()


def test_restriction_model_is_unchanged_without_scope() -> None:
    policy = load_policy_file(HEAD, teams=TEAMS)
    assert policy.restrictions[0] == Restriction.model_validate(
        {**policy.restrictions[0].model_dump(), "scope": None, "dedicated_route": None}
    )
    assert "scope" not in dump_policy(policy) and "dedicated_route" not in dump_policy(policy)
