"""Scope and dedicated route: where they stand among the other clauses (docs/design.md,
"Scope and dedicated route"), as one table, and the mistakes they refuse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from rules.decision import Action, HoldReason, Usage
from rules.engine import decide
from rules.models import Channel, Policy, Restriction, reference_problems
from rules.protected import ProtectedRoutes, RouteName
from rules.scope import DedicatedRoute, Scope, Team

from .factories import (
    EMERGENCY,
    NOW,
    OFFICERS,
    REP_EMAIL,
    STAFF_EMAIL,
    STAFF_NUMBER,
    contact,
    customer,
    index,
    restriction,
)

COMPLAINTS = "complaints@example.org"
COMPLAINTS_LINE = "+441632960100"
REPAIRS = "repairs@example.org"
TENANCY = "tenancy.alex@example.org"
TENANCY_LINE = "+441632960200"
APPEALS = "appeals@example.org"
JANE = "jane.smith@example.org"
TEAMS = {
    "complaints": frozenset({COMPLAINTS, COMPLAINTS_LINE}),
    "repairs": frozenset({REPAIRS}),
}
ROUTES = ProtectedRoutes.of({RouteName.APPEALS: [APPEALS]})
MONDAY_ONLY = [{"days": ["mon"], "start": "10:00", "end": "12:00"}]


def scoped(**overrides: Any) -> dict[str, Any]:
    """A restriction on the complaints team only, with no named officer."""
    base: dict[str, Any] = {"scope": {"teams": ["complaints"]}, "named_officer": None}
    base.update(overrides)
    return restriction(**base)


def routed(otherwise: str = "redirect", **overrides: Any) -> dict[str, Any]:
    """A restriction whose customer is to write only to the tenancy address."""
    base: dict[str, Any] = {
        "dedicated_route": {"email": TENANCY, "otherwise": otherwise},
        "named_officer": None,
    }
    base.update(overrides)
    return restriction(**base)


def used(n: int, channel: Channel = Channel.EMAIL) -> Usage:
    return Usage(delivered={channel: [NOW - timedelta(hours=h + 1) for h in range(n)]})


@dataclass
class Case:
    name: str
    restriction: dict[str, Any]
    to: str = STAFF_EMAIL
    channel: Channel = Channel.EMAIL
    contact: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    action: Action = Action.DELIVER
    hold_reason: HoldReason | None = None
    deliver_to: str | None = None
    code: str = ""
    restricted: bool = True
    counted: bool = False


CASES = [
    # Scope: a restriction covers only the staff it names; the rest is untouched.
    Case(
        "scope: to the complaints team, the restriction applies",
        scoped(handling="read_and_file"),
        to=COMPLAINTS,
        action=Action.HOLD,
        hold_reason=HoldReason.READ_AND_FILE,
        code="handling.read_and_file",
    ),
    Case(
        "scope: to repairs, untouched (not counted, not recorded)",
        scoped(handling="read_and_file"),
        to=REPAIRS,
        deliver_to=REPAIRS,
        code="out_of_scope",
        restricted=False,
    ),
    Case(
        "scope: a named address is in scope",
        scoped(scope={"addresses": [REPAIRS]}, handling="no_contact", channels=[]),
        to=REPAIRS,
        action=Action.HOLD,
        hold_reason=HoldReason.NO_CONTACT,
    ),
    Case(
        "scope: no contact covers only the scope",
        scoped(handling="no_contact", channels=[]),
        to=STAFF_EMAIL,
        deliver_to=STAFF_EMAIL,
        code="out_of_scope",
        restricted=False,
    ),
    Case(
        "scope: a call to the team's number outside the window is refused",
        scoped(channels=["voice"], call_windows=MONDAY_ONLY),
        channel=Channel.VOICE,
        to=COMPLAINTS_LINE,
        action=Action.MESSAGE,
        hold_reason=HoldReason.OUTSIDE_CALL_WINDOW,
    ),
    Case(
        "scope: a call to another number is put through as dialled",
        scoped(channels=["voice"], call_windows=MONDAY_ONLY),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.CONNECT,
        deliver_to=STAFF_NUMBER,
        code="out_of_scope",
        restricted=False,
    ),
    Case(
        "scope: a representative writing elsewhere is untouched too",
        scoped(handling="representative_only"),
        to=REPAIRS,
        contact={"sender": REP_EMAIL},
        deliver_to=REPAIRS,
        code="out_of_scope",
        restricted=False,
    ),
    Case(
        "scope: limits count only contact in scope",
        scoped(limits=[{"channel": "email", "max": 1, "per": "P7D"}]),
        to=COMPLAINTS,
        usage=used(1),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
    ),
    # Exemptions still win inside the scope.
    Case(
        "scope then exemption: a gas leak to the complaints team under no contact",
        scoped(handling="no_contact", channels=[]),
        to=COMPLAINTS,
        contact={"text": "There is a GAS LEAK in the kitchen"},
        deliver_to=COMPLAINTS,
        code="exempt.emergency_repair",
    ),
    Case(
        "scope then exemption: the emergency option on the team's line",
        scoped(channels=["voice"], call_windows=MONDAY_ONLY),
        channel=Channel.VOICE,
        to=COMPLAINTS_LINE,
        contact={"emergency_requested": True},
        action=Action.CONNECT,
        deliver_to=EMERGENCY,
        code="exempt.emergency_option",
    ),
    Case(
        "scope then protected route: appeals@ in scope is still open",
        scoped(scope={"addresses": [APPEALS, COMPLAINTS]}, handling="no_contact", channels=[]),
        to=APPEALS,
        deliver_to=APPEALS,
        code="exempt.protected_route",
    ),
    Case(
        "scope first: exempt text outside the scope goes as sent, not re-routed",
        scoped(named_officer="jsmith"),
        to=REPAIRS,
        contact={"text": "There is a GAS LEAK in the kitchen"},
        deliver_to=REPAIRS,
        code="out_of_scope",
        restricted=False,
    ),
    # Dedicated route: redirect (the default) happens at delivery, after every clause.
    Case(
        "route: mail to another address is redirected",
        routed(),
        deliver_to=TENANCY,
        code="deliver.dedicated_route",
        counted=True,
    ),
    Case(
        "route: mail to the route goes as addressed",
        routed(),
        to=TENANCY,
        deliver_to=TENANCY,
        code="deliver.as_addressed",
        counted=True,
    ),
    Case(
        "route: the named officer still takes it",
        routed(named_officer="jsmith"),
        deliver_to=JANE,
        code="deliver.named_officer",
        counted=True,
    ),
    Case(
        "route: a redirected contact still counts against a limit",
        routed(limits=[{"channel": "email", "max": 2, "per": "P7D"}]),
        usage=used(2),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
    ),
    Case(
        "route: read and file still holds a redirected contact",
        routed(handling="read_and_file"),
        action=Action.HOLD,
        hold_reason=HoldReason.READ_AND_FILE,
    ),
    Case(
        "route: a call when the route names only an address is not affected",
        routed(channels=["email", "voice"]),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.CONNECT,
        deliver_to=STAFF_NUMBER,
        code="deliver.as_addressed",
        counted=True,
    ),
    Case(
        "route: a call elsewhere is put through to the route's number",
        routed(
            channels=["voice"], dedicated_route={"phone": TENANCY_LINE, "otherwise": "redirect"}
        ),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.CONNECT,
        deliver_to=TENANCY_LINE,
        code="deliver.dedicated_route",
        counted=True,
    ),
    Case(
        "route: an officer with no phone leaves the call to the route",
        routed(
            channels=["voice"],
            named_officer="nophone",
            dedicated_route={"phone": TENANCY_LINE},
        ),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.CONNECT,
        deliver_to=TENANCY_LINE,
        code="deliver.dedicated_route",
        counted=True,
    ),
    Case(
        "route: an officer with no phone, a call to the route itself",
        routed(
            channels=["voice"],
            named_officer="nophone",
            dedicated_route={"phone": TENANCY_LINE},
        ),
        channel=Channel.VOICE,
        to=TENANCY_LINE,
        action=Action.CONNECT,
        deliver_to=TENANCY_LINE,
        code="deliver.named_officer",
        counted=True,
    ),
    # Dedicated route that holds: step 5, after the channel and before windows and limits.
    Case(
        "route hold: mail to another address is held",
        routed("hold"),
        action=Action.HOLD,
        hold_reason=HoldReason.OFF_ROUTE,
        code="dedicated_route.off_route",
    ),
    Case(
        "route hold: mail to the route is delivered",
        routed("hold"),
        to=TENANCY,
        deliver_to=TENANCY,
        counted=True,
    ),
    Case(
        "route hold: a text elsewhere is held",
        routed(
            "hold", channels=["sms"], dedicated_route={"phone": TENANCY_LINE, "otherwise": "hold"}
        ),
        channel=Channel.SMS,
        to=STAFF_NUMBER,
        action=Action.HOLD,
        hold_reason=HoldReason.OFF_ROUTE,
    ),
    Case(
        "route hold: a call elsewhere is refused with a message",
        routed(
            "hold", channels=["voice"], dedicated_route={"phone": TENANCY_LINE, "otherwise": "hold"}
        ),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.MESSAGE,
        hold_reason=HoldReason.OFF_ROUTE,
    ),
    Case(
        "route hold before the call window",
        routed(
            "hold",
            channels=["voice"],
            call_windows=MONDAY_ONLY,
            dedicated_route={"phone": TENANCY_LINE, "otherwise": "hold"},
        ),
        channel=Channel.VOICE,
        to=STAFF_NUMBER,
        action=Action.MESSAGE,
        hold_reason=HoldReason.OFF_ROUTE,
    ),
    Case(
        "route hold before limits",
        routed("hold", limits=[{"channel": "email", "max": 1, "per": "P7D"}]),
        usage=used(1),
        action=Action.HOLD,
        hold_reason=HoldReason.OFF_ROUTE,
    ),
    Case(
        "channel before route hold",
        routed("hold"),
        channel=Channel.SMS,
        to=STAFF_NUMBER,
        action=Action.HOLD,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
    ),
    Case(
        "no contact before route hold",
        routed("hold", handling="no_contact"),
        action=Action.HOLD,
        hold_reason=HoldReason.NO_CONTACT,
    ),
    Case(
        "representative only before route hold (the customer writes)",
        routed("hold", handling="representative_only"),
        action=Action.HOLD,
        hold_reason=HoldReason.REPRESENTATIVE_ONLY,
    ),
    Case(
        "route hold applies to a representative too",
        routed("hold", handling="representative_only"),
        contact={"sender": REP_EMAIL},
        action=Action.HOLD,
        hold_reason=HoldReason.OFF_ROUTE,
    ),
    Case(
        "exemption before route hold",
        routed("hold"),
        contact={"text": "My neighbour's child is at risk"},
        deliver_to=STAFF_EMAIL,
        code="exempt.safeguarding",
    ),
    Case(
        "protected route before route hold",
        routed("hold"),
        to=APPEALS,
        deliver_to=APPEALS,
        code="exempt.protected_route",
    ),
    # Both: the route lies inside the scope.
    Case(
        "scope and route: to the team elsewhere than the route, redirected",
        scoped(
            scope={"teams": ["complaints"], "addresses": [TENANCY]},
            dedicated_route={"email": TENANCY},
        ),
        to=COMPLAINTS,
        deliver_to=TENANCY,
        code="deliver.dedicated_route",
        counted=True,
    ),
    Case(
        "scope and route: outside the scope, neither applies",
        scoped(
            scope={"teams": ["complaints"], "addresses": [TENANCY]},
            dedicated_route={"email": TENANCY, "otherwise": "hold"},
        ),
        to=REPAIRS,
        deliver_to=REPAIRS,
        code="out_of_scope",
        restricted=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_precedence(case: Case) -> None:
    policy = index(case.restriction, teams=TEAMS, protected=ROUTES)
    sent = contact(case.channel, recipient=case.to, **case.contact)
    decision = decide(sent, policy, case.usage, NOW)
    assert decision.action is case.action
    assert decision.hold_reason is case.hold_reason
    if case.deliver_to is not None:
        assert decision.deliver_to == case.deliver_to
    if case.code:
        assert decision.reasons[0].code == case.code
    assert decision.restricted is case.restricted
    assert decision.counted is case.counted
    assert decision.customer_id == "C-1"
    assert all(r.restriction_id == "R-1" and r.text for r in decision.reasons)


def test_out_of_scope_says_what_the_restriction_covers() -> None:
    policy = index(scoped(scope={"teams": ["complaints"], "addresses": [TENANCY]}), teams=TEAMS)
    decision = decide(contact(recipient=REPAIRS), policy, Usage(), NOW)
    assert decision.reasons[0].text == (
        f"Restriction R-1 covers only the complaints team and {TENANCY}; "
        f"contact to {REPAIRS} is passed on as sent."
    )
    assert decision.reasons[0].clause == "scope"


def test_several_restrictions_only_those_in_scope_apply() -> None:
    policy = index(
        scoped(id="R-1", handling="read_and_file"),
        restriction(id="R-2", named_officer=None),
        teams=TEAMS,
    )
    to_repairs = decide(contact(recipient=REPAIRS), policy, Usage(), NOW)
    assert (to_repairs.action, to_repairs.restriction_id) == (Action.DELIVER, "R-2")
    assert to_repairs.counted
    assert [c.restriction_id for c in to_repairs.counts] == []  # R-1 set no limits
    to_complaints = decide(contact(recipient=COMPLAINTS), policy, Usage(), NOW)
    assert (to_complaints.hold_reason, to_complaints.restriction_id) == (
        HoldReason.READ_AND_FILE,
        "R-1",
    )


def test_out_of_every_scope_names_each_restriction() -> None:
    policy = index(scoped(id="R-1"), scoped(id="R-2", scope={"addresses": [TENANCY]}), teams=TEAMS)
    decision = decide(contact(recipient=REPAIRS), policy, Usage(), NOW)
    assert [r.restriction_id for r in decision.reasons] == ["R-1", "R-2"]
    assert not decision.restricted


def test_a_team_no_longer_defined_covers_nothing() -> None:
    policy = index(scoped(handling="read_and_file"), teams={})
    decision = decide(contact(recipient=COMPLAINTS), policy, Usage(), NOW)
    assert decision.reasons[0].code == "out_of_scope"


@pytest.mark.parametrize(
    ("channel", "route", "words"),
    [
        (Channel.EMAIL, {"email": TENANCY, "otherwise": "hold"}, f"only at {TENANCY}"),
        (Channel.SMS, {"phone": TENANCY_LINE, "otherwise": "hold"}, "only on 01632 960200"),
        (Channel.VOICE, {"phone": TENANCY_LINE, "otherwise": "hold"}, "only on 01632 960200"),
    ],
)
def test_off_route_notice_says_where_to_write(
    channel: Channel, route: dict[str, str], words: str
) -> None:
    policy = index(routed("hold", channels=[channel.value], dedicated_route=route))
    decision = decide(contact(channel), policy, Usage(), NOW)
    assert decision.hold_reason is HoldReason.OFF_ROUTE
    assert decision.notice is not None and words in decision.notice
    kept = "kept on our records" in decision.notice
    assert kept is (channel is not Channel.VOICE)


# --- what the models refuse, each naming the field ----------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc", "words"),
    [
        ({"scope": {}}, ("scope",), "scope names no team, address or number"),
        ({"scope": {"teams": ["no good!"]}}, ("scope", "teams", 0), "not a usable id"),
        ({"scope": {"addresses": ["complaints"]}}, ("scope", "addresses"), "'complaints' is not"),
        ({"scope": {"numbers": ["12"]}}, ("scope", "numbers"), "'12' is not"),
        ({"scope": {"staff": ["x"]}}, ("scope", "staff"), "Extra inputs"),
        ({"dedicated_route": {}}, ("dedicated_route",), "names neither an email"),
        ({"dedicated_route": {"email": "tenancy"}}, ("dedicated_route", "email"), "'tenancy'"),
        ({"dedicated_route": {"phone": "99"}}, ("dedicated_route", "phone"), "'99' is not"),
        (
            {"dedicated_route": {"email": TENANCY, "otherwise": "bounce"}},
            ("dedicated_route", "otherwise"),
            "'redirect' or 'hold'",
        ),
        (
            {"dedicated_route": {"email": TENANCY}, "channels": ["sms"]},
            ("dedicated_route",),
            "channels does not allow email",
        ),
        (
            {"dedicated_route": {"phone": TENANCY_LINE}},
            ("dedicated_route",),
            "channels allows neither sms nor voice",
        ),
        (
            {"scope": {"addresses": [COMPLAINTS]}, "dedicated_route": {"email": TENANCY}},
            ("dedicated_route",),
            f"email '{TENANCY}' is outside the restriction's scope",
        ),
    ],
)
def test_bad_scope_or_route_is_refused_naming_the_field(
    overrides: dict[str, Any], loc: tuple[str | int, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Restriction.model_validate(restriction(**overrides))
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [loc]
    assert words in errors[0]["msg"]


def test_route_with_bad_channels_leaves_the_channels_error_alone() -> None:
    with pytest.raises(ValidationError) as caught:
        Restriction.model_validate(
            restriction(channels=["pigeon"], dedicated_route={"email": TENANCY})
        )
    assert [e["loc"][0] for e in caught.value.errors()] == ["channels"]


def test_scope_and_route_are_normalised() -> None:
    made = Restriction.model_validate(
        restriction(
            channels=["email", "voice"],
            scope={"teams": ["complaints", "complaints"], "numbers": ["01632 960200"]},
            dedicated_route={"email": " Tenancy.Alex@Example.org ", "phone": "01632 960200"},
        )
    )
    assert made.scope == Scope(teams=["complaints"], numbers=[TENANCY_LINE])
    assert made.dedicated_route == DedicatedRoute(email=TENANCY, phone=TENANCY_LINE)
    assert made.dedicated_route.way_for(Channel.LETTER) is None


def _policy(*restrictions: dict[str, Any]) -> Policy:
    return Policy.model_validate(
        {"officers": OFFICERS, "customers": [customer()], "restrictions": list(restrictions)}
    )


@pytest.mark.parametrize(
    ("made", "problems"),
    [
        (scoped(), []),
        (
            scoped(scope={"teams": ["complaint"]}),
            [("restrictions[0].scope.teams[0]", "known: complaints, repairs")],
        ),
        (
            scoped(scope={"teams": ["repairs"]}, dedicated_route={"email": TENANCY}),
            [("restrictions[0].dedicated_route.email", f"'{TENANCY}' is outside")],
        ),
        (scoped(scope={"teams": ["complaints"]}, dedicated_route={"email": COMPLAINTS}), []),
        (restriction(), []),
    ],
)
def test_teams_are_checked_against_the_organisations(
    made: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    found = reference_problems(_policy(made), TEAMS)
    assert len(found) == len(problems)
    for problem, (where, words) in zip(found, problems, strict=True):
        assert problem.describe().startswith(where + ":")
        assert words in problem.message
    assert reference_problems(_policy(made)) == []  # teams not given: not checked


def test_no_team_defined_says_so() -> None:
    found = reference_problems(_policy(scoped()), {})
    assert "known: none is defined yet" in found[0].message


def test_team_needs_members_and_lists_them() -> None:
    team = Team(
        id="complaints", name="Complaints", addresses=[COMPLAINTS], numbers=["01632 960100"]
    )
    assert team.members == {COMPLAINTS, COMPLAINTS_LINE}
    with pytest.raises(ValidationError, match="team 'empty' has no addresses and no numbers"):
        Team(id="empty", name="Empty")


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        (Scope(teams=["complaints"]), "the complaints team"),
        (Scope(addresses=[REPAIRS], numbers=[TENANCY_LINE]), f"{REPAIRS} and {TENANCY_LINE}"),
        (
            Scope(teams=["a", "b"], addresses=[REPAIRS]),
            f"the a team, the b team and {REPAIRS}",
        ),
    ],
)
def test_scope_in_words(scope: Scope, words: str) -> None:
    assert scope.words() == words


def test_route_inside_an_address_scope_and_no_route_are_accepted() -> None:
    inside = Restriction.model_validate(
        restriction(scope={"addresses": [TENANCY]}, dedicated_route={"email": TENANCY})
    )
    assert inside.dedicated_route is not None and inside.dedicated_route.email == TENANCY
    # Written out as null (an API body, an exported file) is the same as left out.
    assert Restriction.model_validate(restriction(dedicated_route=None, scope=None)).scope is None
    assert (
        Restriction.model_validate({**restriction(), "dedicated_route": None}).dedicated_route
        is None
    )
