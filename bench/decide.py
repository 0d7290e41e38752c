"""Decisions per second of rules.decide on a realistic policy, against a baseline.

Policy: 10,000 customers, 1,000 restrictions with mixed clauses (bench/make_policy.py).
Contacts: a realistic mix, drawn with a fixed seed — most from people with no
restriction (unknown senders and unrestricted customers), the rest from restricted
customers and their representatives, over email, SMS and calls, some with exemption
text, at instants spread over a week, with usage logs near their caps.

Baseline, in the same run: the cheapest thing any gateway does per contact — a dict
lookup of the sender — so the ratio says what deciding costs on top of identifying.

Prints one line of JSON. Key ``decisions_per_s``: single core, one thread.
Run: ``python bench/decide.py [--contacts 200000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from make_policy import make_policy

from rules.closed_days import ClosedDays
from rules.decision import Action, Contact, Usage
from rules.engine import decide
from rules.models import Channel, Status
from rules.policy_index import DecisionSettings, Match, PolicyIndex

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
STAFF = {
    Channel.EMAIL: "housing@example.org",
    Channel.SMS: "+441632960000",
    Channel.VOICE: "+441632960000",
}
# The channels the gateway itself sees (letters and visits are recorded by officers).
GATEWAY_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.VOICE]
TEXTS = ["", "", "", "Why has nobody replied to me?", "The boiler is broken, no hot water"]


def build(customers: int, restrictions: int) -> PolicyIndex:
    """The generated policy with every restriction in force at NOW (the worst case)."""
    policy = make_policy(customers, restrictions, seed=7)
    active = [
        r.model_copy(
            update={
                "status": Status.ACTIVE,
                "authorised_by": r.authorised_by or "director.b",
                "starts": NOW - timedelta(days=30),
                "ends": None,
            }
        )
        for r in policy.restrictions
    ]
    policy = policy.model_copy(update={"restrictions": active})
    return PolicyIndex(
        policy,
        DecisionSettings(
            zone=ZoneInfo("Europe/London"),
            emergency_number="+441632960999",
            # As the gateway runs: the nation's bank holidays and a Christmas closure.
            closed=ClosedDays(
                bank_holidays=frozenset(
                    holidays.country_holidays("GB", subdiv="ENG", years=range(2025, 2030))
                ),
                closures=frozenset(NOW.date() + timedelta(days=n) for n in (35, 36, 37)),
            ),
        ),
    )


def workload(
    index: PolicyIndex, count: int, seed: int = 11
) -> list[tuple[Contact, Usage, datetime]]:
    rng = random.Random(seed)
    restricted = sorted({r.customer for r in index.policy.restrictions})
    everyone = index.policy.customers
    cases = []
    for i in range(count):
        channel = rng.choice(GATEWAY_CHANNELS)
        roll = rng.random()
        if roll < 0.45:
            sender = (
                f"stranger{i}@example.com"
                if channel is Channel.EMAIL
                else f"+4477009{i % 100000:05d}"
            )
        elif roll < 0.75:
            c = rng.choice(everyone)
            sender = _identity(c.emails, c.phones, channel) or c.emails[0]
        else:
            c = index.customers[rng.choice(restricted)]
            people = [(c.emails, c.phones)] + [(r.emails, r.phones) for r in c.representatives]
            emails, phones = rng.choice(people)
            sender = _identity(emails, phones, channel) or c.emails[0]
        at = NOW + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
        usage = Usage(
            delivered={
                ch: [at - timedelta(hours=rng.uniform(0, 160)) for _ in range(rng.randrange(0, 6))]
                for ch in GATEWAY_CHANNELS
            }
        )
        contact = Contact(
            channel=channel,
            sender=sender,
            recipient=STAFF[channel],
            at=at,
            text=rng.choice(TEXTS) if channel is not Channel.VOICE else "",
        )
        cases.append((contact, usage, at))
    return cases


def _identity(emails: list[str], phones: list[str], channel: Channel) -> str | None:
    pool = emails if channel is Channel.EMAIL else phones
    return pool[0] if pool else None


def run(
    cases: list[tuple[Contact, Usage, datetime]], index: PolicyIndex
) -> tuple[float, dict[str, int]]:
    actions: dict[Action, int] = {}
    start = time.perf_counter()
    for contact, usage, at in cases:
        decision = decide(contact, index, usage, at)
        actions[decision.action] = actions.get(decision.action, 0) + 1
    elapsed = time.perf_counter() - start
    return elapsed, {action.value: count for action, count in actions.items()}


def baseline(cases: list[tuple[Contact, Usage, datetime]], index: PolicyIndex) -> float:
    start = time.perf_counter()
    found = 0
    for contact, _, _ in cases:
        if index.resolve(contact.sender) is not None:
            found += 1
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--restrictions", type=int, default=1_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    args = parser.parse_args(argv)
    index = build(args.customers, args.restrictions)
    cases = workload(index, args.contacts)
    run(cases[:2000], index)  # warm up caches and zoneinfo
    elapsed, actions = run(cases, index)
    base = baseline(cases, index)
    restricted = sum(
        1
        for c, _, _ in cases
        if isinstance(m := index.resolve(c.sender), Match)
        and index.active_restrictions(m.customer_id, c.at)
    )
    report = {
        "benchmark": "decide",
        "customers": args.customers,
        "restrictions": args.restrictions,
        "active_restrictions": sum(1 for r in index.policy.restrictions if r.is_active(NOW)),
        "contacts": len(cases),
        "contacts_from_restricted": restricted,
        "actions": actions,
        "decisions_per_s": round(len(cases) / elapsed),
        "baseline_lookups_per_s": round(len(cases) / base),
        "ratio_to_lookup": round((len(cases) / elapsed) / (len(cases) / base), 4),
        "target_decisions_per_s": 100_000,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
