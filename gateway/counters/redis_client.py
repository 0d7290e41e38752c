"""The one Redis client of a gateway process, when ``GATEWAY_REDIS_URL`` is set.

Built in the application's clean-up context (STYLE §1: no client at import time) and
kept under ``REDIS``; absent from the app when the URL is empty. Whatever uses Redis
(the shared counters, the readiness check) takes it from there, so one connection
pool serves them all and it is closed once, at shutdown.

The timeouts are short on purpose: Redis answers in well under a millisecond, and a
contact must not wait on one that does not (the failure policy is to carry on with the
process's own counters), nor may a readiness probe.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.config.settings import Settings
from gateway.counters.shared import hard_limit_s

# For bulk work off the contact's path (reloading counters, pub/sub): seconds, not ms.
PATIENT_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64
REDIS = web.AppKey("redis", Redis)
# The same Redis with patient timeouts, for work off the contact's path.
REDIS_PATIENT = web.AppKey("redis_patient", Redis)


def redis_from_settings(settings: Settings, *, patient: bool = False) -> Redis | None:
    """A client for ``GATEWAY_REDIS_URL`` (no connection is made yet), or None.

    Waits at most ``hard_limit_s`` (a second) to connect and for each reply: a backstop,
    as the shared counter gives up after ``GATEWAY_REDIS_TIMEOUT_MS`` of its event
    loop's own time (see gateway.ops.loop_lag). A lost
    connection (one the server closed, e.g. on a restart) is retried once on a new one,
    at once; a timeout never is (the counters' circuit breaker decides what it means).
    ``patient`` gives the client for bulk reloads and the pub/sub subscription.

    A burst of contacts shares at most ``MAX_CONNECTIONS`` connections, waiting for a
    free one rather than failing (redis-py's default pool refuses the 101st outright).
    """
    if not settings.redis.url:
        return None
    # The contact's own, tighter and lag-aware, limit is kept by its caller (the
    # shared counter); these are the backstop, at the most it may wait.
    quick = hard_limit_s(settings.redis.timeout_s)
    timeout = PATIENT_TIMEOUT_S if patient else quick
    pool = BlockingConnectionPool.from_url(
        settings.redis.url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=quick,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return Redis.from_pool(pool)


async def redis_lifecycle(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    """Clean-up context: ``app[REDIS]`` while the app runs (if configured), closed after."""
    client = redis_from_settings(settings)
    patient = redis_from_settings(settings, patient=True)
    if client is None or patient is None:
        yield
        return
    app[REDIS] = client
    app[REDIS_PATIENT] = patient
    try:
        yield
    finally:
        await client.aclose()
        await patient.aclose()


def add_redis(app: web.Application, settings: Settings) -> None:
    """Register ``redis_lifecycle``; call before anything that uses ``app[REDIS]``."""
    app.cleanup_ctx.append(functools.partial(redis_lifecycle, settings=settings))
