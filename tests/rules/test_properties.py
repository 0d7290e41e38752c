"""Properties of decide() over generated policies, contacts and usage (hypothesis)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.decision import Action, Contact, Usage
from rules.engine import decide
from rules.models import Channel
from rules.policy_index import PolicyIndex

from .factories import (
    CUSTOMER_EMAIL,
    CUSTOMER_PHONE,
    NOW,
    REP_EMAIL,
    REP_PHONE,
    STAFF_EMAIL,
    STAFF_NUMBER,
    index,
    restriction,
)

channels = st.sampled_from(list(Channel))
windows = st.lists(
    st.fixed_dictionaries(
        {
            "days": st.lists(
                st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                min_size=1,
                unique=True,
            ),
            "start": st.sampled_from(["02:00", "09:00", "10:00", "22:00"]),
            "end": st.sampled_from(["23:00", "24:00", "26:00"]),
        }
    ),
    max_size=2,
)
limits = st.lists(
    st.fixed_dictionaries(
        {
            "channel": st.sampled_from(["email", "sms", "voice", "any"]),
            "max": st.integers(1, 4),
            "per": st.sampled_from(["PT12H", "P1D", "P7D"]),
        }
    ),
    max_size=3,
)


@st.composite
def restrictions(draw: st.DrawFn, rid: str = "R-1", active: bool | None = None) -> dict[str, Any]:
    allowed = draw(st.lists(channels, unique=True))
    handling = draw(
        st.sampled_from(["deliver", "read_and_file", "representative_only", "no_contact"])
    )
    if not allowed:
        handling = "no_contact"
    status = draw(st.sampled_from(["active", "draft", "suspended", "revoked"]))
    starts = NOW + timedelta(days=draw(st.integers(-30, 5)))
    ends = draw(st.one_of(st.none(), st.integers(1, 60).map(lambda d: starts + timedelta(days=d))))
    if active is True:
        status, starts, ends = "active", NOW - timedelta(days=1), None
    if active is False and status == "active":
        ends = NOW - timedelta(seconds=1)
        starts = ends - timedelta(days=10)
    return restriction(
        id=rid,
        status=status,
        authorised_by=None if status == "draft" else "director.b",
        starts=starts.isoformat(),
        ends=ends.isoformat() if ends else None,
        channels=[c.value for c in allowed],
        handling=handling,
        named_officer=draw(st.sampled_from([None, "jsmith", "akhan", "nophone"])),
        call_windows=draw(windows),
        call_time_limit=draw(st.one_of(st.none(), st.integers(30, 3600))),
        record_calls=draw(st.booleans()),
        limits=draw(limits),
        notify_customer=draw(st.booleans()),
    )


@st.composite
def policies(draw: st.DrawFn, active: bool | None = None) -> PolicyIndex:
    count = draw(st.integers(0, 3))
    return index(
        *[draw(restrictions(f"R-{i}", active)) for i in range(count)],
        emergency=draw(st.sampled_from([None, "+441632960999"])),
    )


texts = st.one_of(
    st.just(""),
    st.text(max_size=40),
    st.sampled_from(["gas leak", "No hot water!", "this is a subject access request", "hello"]),
)


@st.composite
def contacts(draw: st.DrawFn, senders: list[str] | None = None) -> Contact:
    channel = draw(channels)
    default = (
        [CUSTOMER_EMAIL, REP_EMAIL, "stranger@example.com"]
        if channel is Channel.EMAIL
        else [CUSTOMER_PHONE, REP_PHONE, "+447700900999"]
    )
    return Contact(
        channel=channel,
        sender=draw(st.sampled_from(senders or default)),
        recipient=STAFF_EMAIL if channel is Channel.EMAIL else STAFF_NUMBER,
        at=NOW,
        text=draw(texts),
        emergency_requested=channel is Channel.VOICE and draw(st.booleans()),
    )


usages = st.dictionaries(
    channels,
    st.lists(st.integers(0, 60 * 24 * 8).map(lambda m: NOW - timedelta(minutes=m)), max_size=6),
).map(lambda d: Usage(delivered=d))


@settings(max_examples=300, deadline=None)
@given(policy=policies(), contact=contacts(), usage=usages)
def test_decide_is_total(policy: PolicyIndex, contact: Contact, usage: Usage) -> None:
    decision = decide(contact, policy, usage, NOW)
    assert isinstance(decision.action, Action)
    assert decision.reasons
    if decision.action in (Action.DELIVER, Action.CONNECT):
        assert decision.deliver_to
        assert decision.hold_reason is None
    else:
        assert decision.hold_reason is not None
        assert decision.restricted
    voice = contact.channel is Channel.VOICE
    assert (decision.action in (Action.CONNECT, Action.MESSAGE, Action.VOICEMAIL)) == voice
    assert decide(contact, policy, usage, NOW) == decision


@settings(max_examples=200, deadline=None)
@given(policy=policies(), contact=contacts(), usage=usages)
def test_exempt_contact_is_never_held(policy: PolicyIndex, contact: Contact, usage: Usage) -> None:
    decision = decide(contact, policy, usage, NOW)
    if decision.exemption is not None:
        assert decision.action in (Action.DELIVER, Action.CONNECT)
    exempt_text = policy.settings.exemptions.classify(contact.text) is not None
    if (exempt_text or contact.emergency_requested) and decision.restricted:
        assert decision.exemption is not None
        assert not decision.held


@settings(max_examples=200, deadline=None)
@given(
    policy=policies(),
    contact=contacts(senders=["stranger@example.com", "+447700900999"]),
    usage=usages,
)
def test_unknown_sender_is_delivered_to_the_original_recipient(
    policy: PolicyIndex, contact: Contact, usage: Usage
) -> None:
    decision = decide(contact, policy, usage, NOW)
    assert decision.action in (Action.DELIVER, Action.CONNECT)
    assert decision.deliver_to == contact.recipient
    assert not decision.restricted and decision.customer_id is None


@settings(max_examples=200, deadline=None)
@given(policy=policies(active=False), contact=contacts(), usage=usages)
def test_contact_outside_every_active_restriction_is_untouched(
    policy: PolicyIndex, contact: Contact, usage: Usage
) -> None:
    decision = decide(contact, policy, usage, NOW)
    assert decision.action in (Action.DELIVER, Action.CONNECT)
    assert decision.deliver_to == contact.recipient
    assert not decision.restricted
    assert decision.notice is None and not decision.counted
