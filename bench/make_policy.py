"""A deterministic, realistic policy of any size, for benchmarks and tests.

``make_policy(10_000, 1_000)`` gives a landlord-sized policy: 20 officers (each with a
deputy, two of them absent), customers with one or two email addresses and one or two
UK mobile numbers (some written in national format, some in mixed case, so the models'
normalisation is exercised), some representatives, and restrictions that mix every kind
of clause SPEC §1 lists, in every status and handling mode, some already ended or past
their review date. The same arguments always give the same Policy: nothing reads the
clock (dates are laid out around ``BASE``) and all randomness comes from ``seed``.

Numbers are +447400nnnnnn and +447900nnnnnn (nnnnnn = the customer's position), which
phonenumbers accepts as valid UK mobiles and which cannot collide for up to a million
customers; officers use Ofcom's drama range 020 7946 0xxx.

Importing it: ``bench/`` is not a package of the distribution. Scripts here run as
``python bench/x.py`` (which puts ``bench/`` on ``sys.path``) and do
``from make_policy import make_policy``; tests load it from its path with importlib (see
tests/gateway/policy/test_policy_file.py). Both need the project importable (installed, or run
from the repository root with ``PYTHONPATH=.``).

Run ``python bench/make_policy.py --customers 10000 --restrictions 1000 > policy.yaml``
to write the policy as a SPEC §3 file.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.policy.file import dump_policy
from rules.models import Policy

BASE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
"""The "now" the generated restrictions are laid out around."""

_FIRST = (
    "Alex",
    "Sam",
    "Jo",
    "Chris",
    "Pat",
    "Jamie",
    "Morgan",
    "Taylor",
    "Casey",
    "Riley",
    "Jordan",
    "Avery",
    "Charlie",
    "Robin",
    "Priya",
    "Mohammed",
    "Aisha",
    "Olu",
    "Wei",
    "Siobhan",
    "Dafydd",
    "Agnieszka",
    "Tomasz",
    "Fatima",
    "Liam",
    "Grace",
)
_LAST = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Khan",
    "Patel",
    "Ahmed",
    "Nowak",
    "O'Brien",
    "Murphy",
    "Campbell",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Lewis",
    "Okafor",
)
_REASONS = (
    "Over 40 calls a week to several staff",
    "Abusive language towards the repairs team",
    "Repeated emails on a closed complaint",
    "Threatening voicemail left for a neighbourhood officer",
    "Contacting many staff about the same issue",
    "Unreasonably persistent after the complaints process ended",
    "Recording staff and posting the recordings online",
)
_CHARITIES = ("Citizens Advice", "Shelter", "Mind", "Age UK", "a local advocacy service")
_HANDLING = ("deliver", "read_and_file", "representative_only", "no_contact")
_DAYS = ("mon", "tue", "wed", "thu", "fri")
_PERIODS = ("PT12H", "P1D", "P7D", "P1W", "P30D")


def make_policy(customers: int, restrictions: int, *, seed: int = 1) -> Policy:
    """A valid Policy with ``customers`` customers and ``restrictions`` restrictions.

    Built from the raw values a person would write and validated by the models, so what
    comes back is exactly what importing the same data would give.
    """
    rng = random.Random(seed)
    officers = _officers(rng)
    people = [_customer(rng, i) for i in range(customers)]
    with_reps = {c["id"] for c in people if "representatives" in c}
    owners = [people[i]["id"] for i in _pick(rng, customers, restrictions)]
    data = {
        "officers": officers,
        "customers": people,
        "restrictions": [
            _restriction(rng, k, owner, owner in with_reps, [o["id"] for o in officers])
            for k, owner in enumerate(owners)
        ],
    }
    return Policy.model_validate(data, context={"region": "GB"})


def _pick(rng: random.Random, customers: int, restrictions: int) -> list[int]:
    if restrictions and not customers:
        raise ValueError("restrictions need at least one customer")
    if restrictions <= customers:
        return rng.sample(range(customers), restrictions)
    return [rng.randrange(customers) for _ in range(restrictions)]


def _officers(rng: random.Random, count: int = 20) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(count):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
        handle = f"{first[0]}{last}".lower().replace("'", "") + (str(i) if i >= 10 else "")
        out.append(
            {
                "id": handle,
                "name": f"{first} {last}",
                "email": f"{first}.{last}@example.org".lower().replace("'", ""),
                "phone": f"020 7946 0{i:03d}",
                "absent": i in (3, 11),
            }
        )
    for i, officer in enumerate(out):
        officer["deputy"] = out[(i + 1) % count]["id"]
    rng.shuffle(out)
    return out


def _customer(rng: random.Random, i: int) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    slug = f"{first}.{last}".replace("'", "")
    emails = [
        f"{slug}.{i}@example.net" if rng.random() < 0.8 else f"{slug.upper()}{i}@Mail.Example"
    ]
    if rng.random() < 0.3:
        emails.append(f"{last.lower().replace(chr(39), '')}{i}@work.example.com")
    phones = [f"+447400{i:06d}"]
    if rng.random() < 0.4:
        phones.append(f"07900 {i:06d}")
    customer: dict[str, Any] = {
        "id": f"C-{i + 1:05d}",
        "name": f"{first} {last}",
        "emails": emails,
        "phones": phones,
    }
    if rng.random() < 0.08:
        charity = rng.choice(_CHARITIES)
        rep: dict[str, Any] = {
            "name": f"Support worker, {charity}",
            "emails": [f"worker{i}@charity.example"],
        }
        if rng.random() < 0.5:
            rep["phones"] = [f"+447500{i:06d}"]
        customer["representatives"] = [rep]
    return customer


def _restriction(
    rng: random.Random, k: int, customer: str, has_rep: bool, officers: list[str]
) -> dict[str, Any]:
    starts = BASE - timedelta(days=rng.randint(0, 540))
    status = rng.choices(
        ("active", "draft", "suspended", "revoked", "lapsed", "rejected"), (68, 12, 9, 6, 3, 2)
    )[0]
    handling = rng.choices(_HANDLING, (55, 15, 15, 15))[0]
    if handling == "representative_only" and not has_rep:
        handling = "deliver"
    out: dict[str, Any] = {
        "id": f"R-{starts.year}-{k + 1:04d}",
        "customer": customer,
        "reason": rng.choice(_REASONS),
        "proposed_by": f"manager.{rng.choice('abcdef')}",
        "status": status,
        "starts": starts.isoformat(),
        "review_on": (starts + timedelta(days=182)).date().isoformat(),
        "handling": handling,
        "notify_customer": rng.random() < 0.85,
    }
    if status != "draft" or rng.random() < 0.5:
        out["authorised_by"] = f"director.{rng.choice('abcd')}"
    length = rng.choice((None, None, 90, 365, 365))
    if length is not None:
        out["ends"] = (starts + timedelta(days=length)).isoformat()
    if handling != "no_contact":
        channels = rng.sample(("email", "sms", "voice"), rng.randint(1, 3))
        if rng.random() < 0.25:  # letters, visits... recorded by officers
            channels[-1] = rng.choice(("letter", "visit", "staff_mobile", "social_media"))
        out["channels"] = channels
    if rng.random() < 0.5:
        out["named_officer"] = rng.choice(officers)
    if "voice" in out.get("channels", ()):
        out.update(_call_clauses(rng))
    if rng.random() < 0.6:
        kinds = [*out.get("channels", ()), "any"]
        out["limits"] = [
            {"channel": rng.choice(kinds), "max": rng.randint(1, 10), "per": rng.choice(_PERIODS)}
            for _ in range(rng.randint(1, 2))
        ]
    return out


def _call_clauses(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"record_calls": rng.random() < 0.5}
    if rng.random() < 0.5:
        out["call_time_limit"] = rng.choice((300, 600, 900, 1200))
    if rng.random() < 0.6:
        windows = []
        for _ in range(rng.randint(1, 2)):
            days = sorted(rng.sample(_DAYS, rng.randint(1, 3)), key=_DAYS.index)
            if rng.random() < 0.03:
                windows.append({"days": days, "start": "22:00", "end": "26:00"})
            else:
                start = rng.randint(9, 15)
                end = start + rng.randint(1, 3)
                windows.append({"days": days, "start": f"{start}:00", "end": f"{end}:30"})
        out["call_windows"] = windows
    return out


def main(argv: list[str] | None = None) -> None:
    """Write a generated policy to stdout as a SPEC §3 YAML file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--restrictions", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sys.stdout.write(dump_policy(make_policy(args.customers, args.restrictions, seed=args.seed)))


if __name__ == "__main__":
    main()
