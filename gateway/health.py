"""Health, readiness and metrics: ``GET /healthz``, ``/readyz`` and ``/metrics``, no login.

``/healthz`` is liveness: the event loop answers. ``/readyz`` is whether a load balancer
should send this gateway traffic, with one entry per dependency:

* ``database`` — needed: without it no restricted contact can be recorded (email gets
  ``451``, texts ``503``), so it down means ``503``;
* ``redis`` — checked only when ``GATEWAY_REDIS_URL`` is set. Down means ``degraded``
  but still ``200``: decisions carry on with the process's own counters (the failure
  policy), and taking every gateway out of rotation because the shared Redis is down
  would stop all contact instead of counting it less exactly;
* ``upstream`` — the organisation's mail server (an SMTP connection and ``EHLO``) or
  the Maildir root (writable). Down means ``degraded`` and ``200``: the gateway still
  takes mail, stores it durably and queues it, which is exactly what it should do while
  the mail server is away. The check is cached for a few seconds, so a storm of probes
  from many load balancers costs the mail server one connection per interval.

``/metrics`` is Prometheus's text format from the app's own registry. The held queue's
depth, how much of it is overdue (unread past its working-day deadline, see
gateway.held.age) and the evidence chain's length are read from the store when scraped;
if the store cannot be read then, the page is still served (``200``), those gauges keep
their last values, and ``gateway_store_up`` says ``0``, so nothing stale passes as new.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiosmtplib
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from gateway.api.deps import API
from gateway.config.settings import Settings
from gateway.counters.redis_client import REDIS
from gateway.counters.shared import SharedCounter
from gateway.decisions.service import ContactService
from gateway.held.age import held_ages
from gateway.ops.metrics import METRICS, Metrics
from gateway.store import Store, StoreError

log = logging.getLogger(__name__)

OK = "ok"
NOT_CONFIGURED = "not configured"
UPSTREAM_CHECK_TTL_S = 5.0
UPSTREAM_TIMEOUT_S = 2.0
REDIS_PING_TIMEOUT_S = 1.0
# Reading the store's gauges on a busy database can take a second or two; Prometheus
# waits 10 s for a scrape by default, so 5 s leaves room and still answers in time.
SCRAPE_TIMEOUT_S = 5.0


class UpstreamCheck:
    """Whether the upstream would take mail now, remembered for ``ttl`` seconds.

    Probes arriving together share one check (a lock), and later ones within ``ttl``
    get its answer, whether it was good or bad. ``timer`` is a monotonic clock.
    """

    def __init__(
        self,
        upstream: str,
        *,
        local_hostname: str,
        ttl: float = UPSTREAM_CHECK_TTL_S,
        timeout: float = UPSTREAM_TIMEOUT_S,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self._local_hostname = local_hostname
        self._ttl = ttl
        self._timeout = timeout
        self._timer = timer
        self._lock = asyncio.Lock()
        self._answer: str | None = None
        self._until = 0.0

    async def status(self) -> str:
        """``ok``, or why the upstream cannot take mail now."""
        async with self._lock:
            if self._answer is None or self._timer() >= self._until:
                self._answer = await self._check()
                self._until = self._timer() + self._ttl
            return self._answer

    async def _check(self) -> str:
        if self.upstream.startswith("maildir:"):
            root = Path(self.upstream.removeprefix("maildir:"))
            try:
                async with asyncio.timeout(self._timeout):
                    return await asyncio.to_thread(maildir_status, root)
            except TimeoutError:
                return f"unwritable: {root} did not answer within {self._timeout}s"
        parts = urlsplit(self.upstream)
        client = aiosmtplib.SMTP(
            hostname=parts.hostname,
            port=parts.port,
            local_hostname=self._local_hostname,
            timeout=self._timeout,
            start_tls=False,
        )
        try:
            await client.connect()
            await client.ehlo()
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return f"unreachable: {parts.hostname}:{parts.port}: {exc or type(exc).__name__}"
        finally:
            client.close()
        return OK


def maildir_status(root: Path) -> str:
    """``ok`` if Maildirs can be made under ``root``: it, or the nearest directory above
    it that exists (the transport creates the rest), is a writable directory."""
    path = root
    while not path.exists() and path.parent != path:
        path = path.parent
    if not path.is_dir():
        return f"unwritable: {path} is not a directory"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"unwritable: {path} is not writable by this process"
    return OK


UPSTREAM_CHECK = web.AppKey("upstream_check", UpstreamCheck)


async def database_status(store: Store | None) -> str:
    if store is None:
        return "unavailable: the store is not open yet"
    try:
        await store.ping()
    except StoreError as exc:
        return f"unreachable: {exc}"
    return OK


async def redis_status(
    settings: Settings, client: Redis | None, counter: object | None = None
) -> str:
    """Redis answering is not enough: after an outage the gateway keeps counting locally
    until it has reloaded Redis from the evidence, and says so here meanwhile."""
    if not settings.redis.url:
        return NOT_CONFIGURED
    if client is None:
        return "unavailable: the Redis client is not running"
    try:
        async with asyncio.timeout(REDIS_PING_TIMEOUT_S):
            await client.ping()
    except Exception as exc:  # refused, reset, timed out, a Redis error: all "down"
        return f"unreachable: {type(exc).__name__}: {exc}"
    if isinstance(counter, SharedCounter) and counter.degraded:
        return "answering, but not yet reloaded from the evidence: counting locally"
    return OK


async def read_store_gauges(
    metrics: Metrics,
    store: Store | None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> None:
    """Set the gauges that are read from the store (left as they were if it fails).

    The overdue count needs the settings and the time (working days since held)."""
    if store is None:
        metrics.store_up.set(0)
        return
    overdue: int | None = None
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_S):
            held = await store.count_held()
            head = await store.evidence_head()
            if settings is not None and now is not None:
                ages = await held_ages(store, settings, now)
                overdue = await store.count_overdue(ages.held_before())
    except (StoreError, TimeoutError) as exc:
        metrics.store_up.set(0)
        why = str(exc) or f"no answer within {SCRAPE_TIMEOUT_S:g} s"
        log.warning("metrics: the store could not be read (%s); its gauges are stale", why)
        return
    metrics.held_queue.set(held)
    if overdue is not None:
        metrics.held_overdue.set(overdue)
    metrics.evidence_chain_length.set(head.seq)
    metrics.store_up.set(1)


def setup_health(
    app: web.Application,
    settings: Settings,
    *,
    store_key: web.AppKey[Store],
    service_key: web.AppKey[ContactService],
) -> None:
    """Add ``/healthz``, ``/readyz`` and ``/metrics`` (``app[METRICS]`` must be set)."""
    app[UPSTREAM_CHECK] = UpstreamCheck(
        settings.upstream, local_hostname=settings.smtp.hostname or socket.gethostname()
    )

    async def readyz(request: web.Request) -> web.Response:
        """Readiness: one entry per dependency; ``503`` only when the database is down."""
        app = request.app
        database, redis, upstream = await asyncio.gather(
            database_status(app.get(store_key)),
            redis_status(settings, app.get(REDIS), _counter(app.get(service_key))),
            app[UPSTREAM_CHECK].status(),
        )
        body = {"status": OK, "database": database, "redis": redis, "upstream": upstream}
        if database != OK:
            body["status"] = "unavailable"
            return web.json_response(body, status=503)
        if redis not in (OK, NOT_CONFIGURED) or upstream != OK:
            body["status"] = "degraded"
        return web.json_response(body)

    async def metrics_page(request: web.Request) -> web.Response:
        """Prometheus's text format; the store's gauges are read now."""
        metrics = request.app[METRICS]
        api = request.app.get(API)  # its clock is the app's (tests inject one)
        now = None if api is None else api.clock()
        await read_store_gauges(metrics, request.app.get(store_key), settings, now)
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)


def _counter(service: ContactService | None) -> object | None:
    return None if service is None else service.counter


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and its event loop answers."""
    return web.json_response({"status": "ok"})
