"""The restriction lifecycle, roles, casework rules and periods, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rules.casework import FlagCategory, Need, adjustment_conflicts, may_read_flag_reason
from rules.decision import Action, Contact, HoldReason, Usage
from rules.engine import decide
from rules.lifecycle import (
    TRANSITIONS,
    NeedsNotice,
    NotPermitted,
    Period,
    PeriodUnit,
    Transition,
    WrongState,
    add_period,
    check_appeal_reviewer,
    check_four_eyes,
    check_transition,
    check_written_notice,
    lapse_instant,
    same_person,
)
from rules.models import Channel, Policy, Restriction, Status
from rules.notices import NoticeFacts, notice_text
from rules.policy_index import DecisionSettings, PolicyIndex, recorded_sender
from rules.roles import ROLE_PERMISSIONS, Permission, Role, allowed, roles_with

from .factories import LONDON, NOW, OFFICERS, customer, restriction

A, D, S, R, L, J = (
    Status.ACTIVE,
    Status.DRAFT,
    Status.SUSPENDED,
    Status.REVOKED,
    Status.LAPSED,
    Status.REJECTED,
)


@pytest.mark.parametrize(
    ("transition", "start", "to"),
    [
        (Transition.AUTHORISE, D, A),
        (Transition.REJECT, D, J),
        (Transition.SUSPEND, A, S),
        (Transition.RESUME, S, A),
        (Transition.REVOKE, A, R),
        (Transition.REVOKE, S, R),
        (Transition.RENEW, A, A),
        (Transition.LODGE_APPEAL, S, S),
        (Transition.QUASH, A, R),
        (Transition.VARY, S, S),
        (Transition.UPHOLD, L, L),
        (Transition.UPHOLD, R, R),
    ],
)
def test_allowed_transitions(transition: Transition, start: Status, to: Status) -> None:
    role = Role.OFFICER if transition is Transition.LODGE_APPEAL else Role.AUTHORISER
    assert check_transition(transition, start, role) is to


@pytest.mark.parametrize(
    ("transition", "start"),
    [
        (Transition.AUTHORISE, A),
        (Transition.AUTHORISE, R),
        (Transition.SUSPEND, D),
        (Transition.SUSPEND, S),
        (Transition.RESUME, A),
        (Transition.REVOKE, D),
        (Transition.RENEW, L),
        (Transition.QUASH, R),
        (Transition.REJECT, A),
    ],
)
def test_refused_transitions_name_the_states(transition: Transition, start: Status) -> None:
    with pytest.raises(WrongState, match=f"that is {start.value}: only one that is"):
        check_transition(transition, start, Role.AUTHORISER)


@pytest.mark.parametrize(
    ("transition", "role"),
    [
        (Transition.AUTHORISE, Role.OFFICER),
        (Transition.SUSPEND, Role.VIEWER),
        (Transition.REVOKE, Role.ADMIN),
        (Transition.LODGE_APPEAL, Role.VIEWER),
        (Transition.QUASH, Role.OFFICER),
        (Transition.LAPSE, Role.AUTHORISER),
    ],
)
def test_roles_that_may_not(transition: Transition, role: Role) -> None:
    with pytest.raises(NotPermitted, match=f"role '{role.value}' cannot"):
        check_transition(transition, Status.ACTIVE, role)


def test_lapse_is_for_the_gateway_itself() -> None:
    assert check_transition(Transition.LAPSE, A, None) is L
    assert TRANSITIONS[Transition.LAPSE].permission is None


def test_appeal_words_in_messages() -> None:
    with pytest.raises(WrongState, match="cannot quash on appeal"):
        check_transition(Transition.QUASH, D, Role.AUTHORISER)
    with pytest.raises(NotPermitted, match="cannot lodge appeal a restriction"):
        check_transition(Transition.LODGE_APPEAL, A, Role.ADMIN)


def test_four_eyes() -> None:
    check_four_eyes("officer.a", "director.b")
    with pytest.raises(NotPermitted, match="four-eyes") as info:
        check_four_eyes("Officer.A", "officer.a")
    assert info.value.field is None


def test_appeal_reviewer_not_involved() -> None:
    check_appeal_reviewer("director.c", ["officer.a", "director.b", None])
    with pytest.raises(NotPermitted, match="took part in the original decision"):
        check_appeal_reviewer("Director.B", ["officer.a", "director.b"])
    assert not same_person(None, "x")


@pytest.mark.parametrize(
    ("start", "period", "holidays", "expected"),
    [
        (date(2026, 12, 21), Period(amount=10), (), date(2026, 12, 31)),
        # Mon 21 Dec 2026 + 5 working days, over Christmas (25, 28 Dec are holidays)
        (
            date(2026, 12, 21),
            Period(amount=5, unit=PeriodUnit.WORKING_DAYS),
            {date(2026, 12, 25), date(2026, 12, 28)},
            date(2026, 12, 30),
        ),
        # Friday + 1 working day is Monday
        (date(2026, 11, 27), Period(amount=1, unit="working_days"), (), date(2026, 11, 30)),
        (date(2026, 11, 27), Period(amount=0, unit="working_days"), (), date(2026, 11, 27)),
    ],
)
def test_add_period(start: date, period: Period, holidays: Any, expected: date) -> None:
    assert add_period(start, period, holidays) == expected


def test_period_describes_itself() -> None:
    assert Period(amount=20, unit=PeriodUnit.WORKING_DAYS).describe() == "20 working days"


def test_lapse_instant_is_local_midnight() -> None:
    assert lapse_instant(date(2027, 7, 1), LONDON) == datetime(2027, 6, 30, 23, tzinfo=UTC)


def test_role_table() -> None:
    assert allowed(Role.VIEWER, Permission.READ)
    assert not allowed(Role.VIEWER, Permission.PROPOSE)
    assert not allowed(Role.ADMIN, Permission.DECIDE)
    assert allowed(Role.AUTHORISER, Permission.MANAGE_HELD)
    assert roles_with(Permission.MANAGE_USERS) == (Role.ADMIN,)
    assert roles_with(Permission.READ) == tuple(Role)
    assert all(Permission.READ in perms for perms in ROLE_PERMISSIONS.values())


@pytest.mark.parametrize(
    ("role", "assigned", "expected"),
    [
        (Role.AUTHORISER, False, True),
        (Role.OFFICER, False, False),
        (Role.OFFICER, True, True),
        (Role.VIEWER, True, False),
        (Role.ADMIN, True, False),
    ],
)
def test_flag_reason_needs_role_or_assignment(role: Role, assigned: bool, expected: bool) -> None:
    assert may_read_flag_reason(role, assigned=assigned) is expected


def test_flag_categories_are_the_policies() -> None:
    assert len(FlagCategory) == 8


@pytest.mark.parametrize(
    ("overrides", "needs", "expected"),
    [
        ({"channels": ["email"]}, [Need.PHONE_CONTACT], ["'phone_contact'"]),
        ({"channels": ["email", "voice"]}, [Need.PHONE_CONTACT, Need.LARGE_PRINT], []),
        ({"channels": ["email"]}, [Need.EMAIL_CONTACT, Need.EMAIL_CONTACT], []),
        (
            {"channels": [], "handling": "no_contact"},
            [Need.REPRESENTATIVE, Need.FACE_TO_FACE],
            ["'representative'", "'face_to_face'"],
        ),
        ({"channels": ["email"]}, [Need.REPRESENTATIVE], []),
    ],
)
def test_adjustment_conflicts(
    overrides: dict[str, Any], needs: list[Need], expected: list[str]
) -> None:
    found = adjustment_conflicts(Restriction.model_validate(restriction(**overrides)), needs)
    assert sorted(len(found) * [""]) == [""] * len(expected)
    for text in expected:
        assert any(text in conflict for conflict in found)


def _index(*restrictions: dict[str, Any], lapse: bool = False) -> PolicyIndex:
    policy = Policy.model_validate(
        {"officers": OFFICERS, "customers": [customer()], "restrictions": list(restrictions)}
    )
    return PolicyIndex(policy, DecisionSettings(zone=LONDON, lapse_at_review=lapse))


def _recorded(channel: Channel, *, rep: int | None = None, **kw: Any) -> Contact:
    return Contact(
        channel=channel, sender=recorded_sender("C-1", rep), recipient="reception", at=NOW, **kw
    )


def test_lapse_at_review_stops_the_restriction_at_local_midnight() -> None:
    r = restriction(review_on="2026-11-24")
    assert decide(_recorded(Channel.LETTER), _index(r), Usage(), NOW).restricted
    lapsed = decide(_recorded(Channel.LETTER), _index(r, lapse=True), Usage(), NOW)
    assert not lapsed.restricted
    assert lapsed.reasons[0].code == "no_active_restriction"
    no_review = restriction(review_on=None)
    assert decide(_recorded(Channel.LETTER), _index(no_review, lapse=True), Usage(), NOW).restricted


@pytest.mark.parametrize(
    ("channels", "channel", "kw", "action", "hold"),
    [
        (["letter"], Channel.LETTER, {}, Action.DELIVER, None),
        (["email"], Channel.LETTER, {}, Action.HOLD, HoldReason.CHANNEL_NOT_ALLOWED),
        (["visit"], Channel.VISIT, {}, Action.HOLD, HoldReason.CHANNEL_NOT_ALLOWED),
        (["visit"], Channel.VISIT, {"by_appointment": True}, Action.DELIVER, None),
        (["social_media"], Channel.SOCIAL_MEDIA, {}, Action.DELIVER, None),
    ],
)
def test_recorded_channels_go_through_decide(
    channels: list[str], channel: Channel, kw: dict[str, Any], action: Action, hold: Any
) -> None:
    decision = decide(
        _recorded(channel, **kw), _index(restriction(channels=channels)), Usage(), NOW
    )
    assert (decision.action, decision.hold_reason) == (action, hold)
    assert decision.customer_id == "C-1"


def test_drop_in_visits_when_appointments_are_not_required() -> None:
    r = restriction(channels=["visit"], visits_by_appointment=False)
    assert decide(_recorded(Channel.VISIT), _index(r), Usage(), NOW).action is Action.DELIVER


def test_recorded_from_a_representative() -> None:
    r = restriction(channels=["letter"], handling="representative_only")
    assert decide(_recorded(Channel.LETTER), _index(r), Usage(), NOW).held
    via_rep = decide(_recorded(Channel.LETTER, rep=0), _index(r), Usage(), NOW)
    assert via_rep.action is Action.DELIVER
    assert via_rep.via_representative == "Support worker"


def test_staff_mobile_calls_keep_to_call_windows() -> None:
    windows = [{"days": ["wed"], "start": "10:00", "end": "12:00"}]
    r = restriction(channels=["staff_mobile"], call_windows=windows)
    decision = decide(_recorded(Channel.STAFF_MOBILE), _index(r), Usage(), NOW)
    assert decision.action is Action.HOLD
    assert decision.hold_reason is HoldReason.OUTSIDE_CALL_WINDOW
    assert decision.next_window is not None


def test_letter_beyond_a_cap_is_excess() -> None:
    r = restriction(channels=["letter"], limits=[{"channel": "letter", "max": 1, "per": "P7D"}])
    usage = Usage(delivered={Channel.LETTER: [NOW - timedelta(days=1)]})
    decision = decide(_recorded(Channel.LETTER), _index(r), usage, NOW)
    assert decision.excess


@pytest.mark.parametrize(
    ("channel", "allowed_channels", "hold", "expected"),
    [
        (Channel.LETTER, ["email"], HoldReason.CHANNEL_NOT_ALLOWED, "cannot accept letters"),
        (Channel.LETTER, ["email"], HoldReason.CHANNEL_NOT_ALLOWED, "Your letter has been kept"),
        (Channel.VISIT, ["letter"], HoldReason.CHANNEL_NOT_ALLOWED, "You can contact us by letter"),
        (Channel.VISIT, ["email"], HoldReason.CHANNEL_NOT_ALLOWED, "visits to our offices from"),
        (
            Channel.EMAIL,
            ["visit", "social_media", "staff_mobile"],
            HoldReason.CHANNEL_NOT_ALLOWED,
            "by appointment, through social media or by phone to a member of staff's mobile",
        ),
        (Channel.SOCIAL_MEDIA, ["email"], HoldReason.CHANNEL_NOT_ALLOWED, "social media messages"),
    ],
)
def test_notices_speak_of_the_recorded_channels(
    channel: Channel, allowed_channels: list[str], hold: HoldReason, expected: str
) -> None:
    r = Restriction.model_validate(restriction(channels=allowed_channels))
    text = notice_text(
        NoticeFacts(
            channel=channel,
            hold_reason=hold,
            restriction=r,
            officer=None,
            zone=LONDON,
            emergency_number=None,
            representatives=(),
            now=NOW,
        )
    )
    assert expected in text
    if channel is Channel.VISIT:
        assert "kept on our records" not in text


def test_drop_in_wording() -> None:
    r = Restriction.model_validate(restriction(channels=["visit"], visits_by_appointment=False))
    facts = NoticeFacts(
        channel=Channel.EMAIL,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
        restriction=r,
        officer=None,
        zone=LONDON,
        emergency_number=None,
        representatives=(),
        now=NOW,
    )
    assert "in person at our offices." in notice_text(facts)


def test_new_statuses() -> None:
    rejected = Restriction.model_validate(restriction(status="rejected", authorised_by=None))
    assert not rejected.is_active(NOW)
    lapsed = Restriction.model_validate(restriction(status="lapsed"))
    assert not lapsed.is_active(NOW)
    with pytest.raises(ValueError, match="only a draft"):
        Restriction.model_validate(restriction(status="lapsed", authorised_by=None))
    assert Channel.LETTER.recorded and not Channel.EMAIL.recorded


def test_covering_officer_is_the_deputy_in_an_absence() -> None:
    from rules.engine import covering_officer

    officers = [{**OFFICERS[0], "absent": True}, *OFFICERS[1:]]
    policy = Policy.model_validate({"officers": officers, "customers": [], "restrictions": []})
    index = PolicyIndex(policy, DecisionSettings(zone=LONDON))
    found = covering_officer(index, "jsmith")
    assert found is not None and found.id == "akhan"
    assert covering_officer(index, None) is None


@pytest.mark.parametrize(
    ("required", "letter", "exception", "expected"),
    [
        (True, False, True, "exception"),
        (True, True, True, "exception"),
        (True, True, False, "letter"),
        (False, True, False, "letter"),
        (False, False, False, None),
    ],
)
def test_written_notice_before_force(
    required: bool, letter: bool, exception: bool, expected: str | None
) -> None:
    how = check_written_notice(
        "R-1", required=required, letter_sent=letter, exception_signed_off=exception
    )
    assert how == expected


def test_no_written_notice_is_refused_naming_what_would_do() -> None:
    with pytest.raises(NeedsNotice) as caught:
        check_written_notice("R-1", required=True, letter_sent=False, exception_signed_off=False)
    assert caught.value.field == "notice"
    assert "R-1" in str(caught.value) and "exception to notice" in str(caught.value)
