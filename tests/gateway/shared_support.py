"""Gateways that share one database and one Redis, built in-process for tests.

Each ``shared_gateway`` is what one ``serve`` process holds: its own store (its own
connection pool) on the common database, its own Redis clients (built by the
production ``redis_from_settings``), a ``SharedCounter`` and a ``ContactService``.
The Redis counter is given the test's instants (``server_clock=False``) so that time
stays a parameter (STYLE §3), and its keys a prefix of the test's own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.counters.breaker import CircuitBreaker
from gateway.counters.redis_client import redis_from_settings
from gateway.counters.redis_counter import RedisCounter, customer_keys
from gateway.counters.shared import SharedCounter
from gateway.decisions.service import ContactService
from gateway.store import Store
from rules.decision import Contact
from rules.models import Channel, Policy
from rules.policy_index import DecisionSettings
from tests.rules.factories import LONDON, OFFICERS, customer, restriction

START = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Generous for a busy two-core test machine; production defaults to 50 ms.
TEST_TIMEOUT_MS = 200


class FakeClock:
    """Time as a value the test moves (STYLE §3: tests never sleep to make time pass)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def capped_policy(maximum: int, **overrides: Any) -> Policy:
    """One customer (C-1, alex@example.net) with an email cap of ``maximum`` a day."""
    limits = [{"channel": "email", "max": maximum, "per": "P1D"}]
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [restriction(limits=limits, **overrides)],
        }
    )


def email(at: datetime = START, sender: str = "alex@example.net") -> Contact:
    return Contact(channel=Channel.EMAIL, sender=sender, recipient="housing@example.org", at=at)


async def shared_redis_or_skip() -> None:
    """Skip (fail under CI) unless the machine's shared Redis answers."""
    client = Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # unreachable, refused, timed out
        message = f"Redis at {REDIS_URL} is not usable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    finally:
        await client.aclose()


def new_prefix() -> str:
    return f"cgtest{secrets.token_hex(4)}"


@dataclass
class SharedGateway:
    store: Store
    service: ContactService
    counter: SharedCounter
    quick: Redis
    patient: Redis
    prefix: str

    async def email_count(self, customer_id: str = "C-1") -> int:
        """How many emails Redis holds for the customer (any age)."""
        key = customer_keys(customer_id, self.prefix)[list(Channel).index(Channel.EMAIL)]
        return int(await self.patient.zcard(key))

    async def seeded(self) -> bool:
        return bool(await self.patient.exists(f"{self.prefix}:seeded"))


@asynccontextmanager
async def shared_gateway(
    database_url: str,
    redis_url: str,
    clock: Clock,
    prefix: str,
    *,
    cool_down_s: float = 0.2,
) -> AsyncIterator[SharedGateway]:
    settings = Settings(
        database={"url": database_url},
        redis={"url": redis_url, "timeout_ms": TEST_TIMEOUT_MS},
    )
    quick = redis_from_settings(settings)
    patient = redis_from_settings(settings, patient=True)
    assert quick is not None and patient is not None
    store = await Store.open(database_url)
    try:
        counter = SharedCounter(
            RedisCounter(quick, server_clock=False, prefix=prefix),
            maintenance=RedisCounter(patient, server_clock=False, prefix=prefix),
            evidence=lambda: service.counted_entries(),
            breaker=CircuitBreaker(failures=3, cool_down_s=cool_down_s),
            timeout_s=settings.redis.timeout_s,
        )
        service = ContactService(store, counter, DecisionSettings(zone=LONDON), clock)
        await service.rebuild_usage()
        yield SharedGateway(store, service, counter, quick, patient, prefix)
    finally:
        await store.close()
        await quick.aclose()
        await patient.aclose()


async def delete_prefix(redis_url: str, prefix: str) -> None:
    """Remove a test's keys from the shared Redis."""
    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
