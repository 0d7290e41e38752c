"""Several gateways as one (SPEC §2): what ``serve`` adds when ``GATEWAY_REDIS_URL`` is set.

``shared_counter`` builds the counter the contact service uses (Redis, with the local
fall-back of ``gateway.counters.shared``); ``redis_tasks`` runs, for as long as the app
runs, the counters' watchdog and the policy fan-out (``gateway.policy.fanout``).
Without a Redis URL neither is used and a gateway behaves as a single process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from gateway.counters.breaker import CircuitBreaker
from gateway.counters.redis_counter import RedisCounter
from gateway.counters.shared import WATCH_INTERVAL_S, EvidenceSource, SharedCounter, watch
from gateway.decisions.service import ContactService
from gateway.policy.fanout import PolicyFanout, policy_channel
from gateway.store import Store

log = logging.getLogger(__name__)

# Three quick failures in a row, or one timeout, and no contact waits for Redis for a
# second; then the watchdog tries it (and reloads it) once.
BREAKER_FAILURES = 3
BREAKER_COOL_DOWN_S = 1.0


def shared_counter(
    redis: Redis, patient: Redis, *, timeout_s: float, evidence: EvidenceSource, prefix: str
) -> SharedCounter:
    """The counter of a gateway that shares Redis with others: its keys under ``prefix``
    (``GATEWAY_REDIS_PREFIX``), shared only with the gateways using the same one."""
    return SharedCounter(
        RedisCounter(redis, prefix=prefix),
        maintenance=RedisCounter(patient, prefix=prefix),
        evidence=evidence,
        breaker=CircuitBreaker(failures=BREAKER_FAILURES, cool_down_s=BREAKER_COOL_DOWN_S),
        timeout_s=timeout_s,
    )


@asynccontextmanager
async def redis_tasks(
    service: ContactService,
    store: Store,
    patient: Redis | None,
    *,
    prefix: str,
    watch_interval_s: float = WATCH_INTERVAL_S,
) -> AsyncIterator[PolicyFanout | None]:
    """Run the watchdog (if the service counts on Redis) and the fan-out, then stop them."""
    if patient is None:
        yield None
        return
    fanout = PolicyFanout(service, store, patient, channel=policy_channel(prefix))
    jobs: list[Coroutine[Any, Any, None]] = [fanout.run()]
    counter = service.counter
    if isinstance(counter, SharedCounter):
        jobs.append(watch(counter, interval_s=watch_interval_s))
    tasks = [asyncio.create_task(_logged(job)) for job in jobs]
    try:
        yield fanout
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _logged(job: Coroutine[Any, Any, None]) -> None:
    try:
        await job
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("a Redis background task stopped")
        raise
