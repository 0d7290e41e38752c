"""Protected routes and where each class of exempt contact goes."""

from __future__ import annotations

from rules.decision import Action, Usage
from rules.engine import PROTECTED_ROUTE, decide
from rules.models import Channel
from rules.protected import ExemptClass, ProtectedRoutes, RouteName

from .factories import EMERGENCY, NOW, STAFF_EMAIL, contact, index, restriction

APPEALS = "appeals@example.org"
COMPLAINTS = "complaints@example.org"
HEAD = "head.of.housing@example.org"
DPO = "dpo@example.org"
REPAIRS_LINE = "+441632960555"

ROUTES = ProtectedRoutes.of(
    {
        RouteName.APPEALS: [APPEALS],
        RouteName.COMPLAINTS: [COMPLAINTS],
        RouteName.HEAD_OF_SERVICE: [HEAD],
        RouteName.DATA_PROTECTION: [DPO, "+441632960777"],
        RouteName.EMERGENCY_REPAIRS: [REPAIRS_LINE],
        RouteName.SAFEGUARDING: [],
    }
)


def test_routes() -> None:
    assert RouteName.SAFEGUARDING not in ROUTES.routes  # nothing in it: left out
    assert ROUTES.route_of(APPEALS) is RouteName.APPEALS
    assert ROUTES.route_of(STAFF_EMAIL) is None
    assert ROUTES.address(RouteName.DATA_PROTECTION) == DPO
    assert ROUTES.number(RouteName.DATA_PROTECTION) == "+441632960777"
    assert ROUTES.address(RouteName.EMERGENCY_REPAIRS) is None
    assert ROUTES.number(RouteName.APPEALS) is None
    assert ROUTES.destination(ExemptClass.APPEAL, no_contact=False) == APPEALS
    assert ROUTES.destination(ExemptClass.COMPLAINT, no_contact=False) == COMPLAINTS
    assert ROUTES.destination(ExemptClass.COMPLAINT, no_contact=True) == HEAD
    assert ROUTES.destination(ExemptClass.EMERGENCY_REPAIR, no_contact=True) is None
    with_line = ProtectedRoutes.of({RouteName.APPEALS: [APPEALS]}, EMERGENCY)
    assert with_line.route_of(EMERGENCY) is RouteName.EMERGENCY_REPAIRS
    once = ProtectedRoutes.of({RouteName.EMERGENCY_REPAIRS: [EMERGENCY]}, EMERGENCY)
    assert once.routes == {RouteName.EMERGENCY_REPAIRS: (EMERGENCY,)}
    without_head = ProtectedRoutes.of({RouteName.COMPLAINTS: [COMPLAINTS]})
    assert without_head.destination(ExemptClass.COMPLAINT, no_contact=True) == COMPLAINTS
    assert ROUTES.open_routes() == (
        (RouteName.EMERGENCY_REPAIRS, REPAIRS_LINE),
        (RouteName.DATA_PROTECTION, DPO),
        (RouteName.APPEALS, APPEALS),
        (RouteName.COMPLAINTS, COMPLAINTS),
    )


def test_contact_to_a_protected_route_is_delivered_untouched_and_recorded_exempt() -> None:
    policy = index(restriction(channels=[], handling="no_contact"), protected=ROUTES)
    decision = decide(contact(recipient=APPEALS, text="hello"), policy, Usage(), NOW)
    assert decision.action is Action.DELIVER
    assert decision.deliver_to == APPEALS and decision.officer_id is None
    assert decision.exemption == PROTECTED_ROUTE and decision.restricted
    assert "protected route (appeals" in decision.reasons[0].text
    call = decide(contact(Channel.VOICE, recipient=REPAIRS_LINE), policy, Usage(), NOW)
    assert call.action is Action.CONNECT and call.deliver_to == REPAIRS_LINE


def test_each_class_goes_to_its_route() -> None:
    policy = index(restriction(channels=[], handling="no_contact"), protected=ROUTES)
    appeal = decide(
        contact(text="I want to appeal against the restriction on my contact"),
        policy,
        Usage(),
        NOW,
    )
    assert appeal.exemption == "appeal" and appeal.deliver_to == APPEALS
    assert appeal.officer_id is None and f"Sent to {APPEALS}, where appeals go" in (
        appeal.reasons[0].text
    )
    complaint = decide(
        contact(Channel.SMS, text="I'm going to the ombudsman"), policy, Usage(), NOW
    )
    assert complaint.deliver_to == HEAD  # a new complaint under no contact goes up
    gas = decide(contact(text="smell of gas in the hall"), policy, Usage(), NOW)
    assert gas.deliver_to == "jane.smith@example.org"  # no repairs address: the officer
    voice = decide(contact(Channel.VOICE, text="I want to appeal"), policy, Usage(), NOW)
    assert voice.action is Action.CONNECT and voice.deliver_to != APPEALS


def test_notices_name_the_routes_that_stay_open() -> None:
    policy = index(restriction(channels=[], handling="no_contact"), protected=ROUTES)
    held = decide(contact(text="hello"), policy, Usage(), NOW)
    assert held.notice is not None
    assert f"To appeal against the decision to restrict your contact, write to {APPEALS}." in (
        held.notice
    )
    assert "For an emergency repair, call 01632 960555." in held.notice
    call = decide(contact(Channel.VOICE), policy, Usage(), NOW)
    assert call.notice is not None and APPEALS not in call.notice
    assert "01632 960555" in call.notice
    same = ProtectedRoutes.of({RouteName.EMERGENCY_REPAIRS: [EMERGENCY]})
    quiet = index(restriction(channels=[], handling="no_contact"), protected=same)
    notice = decide(contact(text="hello"), quiet, Usage(), NOW).notice
    assert notice is not None and notice.count("01632 960999") == 1  # said once
