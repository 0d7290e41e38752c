"""The contact service on a real store: decide, count, record, hold, survive a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.counters.in_process import InProcessCounter
from gateway.decisions.service import ContactService
from gateway.store import Store
from rules.decision import Action, Contact, HoldReason, Usage
from rules.models import Channel, Policy
from rules.policy_index import DecisionSettings
from tests.rules.factories import LONDON, OFFICERS, customer, restriction

START = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


class FakeClock:
    """Time as a value the test moves (STYLE §3: tests never sleep)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def policy(**overrides: Any) -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [restriction(**overrides)],
        }
    )


async def service_on(store: Store, clock: FakeClock) -> ContactService:
    service = ContactService(store, InProcessCounter(), DecisionSettings(zone=LONDON), clock)
    await service.rebuild_usage()
    return service


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def service(store: Store, clock: FakeClock) -> AsyncIterator[ContactService]:
    await store.upsert_policy(
        policy(limits=[{"channel": "email", "max": 2, "per": "P1D"}]), actor="test"
    )
    yield await service_on(store, clock)


def email(sender: str = "alex@example.net", at: datetime = START, text: str = "") -> Contact:
    return Contact(
        channel=Channel.EMAIL, sender=sender, recipient="housing@example.org", at=at, text=text
    )


async def test_unrestricted_contact_leaves_no_evidence(
    service: ContactService, store: Store
) -> None:
    handled = await service.handle(email("someone@example.com"), contact_key="k1", content=b"hi")
    assert handled.decision.action is Action.DELIVER
    assert handled.record is None
    assert (await store.evidence_head()).seq == 0


async def test_restricted_contact_is_recorded_with_its_content(
    service: ContactService, store: Store
) -> None:
    handled = await service.handle(email(), contact_key="m1", content=b"raw message")
    assert handled.created and handled.record is not None
    record = handled.record
    assert (record.customer_id, record.restriction_id, record.action) == ("C-1", "R-1", "deliver")
    assert record.deliver_to == "jane.smith@example.org"
    assert record.counted
    assert record.counts == [
        {"restriction_id": "R-1", "channel": "email", "max": 2, "per": "P1D", "used": 0}
    ]
    assert record.content_sha256 is not None
    assert await store.get_content(record.content_sha256) == b"raw message"


async def test_cap_holds_the_excess_and_the_hold_is_reviewable(
    service: ContactService, store: Store, clock: FakeClock
) -> None:
    actions = []
    for i in range(4):
        clock.now = START + timedelta(minutes=i)
        handled = await service.handle(email(at=clock.now), contact_key=f"m{i}", content=b"x%d" % i)
        actions.append((handled.decision.action, handled.decision.hold_reason))
    assert actions == [
        (Action.DELIVER, None),
        (Action.DELIVER, None),
        (Action.HOLD, HoldReason.EXCESS),
        (Action.HOLD, HoldReason.EXCESS),
    ]
    held = await store.list_held(customer_id="C-1")
    assert len(held) == 2
    assert {h.hold_reason for h in held} == {"excess"}
    # Excess does not extend the lockout: a day after the first two, mail flows again.
    clock.now = START + timedelta(days=1, seconds=1)
    handled = await service.handle(email(at=clock.now), contact_key="m9", content=b"later")
    assert handled.decision.action is Action.DELIVER


async def test_retried_contact_is_recorded_and_counted_once(
    service: ContactService, store: Store
) -> None:
    first = await service.handle(email(), contact_key="same", content=b"one")
    again = await service.handle(email(), contact_key="same", content=b"one")
    assert first.created and not again.created
    assert again.record is not None and first.record is not None
    assert again.record.seq == first.record.seq
    assert (await store.evidence_head()).seq == 1
    # Only one of the two places in the cap was used.
    second = await service.handle(email(), contact_key="other", content=b"two")
    assert second.decision.action is Action.DELIVER


async def test_restart_remembers_who_used_their_allowance(
    service: ContactService, store: Store, clock: FakeClock
) -> None:
    for i in range(2):
        await service.handle(email(), contact_key=f"m{i}", content=b"x")
    restarted = await service_on(store, clock)
    handled = await restarted.handle(email(), contact_key="m3", content=b"y")
    assert handled.decision.hold_reason is HoldReason.EXCESS


async def test_policy_change_reaches_the_very_next_contact(
    service: ContactService, store: Store
) -> None:
    assert (
        await service.handle(email(), contact_key="a", content=b"x")
    ).decision.action is Action.DELIVER
    await store.upsert_policy(policy(channels=[], handling="no_contact"), actor="test")
    handled = await service.handle(email(), contact_key="b", content=b"y")
    assert handled.decision.hold_reason is HoldReason.NO_CONTACT


async def test_exempt_contact_is_delivered_and_recorded_as_exempt(
    service: ContactService, store: Store
) -> None:
    await store.upsert_policy(policy(channels=[], handling="no_contact"), actor="test")
    handled = await service.handle(email(text="there is a gas leak"), contact_key="g", content=b"x")
    assert handled.decision.action is Action.DELIVER
    assert handled.record is not None and handled.record.exemption == "emergency_repair"
    assert await store.list_held() == []


async def test_explain_records_nothing(service: ContactService, store: Store) -> None:
    decision = await service.explain(email())
    assert decision.action is Action.DELIVER
    assert (await store.evidence_head()).seq == 0


async def test_evidence_chain_verifies_after_a_run(
    service: ContactService, store: Store, clock: FakeClock
) -> None:
    for i in range(10):
        clock.now = START + timedelta(minutes=i)
        await service.handle(email(at=clock.now), contact_key=f"m{i}", content=b"%d" % i)
    result = await store.verify_evidence()
    assert result.ok and result.records_checked == 10


async def test_customer_is_told_at_most_once_per_channel_per_day(
    store: Store, clock: FakeClock
) -> None:
    await store.upsert_policy(policy(channels=["email"], handling="read_and_file"), actor="t")
    service = await service_on(store, clock)
    first = await service.handle(email(), contact_key="a", content=b"1")
    second = await service.handle(email(), contact_key="b", content=b"2")
    assert first.notify and first.notice is not None and "will be read" in first.notice
    assert not second.notify and second.notice is None
    # A retry of the first contact gets the same answer as the first time.
    retried = await service.handle(email(), contact_key="a", content=b"1")
    assert retried.notify and not retried.created
    # A new local day (London), a new notice.
    clock.now = datetime(2026, 11, 25, 0, 0, 1, tzinfo=UTC)
    third = await service.handle(email(at=clock.now), contact_key="c", content=b"3")
    assert third.notify


async def test_no_notice_after_stop_until_start(store: Store, clock: FakeClock) -> None:
    await store.upsert_policy(policy(channels=["email"]), actor="t")
    service = await service_on(store, clock)
    sms = Contact(channel=Channel.SMS, sender="+447700900123", recipient="+441632960000", at=START)
    await service.set_sms_opt_out("+447700900123", True)
    stopped = await service.handle(sms, contact_key="s1", content=b"hello")
    assert stopped.decision.action is Action.HOLD and not stopped.notify
    await service.set_sms_opt_out("+447700900123", False)
    started = await service.handle(sms, contact_key="s2", content=b"hello again")
    assert started.notify and started.notice is not None


async def test_delivered_contact_has_no_notice(service: ContactService) -> None:
    handled = await service.handle(email(), contact_key="d", content=b"x")
    assert handled.decision.action is Action.DELIVER and not handled.notify


async def test_a_retry_gets_the_recorded_decision_not_a_fresh_one(
    store: Store, clock: FakeClock
) -> None:
    """The first contact used the last place under the cap; its retry must still be
    'delivered' (not excess) and must not use up the customer's notice for the day."""
    await store.upsert_policy(
        policy(limits=[{"channel": "email", "max": 1, "per": "P1D"}]), actor="t"
    )
    service = await service_on(store, clock)
    first = await service.handle(email(), contact_key="m1", content=b"one")
    assert first.decision.action is Action.DELIVER and first.created
    retry = await service.handle(email(), contact_key="m1", content=b"one")
    assert not retry.created
    assert retry.decision.action is Action.DELIVER
    assert retry.decision.deliver_to == first.decision.deliver_to
    assert [r.code for r in retry.decision.reasons] == [r.code for r in first.decision.reasons]
    assert not retry.notify and retry.notice is None
    # The day's one notice is still there for the next excess contact.
    excess = await service.handle(email(), contact_key="m2", content=b"two")
    assert excess.decision.excess and excess.notify and excess.notice is not None
    # And a retry of that excess contact repeats the same words.
    again = await service.handle(email(), contact_key="m2", content=b"two")
    assert again.decision.excess and again.notify and again.notice == excess.notice


class WatchedCounter(InProcessCounter):
    """The real in-process counter, noting how far back each usage read reaches."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[timedelta] = []

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage:
        self.reads.append(horizon)
        return await super().usage(customer_id, now, horizon)


_CAPPED = {"emails": ["sam@example.net"], "phones": ["07700 900456"], "representatives": []}


@pytest.mark.parametrize(
    ("limits", "reads"),
    [
        ([], []),  # no cap in force for Alex (Sam's does not matter): no usage needed
        ([{"channel": "email", "max": 2, "per": "P1D"}], [timedelta(days=1)]),
        (
            [
                {"channel": "sms", "max": 1, "per": "PT12H"},
                {"channel": "any", "max": 9, "per": "P2D"},
            ],
            [timedelta(days=2)],
        ),
    ],
)
async def test_usage_is_read_only_as_far_back_as_the_customers_own_caps(
    store: Store, clock: FakeClock, limits: list[dict[str, Any]], reads: list[timedelta]
) -> None:
    """Alex's own caps set how far back the counter is read, not the longest cap in the
    policy (Sam's, 30 days)."""
    sam = customer(id="C-2", name="Sam Example", **_CAPPED)
    sams = restriction(
        id="R-2", customer="C-2", limits=[{"channel": "email", "max": 1, "per": "P30D"}]
    )
    both = Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer(), sam],
            "restrictions": [restriction(limits=limits), sams],
        }
    )
    await store.upsert_policy(both, actor="test")
    counter = WatchedCounter()
    service = ContactService(store, counter, DecisionSettings(zone=LONDON), clock)
    await service.rebuild_usage()
    handled = await service.handle(email(), contact_key="m1", content=b"hello")
    assert handled.decision.action is Action.DELIVER and handled.record is not None
    assert counter.reads == reads
