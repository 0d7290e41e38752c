"""Builders and helpers for store tests: policies of any size, evidence, raw tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store import EvidenceEntry, Store
from rules.models import Policy

T0 = datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=UTC)


def officer_data(i: int) -> dict[str, Any]:
    return {
        "id": f"officer{i}",
        "name": f"Officer {i}",
        "email": f"officer{i}@example.org",
        "phone": f"+44163296{i:04d}",
        "deputy": f"officer{i + 1}" if i % 2 == 0 else None,
    }


def customer_data(i: int) -> dict[str, Any]:
    emails = [f"customer{i}@example.net"] + ([f"c{i}.alt@example.com"] if i % 2 else [])
    phones = [f"+447{i:09d}"] + ([f"+447{500_000_000 + i:09d}"] if i % 3 == 0 else [])
    representatives = (
        [{"name": f"Support worker {i}", "emails": [f"worker{i}@charity.example"], "phones": []}]
        if i % 5 == 0
        else []
    )
    return {
        "id": f"C-{i:05d}",
        "name": f"Customer {i}",
        "emails": emails,
        "phones": phones,
        "representatives": representatives,
    }


def restriction_data(i: int, customer: int, officers: int) -> dict[str, Any]:
    return {
        "id": f"R-{i:05d}",
        "customer": f"C-{customer:05d}",
        "reason": "Over 40 calls a week to several staff",
        "proposed_by": "officer.a",
        "authorised_by": "director.b",
        "status": "active",
        "starts": "2026-11-01T09:00:00Z",
        "review_on": "2027-05-01",
        "ends": "2027-11-01T09:00:00Z",
        "channels": ["email", "voice"],
        "named_officer": f"officer{i % officers}",
        "call_windows": [{"days": ["tue"], "start": "10:00", "end": "12:00"}],
        "call_time_limit": 600,
        "limits": [{"channel": "email", "max": 5, "per": "P7D"}],
        "handling": "deliver",
    }


def make_policy(customers: int, restrictions: int, officers: int = 10) -> Policy:
    """A valid policy: ``restrictions`` go to the first customers, one each."""
    return Policy.model_validate(
        {
            "officers": [officer_data(i) for i in range(officers)],
            "customers": [customer_data(i) for i in range(customers)],
            "restrictions": [
                restriction_data(i, i % customers, officers) for i in range(restrictions)
            ],
        }
    )


def make_entry(n: int, **changes: Any) -> EvidenceEntry:
    """The ``n``th contact from one restricted customer, a minute apart."""
    fields: dict[str, Any] = {
        "contact_key": f"SM{n:032x}",
        "occurred_at": T0 + timedelta(minutes=n),
        "channel": "sms",
        "sender": "+447700900123",
        "recipient": "+441632960001",
        "customer_id": "C-1001",
        "restriction_id": "R-2026-001",
        "action": "deliver",
        "deliver_to": "+441632960001",
        "reasons": [{"code": "deliver", "text": "Allowed", "restriction_id": "R-2026-001"}],
        "counts": [
            {"restriction_id": "R-2026-001", "channel": "sms", "max": 5, "per": "P7D", "used": n}
        ],
        "counted": True,
        "policy_version": 3,
        "details": {"n": n, "note": "Café — “quoted”"},
    }
    fields.update(changes)
    return EvidenceEntry(**fields)


async def record_many(store: Store, count: int) -> None:
    for n in range(1, count + 1):
        await store.record_contact(make_entry(n))


async def raw(store: Store, action: Callable[[AsyncConnection], Awaitable[object]]) -> None:
    """Change the database behind the store's back, as someone with SQL access could."""
    async with store.engine.begin() as conn:
        await action(conn)


def independent_hash(fields: dict[str, object]) -> str:
    """The documented algorithm, written out without the store's own helpers."""

    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value

    body = {k: plain(v) for k, v in fields.items()}
    text_ = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()
