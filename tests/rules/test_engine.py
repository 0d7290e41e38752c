"""decide(): every clause of SPEC §4, and the order in which they apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.decision import Action, Decision, HoldReason, Usage
from rules.engine import STEPS, decide
from rules.models import Channel

from .factories import (
    CUSTOMER_EMAIL,
    EMERGENCY,
    NOW,
    REP_EMAIL,
    REP_PHONE,
    STAFF_EMAIL,
    STAFF_NUMBER,
    contact,
    customer,
    index,
    restriction,
)

JANE = "jane.smith@example.org"
JANE_PHONE = "+441632960001"
TUESDAY_MORNING = [{"days": ["tue"], "start": "10:00", "end": "12:00"}]


def used(*ago_hours: float, channel: Channel = Channel.EMAIL) -> Usage:
    return Usage(delivered={channel: [NOW - timedelta(hours=h) for h in ago_hours]})


@dataclass
class Case:
    name: str
    restriction: dict[str, Any]
    channel: Channel = Channel.EMAIL
    contact: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    action: Action = Action.DELIVER
    hold_reason: HoldReason | None = None
    deliver_to: str | None = None
    code: str = ""


CASES = [
    # 1. exemptions come first, whatever the restriction says
    Case(
        "exempt gas leak despite no contact",
        restriction(channels=[], handling="no_contact"),
        contact={"text": "There is a GAS LEAK in the kitchen!!!"},
        deliver_to=JANE,
        code="exempt.emergency_repair",
    ),
    Case(
        "exempt safeguarding over excess",
        restriction(limits=[{"channel": "email", "max": 1, "per": "P7D"}]),
        contact={"text": "My neighbour's child is at risk"},
        usage=used(1),
        deliver_to=JANE,
        code="exempt.safeguarding",
    ),
    Case(
        "exempt subject access request by SMS not allowed",
        restriction(channels=["email"]),
        channel=Channel.SMS,
        contact={"text": "This is a subject access request for my file"},
        deliver_to=JANE,
        code="exempt.subject_access_request",
    ),
    Case(
        "exempt without named officer goes where it was sent",
        restriction(named_officer=None, handling="read_and_file"),
        contact={"text": "No heating since Friday"},
        deliver_to=STAFF_EMAIL,
        code="exempt.emergency_repair",
    ),
    Case(
        "emergency option on a call connects to the emergency line",
        restriction(channels=[], handling="no_contact"),
        channel=Channel.VOICE,
        contact={"emergency_requested": True},
        action=Action.CONNECT,
        deliver_to=EMERGENCY,
        code="exempt.emergency_option",
    ),
    # 2. no contact
    Case(
        "no contact holds email",
        restriction(channels=[], handling="no_contact"),
        action=Action.HOLD,
        hold_reason=HoldReason.NO_CONTACT,
        code="handling.no_contact",
    ),
    Case(
        "no contact refuses a call with a message",
        restriction(channels=[], handling="no_contact"),
        channel=Channel.VOICE,
        action=Action.MESSAGE,
        hold_reason=HoldReason.NO_CONTACT,
    ),
    Case(
        "no contact beats representative",
        restriction(channels=[], handling="no_contact"),
        contact={"sender": REP_EMAIL},
        action=Action.HOLD,
        hold_reason=HoldReason.NO_CONTACT,
    ),
    # 3. representative only
    Case(
        "representative only holds the customer's own email",
        restriction(handling="representative_only"),
        action=Action.HOLD,
        hold_reason=HoldReason.REPRESENTATIVE_ONLY,
    ),
    Case(
        "representative only delivers the representative's email to the officer",
        restriction(handling="representative_only"),
        contact={"sender": REP_EMAIL},
        deliver_to=JANE,
        code="deliver.named_officer",
    ),
    Case(
        "representative's call is the customer's call: channel still applies",
        restriction(handling="representative_only"),
        channel=Channel.VOICE,
        contact={"sender": REP_PHONE},
        action=Action.MESSAGE,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
    ),
    Case(
        "representative's contact counts against the customer's cap",
        restriction(limits=[{"channel": "email", "max": 1, "per": "P1D"}]),
        contact={"sender": REP_EMAIL},
        usage=used(2),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
    ),
    # 4. channels
    Case(
        "sms not allowed is held",
        restriction(channels=["email"]),
        channel=Channel.SMS,
        action=Action.HOLD,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
        code="channels.channel_not_allowed",
    ),
    Case(
        "call not allowed gets a message",
        restriction(channels=["email"]),
        channel=Channel.VOICE,
        action=Action.MESSAGE,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
    ),
    Case(
        "channel clause comes before the window",
        restriction(channels=["email"], call_windows=TUESDAY_MORNING),
        channel=Channel.VOICE,
        contact={"at": NOW},
        action=Action.MESSAGE,
        hold_reason=HoldReason.CHANNEL_NOT_ALLOWED,
    ),
    # 5. call windows (NOW is Tuesday 10:30 London)
    Case(
        "call inside the window connects to the named officer with limits",
        restriction(
            channels=["voice"], call_windows=TUESDAY_MORNING, call_time_limit=600, record_calls=True
        ),
        channel=Channel.VOICE,
        action=Action.CONNECT,
        deliver_to=JANE_PHONE,
        code="deliver.named_officer",
    ),
    Case(
        "call outside the window gets a message",
        restriction(
            channels=["voice"], call_windows=[{"days": ["wed"], "start": "10:00", "end": "12:00"}]
        ),
        channel=Channel.VOICE,
        action=Action.MESSAGE,
        hold_reason=HoldReason.OUTSIDE_CALL_WINDOW,
        code="call_windows.outside_call_window",
    ),
    Case(
        "window applies to calls only: email at any time",
        restriction(
            channels=["email", "voice"],
            call_windows=[{"days": ["wed"], "start": "10:00", "end": "12:00"}],
        ),
        deliver_to=JANE,
    ),
    Case(
        "window before limits",
        restriction(
            channels=["voice"],
            call_windows=[{"days": ["wed"], "start": "10:00", "end": "12:00"}],
            limits=[{"channel": "voice", "max": 1, "per": "P1D"}],
        ),
        channel=Channel.VOICE,
        usage=used(1, channel=Channel.VOICE),
        action=Action.MESSAGE,
        hold_reason=HoldReason.OUTSIDE_CALL_WINDOW,
    ),
    # 6. limits
    Case(
        "under the cap is delivered",
        restriction(limits=[{"channel": "email", "max": 5, "per": "P7D"}]),
        usage=used(1, 2, 3, 4),
        deliver_to=JANE,
    ),
    Case(
        "the contact that reaches past the cap is excess",
        restriction(limits=[{"channel": "email", "max": 5, "per": "P7D"}]),
        usage=used(1, 2, 3, 4, 5),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
        code="limits.excess",
    ),
    Case(
        "sliding period: contacts older than the period do not count",
        restriction(limits=[{"channel": "email", "max": 2, "per": "P7D"}]),
        usage=used(1, 24 * 7 + 1),
        deliver_to=JANE,
    ),
    Case(
        "exactly one period ago no longer counts (half-open)",
        restriction(limits=[{"channel": "email", "max": 1, "per": "P1D"}]),
        usage=used(24),
        deliver_to=JANE,
    ),
    Case(
        "a cap on another channel does not apply",
        restriction(channels=["email", "sms"], limits=[{"channel": "sms", "max": 1, "per": "P1D"}]),
        usage=used(1),
        deliver_to=JANE,
    ),
    Case(
        "a cap on any channel counts every channel",
        restriction(channels=["email", "sms"], limits=[{"channel": "any", "max": 2, "per": "P1D"}]),
        usage=Usage(
            delivered={
                Channel.SMS: [NOW - timedelta(hours=1)],
                Channel.EMAIL: [NOW - timedelta(hours=2)],
            }
        ),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
    ),
    Case(
        "the second call of a one-a-day cap gets a message",
        restriction(channels=["voice"], limits=[{"channel": "voice", "max": 1, "per": "P1D"}]),
        channel=Channel.VOICE,
        usage=used(3, channel=Channel.VOICE),
        action=Action.MESSAGE,
        hold_reason=HoldReason.EXCESS,
    ),
    Case(
        "limits before read and file",
        restriction(
            handling="read_and_file", limits=[{"channel": "email", "max": 1, "per": "P1D"}]
        ),
        usage=used(1),
        action=Action.HOLD,
        hold_reason=HoldReason.EXCESS,
    ),
    # 7. read and file
    Case(
        "read and file holds email",
        restriction(handling="read_and_file"),
        action=Action.HOLD,
        hold_reason=HoldReason.READ_AND_FILE,
        code="handling.read_and_file",
    ),
    Case(
        "read and file takes a call as voicemail",
        restriction(handling="read_and_file", channels=["voice"]),
        channel=Channel.VOICE,
        action=Action.VOICEMAIL,
        hold_reason=HoldReason.READ_AND_FILE,
    ),
    # 8. deliver
    Case(
        "delivered to the named officer whatever address was used",
        restriction(),
        contact={"recipient": "repairs@example.org"},
        deliver_to=JANE,
    ),
    Case(
        "delivered as addressed when no officer is named",
        restriction(named_officer=None),
        deliver_to=STAFF_EMAIL,
        code="deliver.as_addressed",
    ),
    Case(
        "sms delivered to the named officer",
        restriction(channels=["sms"]),
        channel=Channel.SMS,
        deliver_to=JANE,
    ),
    Case(
        "call to an officer with no phone goes to the number dialled",
        restriction(channels=["voice"], named_officer="nophone"),
        channel=Channel.VOICE,
        action=Action.CONNECT,
        deliver_to=STAFF_NUMBER,
    ),
    Case(
        "call with no named officer goes to the number dialled",
        restriction(channels=["voice"], named_officer=None),
        channel=Channel.VOICE,
        action=Action.CONNECT,
        deliver_to=STAFF_NUMBER,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_clause(case: Case) -> None:
    policy = index(case.restriction)
    decision = decide(contact(case.channel, **case.contact), policy, case.usage, NOW)
    assert decision.action is case.action
    assert decision.hold_reason is case.hold_reason
    if case.deliver_to is not None:
        assert decision.deliver_to == case.deliver_to
    if case.code:
        assert decision.reasons[0].code == case.code
    assert decision.restriction_id == "R-1"
    assert decision.customer_id == "C-1"
    assert all(r.restriction_id == "R-1" for r in decision.reasons)
    assert decision.reasons and all(r.text for r in decision.reasons)


def test_steps_run_in_spec_order() -> None:
    names = [step.__name__ for step in STEPS]
    assert names == [
        "_no_contact",
        "_representative_only",
        "_channel",
        "_dedicated_route",
        "_call_window",
        "_limits",
        "_read_and_file",
    ]


@pytest.mark.parametrize(
    ("sender", "channel", "code"),
    [
        ("stranger@example.com", Channel.EMAIL, "unknown_sender"),
        ("+447700900999", Channel.VOICE, "unknown_sender"),
    ],
)
def test_unknown_sender_passes_untouched(sender: str, channel: Channel, code: str) -> None:
    recipient = STAFF_EMAIL if channel is Channel.EMAIL else STAFF_NUMBER
    decision = decide(
        contact(channel, sender=sender, recipient=recipient),
        index(restriction(channels=[], handling="no_contact")),
        Usage(),
        NOW,
    )
    expected = Action.DELIVER if channel is Channel.EMAIL else Action.CONNECT
    assert (decision.action, decision.deliver_to) == (expected, recipient)
    assert decision.reasons[0].code == code
    assert not decision.restricted


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "draft", "authorised_by": None},
        {"status": "suspended"},
        {"status": "revoked"},
        {"starts": "2026-11-25T09:00:00Z"},
        {"ends": "2026-11-24T10:30:00Z"},
        {"ends": "2026-11-20T00:00:00Z"},
    ],
    ids=["draft", "suspended", "revoked", "not yet started", "ends now", "ended"],
)
def test_inactive_restriction_changes_nothing(overrides: dict[str, Any]) -> None:
    policy = index(restriction(channels=[], handling="no_contact", **overrides))
    decision = decide(contact(), policy, Usage(), NOW)
    assert decision.action is Action.DELIVER
    assert decision.deliver_to == STAFF_EMAIL
    assert decision.customer_id == "C-1"
    assert decision.reasons[0].code == "no_active_restriction"
    assert not decision.restricted


def test_restriction_active_from_its_start_instant() -> None:
    policy = index(restriction(channels=[], handling="no_contact", starts="2026-11-24T10:30:00Z"))
    assert decide(contact(), policy, Usage(), NOW).action is Action.HOLD


def test_emergency_option_without_emergency_number_connects_number_dialled() -> None:
    policy = index(restriction(channels=[], handling="no_contact"), emergency=None)
    decision = decide(contact(Channel.VOICE, emergency_requested=True), policy, Usage(), NOW)
    assert (decision.action, decision.deliver_to) == (Action.CONNECT, STAFF_NUMBER)
    assert decision.exemption == "emergency_option"


def test_exempt_contact_is_not_counted() -> None:
    policy = index(restriction(limits=[{"channel": "email", "max": 1, "per": "P1D"}]))
    decision = decide(contact(text="water leak"), policy, Usage(), NOW)
    assert decision.exemption == "emergency_repair"
    assert not decision.counted


def test_delivered_contact_is_counted_and_carries_counts() -> None:
    policy = index(restriction(limits=[{"channel": "email", "max": 5, "per": "P7D"}]))
    decision = decide(contact(), policy, used(1, 2), NOW)
    assert decision.counted
    assert [(c.restriction_id, c.channel, c.max, c.per, c.used) for c in decision.counts] == [
        ("R-1", "email", 5, "P7D", 2)
    ]


def test_call_gets_time_limit_and_recording() -> None:
    policy = index(restriction(channels=["voice"], call_time_limit=600, record_calls=True))
    decision = decide(contact(Channel.VOICE), policy, Usage(), NOW)
    assert (decision.call_time_limit, decision.record_call) == (600, True)


def test_email_carries_no_call_settings() -> None:
    policy = index(restriction(channels=["email"], call_time_limit=600, record_calls=True))
    decision = decide(contact(), policy, Usage(), NOW)
    assert (decision.call_time_limit, decision.record_call) == (None, False)


def test_call_outside_window_names_the_next_window() -> None:
    policy = index(
        restriction(
            channels=["voice"],
            call_windows=[{"days": ["wed"], "start": "10:00", "end": "12:00"}],
        )
    )
    decision = decide(contact(Channel.VOICE), policy, Usage(), NOW)
    assert decision.next_window is not None
    assert decision.next_window.words == "Wednesday 25 November between 10 am and 12 noon"
    assert decision.offer_emergency
    assert decision.notice is not None
    assert "Wednesday 25 November between 10 am and 12 noon" in decision.notice


@pytest.mark.parametrize(
    ("absent", "expected"),
    [
        ({"jsmith"}, "ali.khan@example.org"),
        (set(), JANE),
        ({"jsmith", "akhan"}, JANE),
    ],
    ids=["deputy covers", "officer present", "everyone absent: waits for officer"],
)
def test_absence_routes_to_deputy(absent: set[str], expected: str) -> None:
    officers = [
        {
            "id": "jsmith",
            "name": "Jane Smith",
            "email": JANE,
            "deputy": "akhan",
            "absent": "jsmith" in absent,
        },
        {
            "id": "akhan",
            "name": "Ali Khan",
            "email": "ali.khan@example.org",
            "deputy": "jsmith",
            "absent": "akhan" in absent,
        },
    ]
    decision = decide(contact(), index(restriction(), officers=officers), Usage(), NOW)
    assert decision.deliver_to == expected


def test_absent_officer_without_deputy_still_gets_it() -> None:
    officers = [{"id": "jsmith", "name": "Jane Smith", "email": JANE, "absent": True}]
    decision = decide(contact(), index(restriction(), officers=officers), Usage(), NOW)
    assert decision.deliver_to == JANE
    assert "absent" in decision.reasons[0].text


def test_deputy_reason_names_both() -> None:
    officers = [
        {"id": "jsmith", "name": "Jane Smith", "email": JANE, "deputy": "akhan", "absent": True},
        {"id": "akhan", "name": "Ali Khan", "email": "ali.khan@example.org"},
    ]
    decision = decide(contact(), index(restriction(), officers=officers), Usage(), NOW)
    assert decision.officer_id == "akhan"
    assert "Jane Smith is absent" in decision.reasons[0].text


def test_most_restrictive_of_several_restrictions_wins() -> None:
    policy = index(
        restriction(id="R-1"),
        restriction(id="R-2", handling="read_and_file", named_officer=None),
    )
    decision = decide(contact(), policy, Usage(), NOW)
    assert decision.action is Action.HOLD
    assert decision.restriction_id == "R-2"


def test_earlier_clause_wins_between_equally_severe_restrictions() -> None:
    policy = index(
        restriction(id="R-1", handling="read_and_file"),
        restriction(id="R-2", channels=["sms"]),
    )
    decision = decide(contact(), policy, Usage(), NOW)
    assert (decision.restriction_id, decision.hold_reason) == (
        "R-2",
        HoldReason.CHANNEL_NOT_ALLOWED,
    )


def test_voicemail_beats_connect_between_restrictions() -> None:
    policy = index(
        restriction(id="R-1", channels=["voice"]),
        restriction(id="R-2", channels=["voice"], handling="read_and_file"),
    )
    decision = decide(contact(Channel.VOICE), policy, Usage(), NOW)
    assert (decision.action, decision.restriction_id) == (Action.VOICEMAIL, "R-2")
    assert not decision.offer_emergency


def test_representative_of_several_customers_passes_untouched() -> None:
    customers = [
        customer(),
        customer(id="C-2", name="Sam Other", emails=["sam@example.net"], phones=[]),
    ]
    policy = index(restriction(channels=[], handling="no_contact"), customers=customers)
    decision = decide(contact(sender=REP_EMAIL), policy, Usage(), NOW)
    assert decision.action is Action.DELIVER
    assert decision.deliver_to == STAFF_EMAIL
    assert decision.reasons[0].code == "representative_of_several"


def test_customer_who_is_also_a_representative_is_themselves_first() -> None:
    customers = [
        customer(),
        customer(
            id="C-2",
            name="Sam Other",
            emails=["sam@example.net"],
            phones=[],
            representatives=[{"name": "Alex", "emails": [CUSTOMER_EMAIL]}],
        ),
    ]
    policy = index(restriction(channels=[], handling="no_contact"), customers=customers)
    decision = decide(contact(), policy, Usage(), NOW)
    assert (decision.customer_id, decision.via_representative) == ("C-1", None)
    assert decision.action is Action.HOLD


def test_representative_is_named_on_the_decision() -> None:
    decision = decide(contact(sender=REP_EMAIL), index(restriction()), Usage(), NOW)
    assert decision.via_representative == "Support worker"


def test_no_notice_when_notify_customer_is_off() -> None:
    policy = index(restriction(channels=[], handling="no_contact", notify_customer=False))
    assert decide(contact(), policy, Usage(), NOW).notice is None


@pytest.mark.parametrize("channel", [Channel.VOICE, Channel.STAFF_MOBILE])
def test_a_caller_outside_every_window_hears_when_to_call_whatever_notify_customer_says(
    channel: Channel,
) -> None:
    """SPEC §4.5: the caller on the gateway's line is told the next window, and nothing
    else; a call logged on a staff mobile is not answered by the gateway, so no notice."""
    windows = [{"days": ["wed"], "start": "10:00", "end": "12:00"}]
    policy = index(
        restriction(
            channels=["voice", "email", "staff_mobile"], call_windows=windows, notify_customer=False
        )
    )
    decision = decide(contact(channel), policy, Usage(), NOW)
    assert decision.hold_reason is HoldReason.OUTSIDE_CALL_WINDOW
    if channel is Channel.STAFF_MOBILE:
        assert decision.notice is None
        return
    assert decision.notice == (
        "We can take your calls only Wednesdays between 10 am and 12 noon. The next time "
        "you can call is Wednesday 25 November between 10 am and 12 noon. If you need an "
        "emergency repair, have a gas or water leak, or you or someone else is in danger, "
        "call 01632 960999 at any time."
    )


def test_decisions_are_deterministic() -> None:
    policy = index(restriction(limits=[{"channel": "email", "max": 1, "per": "P1D"}]))
    first = decide(contact(), policy, used(1), NOW)
    second = decide(contact(), policy, used(1), NOW)
    assert first == second


def test_decision_properties() -> None:
    held: Decision = decide(contact(), index(restriction(handling="read_and_file")), Usage(), NOW)
    assert held.held and held.restricted and not held.excess
    excess = decide(
        contact(),
        index(restriction(limits=[{"channel": "email", "max": 1, "per": "P1D"}])),
        used(1),
        NOW,
    )
    assert excess.excess and excess.held


def test_usage_window_is_half_open() -> None:
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    usage = Usage(delivered={Channel.EMAIL: [at]})
    assert usage.within(Channel.EMAIL, at, at + timedelta(hours=1)) == []
    assert usage.within(None, at - timedelta(seconds=1), at) == [at]
    assert usage.within(Channel.SMS, at - timedelta(days=1), at) == []


def test_reset_time_waits_for_every_full_cap() -> None:
    policy = index(
        restriction(
            channels=["email", "sms"],
            limits=[
                {"channel": "email", "max": 2, "per": "P1D"},
                {"channel": "any", "max": 3, "per": "P7D"},
                {"channel": "any", "max": 10, "per": "P7D"},
                {"channel": "sms", "max": 1, "per": "P1D"},
            ],
        )
    )
    decision = decide(contact(), policy, used(1, 2, 48), NOW)
    assert decision.excess
    assert decision.notice is not None
    # the daily email cap frees at NOW+22h, the weekly cap (3) only when the 48 h-old one
    # leaves the week: NOW - 48h + 7 days = Sunday 29 November 10:30.
    assert "You can contact us again from Sunday 29 November at 10:30 am." in decision.notice


def test_each_restriction_applies_its_own_caps() -> None:
    policy = index(
        restriction(id="R-1", limits=[{"channel": "email", "max": 5, "per": "P7D"}]),
        restriction(id="R-2", limits=[{"channel": "email", "max": 1, "per": "P1D"}]),
    )
    decision = decide(contact(), policy, used(2), NOW)
    assert (decision.restriction_id, decision.hold_reason) == ("R-2", HoldReason.EXCESS)
    assert [(c.restriction_id, c.used) for c in decision.counts] == [("R-1", 1), ("R-2", 1)]
