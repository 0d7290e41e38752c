"""The lean policy load: the same index, and so the same decisions, as the full Policy."""

from __future__ import annotations

import pytest

from gateway.store import Store, policy_read
from rules.decision import EMPTY_USAGE, Contact
from rules.engine import decide
from rules.models import Channel, Policy
from rules.policy_index import AMBIGUOUS, DecisionSettings, Match, PolicyIndex
from tests.gateway.store_factory import make_policy
from tests.rules.factories import LONDON, NOW
from tests.rules.test_policy_index import identities, reference_resolve

SETTINGS = DecisionSettings(zone=LONDON)


def tangled(customers: int = 120, restrictions: int = 30) -> Policy:
    """make_policy's customers, some of whose representatives act for several customers
    (restricted or not), or are customers themselves; restrictions in every status."""
    data = make_policy(customers, restrictions).model_dump(mode="json")
    people = data["customers"]
    for i in (1, 50, 51, 100):  # C-00001 restricted, the others not
        people[i]["representatives"].append({"name": "Advocate", "emails": ["adv@help.example"]})
    people[2]["representatives"].append(  # one customer writing for another
        {"name": "Neighbour", "emails": [people[60]["emails"][0]], "phones": ["+447999000001"]}
    )
    people[3]["representatives"] += [
        {"name": "First", "emails": ["twice@help.example"]},
        {"name": "Second", "emails": ["twice@help.example"]},
    ]
    people[4].update(emails=[], phones=[], representatives=[])
    for i, status in enumerate(("revoked", "draft", "suspended", "lapsed")):
        data["restrictions"][i]["status"] = status
    return Policy.model_validate(data)


async def both(store: Store) -> tuple[PolicyIndex, PolicyIndex]:
    full = PolicyIndex(await store.load_policy(), SETTINGS, version=3)
    lean = await store.load_lean_policy()
    index = PolicyIndex.from_directory(
        lean.officers, lean.customers, lean.restrictions, SETTINGS, version=3
    )
    return full, index


@pytest.mark.parametrize("stream_rows", [policy_read.STREAM_ROWS, 7])
async def test_lean_load_gives_the_same_index(
    store: Store, stream_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy_read, "STREAM_ROWS", stream_rows)
    policy = tangled()
    await store.upsert_policy(policy, actor="test")
    full, lean = await both(store)
    assert lean.policy is None
    assert lean.resolve("adv@help.example") is AMBIGUOUS
    assert lean.resolve("twice@help.example") == Match("C-00003", "First")
    assert lean.resolve(policy.customers[60].emails[0]) == Match("C-00060")
    for identity in identities(policy):
        expected = reference_resolve(policy, identity)
        assert full.resolve(identity) == expected, identity
        assert lean.resolve(identity) == expected, identity
    assert dict(lean.customers) == dict(full.customers) == {c.id: c for c in policy.customers}
    assert lean.officers == full.officers
    assert lean.longest_period == full.longest_period
    for c in policy.customers:
        assert lean.active_restrictions(c.id, NOW) == full.active_restrictions(c.id, NOW)
    for r in policy.restrictions:
        assert lean.restriction(r.id) == full.restriction(r.id) == r


async def test_lean_load_gives_the_same_decisions(store: Store) -> None:
    policy = tangled()
    await store.upsert_policy(policy, actor="test")
    full, lean = await both(store)
    senders = [i for i in identities(policy) if not i.startswith("customer:")]
    assert len(senders) > 300
    for sender in senders:
        channel = Channel.EMAIL if "@" in sender else Channel.SMS
        contact = Contact(
            channel=channel,
            sender=sender,
            recipient="housing@example.org" if "@" in sender else "+441632960000",
            at=NOW,
            text="About my repairs",
        )
        assert decide(contact, lean, EMPTY_USAGE, NOW) == decide(contact, full, EMPTY_USAGE, NOW)


async def test_lean_load_of_an_empty_store(store: Store) -> None:
    lean = await store.load_lean_policy()
    assert (lean.officers, lean.restrictions, len(lean.customers)) == ([], [], 0)
