"""Shared usage counters that survive Redis failing: Redis when it answers, this
process's own counts (seeded from the evidence log) when it does not.

Redis is only ever a cache of the evidence log, so losing it loses nothing:

* Every call to Redis is bounded by a tight timeout (``GATEWAY_REDIS_TIMEOUT_MS``, not
  counting time this process's event loop was too busy to read the answer; see
  gateway.ops.loop_lag) and goes through a circuit breaker. A few errors in a row, or one
  timeout, open it; from then on no contact waits for Redis. Each such contact is
  decided on an ``InProcessCounter`` rebuilt from the evidence log (the truth, which
  includes every other gateway's counted contacts) and its answer says ``degraded``, so
  the evidence record and the metrics say so too.
* Only the watchdog (``watch``, a task of the app) closes the breaker again, and only
  after it has reloaded Redis from the evidence *and* from the contacts this process
  counted locally meanwhile (those whose evidence may still be in flight), so Redis
  never answers without them. Loading is idempotent on the contact's key, so several
  gateways reloading at once agree.
* The watchdog also looks, every round, for Redis's ``seeded`` marker: a Redis that
  restarted without persistence (or was flushed) answers quickly but has forgotten
  every count. It is taken out of use at once and reloaded from the evidence.

While the breaker is open, the local counter is topped up from the evidence at each
trial (once per cool-down), so contacts other gateways count during the outage reach
it too; between two top-ups the gateways count separately (see docs/operator.md).

A count given back (``release``: its record failed) while Redis cannot be reached is
given back locally at once and remembered; the reload takes it out of Redis too, after
loading everything else, so a count for a contact never recorded does not come back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import TypeVar

from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.counters.breaker import CircuitBreaker
from gateway.counters.in_process import CounterReply, InProcessCounter
from gateway.counters.redis_counter import RedisCounter
from gateway.ops.loop_lag import LoopLag
from rules.decision import Usage
from rules.models import Channel
from rules.policy_index import CompiledLimit

log = logging.getLogger(__name__)

T = TypeVar("T")
# (customer id, channel, delivered at, contact key): a counted contact, as in the evidence.
Entry = tuple[str, str, datetime, str]
EvidenceSource = Callable[[], Awaitable[Sequence[Entry]]]

# The builtin TimeoutError (asyncio.timeout) and ConnectionError are OSErrors.
_REDIS_FAILURES = (RedisError, OSError)
DEFAULT_TIMEOUT_S = 0.05
# However busy this process's event loop (see gateway.ops.loop_lag), a contact waits for
# Redis at most this long (or the timeout, if longer); the client's own socket timeouts
# are set to it as a backstop. A burst of hundreds of contacts on one loop stays within.
HARD_LIMIT_S = 1.0


def hard_limit_s(timeout_s: float) -> float:
    return max(HARD_LIMIT_S, timeout_s)


# Reloading a Redis means one pipeline of every counted contact in the longest period.
MAINTENANCE_TIMEOUT_S = 10.0
WATCH_INTERVAL_S = 0.5
# Redis failing, then repaired while the evidence was read, then failing again ...
_ANSWER_ATTEMPTS = 3
# Contacts counted on Redis are remembered this long (and at most this many), because
# their evidence may not be written yet when Redis fails and the evidence is read.
RECENT_S = 60.0
RECENT_MAX = 100_000


class _Unavailable(Exception):
    """Redis cannot be used for this call; answer from the local counter."""


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError | RedisTimeoutError)


class SharedCounter:
    """The counter ``serve`` uses when ``GATEWAY_REDIS_URL`` is set.

    ``redis`` answers contacts (a client with tight timeouts); ``maintenance`` (the same
    Redis through a client with patient timeouts) takes the bulk reloads. ``evidence``
    returns the counted contacts inside the longest limit period, from the store.
    """

    def __init__(
        self,
        redis: RedisCounter,
        *,
        evidence: EvidenceSource,
        breaker: CircuitBreaker | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        hard_s: float | None = None,
        maintenance: RedisCounter | None = None,
        maintenance_timeout_s: float = MAINTENANCE_TIMEOUT_S,
    ) -> None:
        self._redis = redis
        self._maintenance = maintenance or redis
        self._evidence = evidence
        self._breaker = breaker or CircuitBreaker()
        self._timeout_s = timeout_s
        self._hard_s = hard_limit_s(timeout_s) if hard_s is None else hard_s
        self._lag = LoopLag()
        self._maintenance_timeout_s = maintenance_timeout_s
        # Exists only while the breaker is not closed (see _fallback).
        self._local: InProcessCounter | None = None
        self._building = asyncio.Lock()
        # Contacts counted on the local counter since it was built, for the reload.
        self._counted_locally: list[Entry] = []
        # Contacts lately counted on Redis, for building the local counter.
        self._recent: deque[tuple[float, Entry]] = deque(maxlen=RECENT_MAX)
        # Counts given back while Redis was unusable, to take out of it at the reload:
        # (customer id, contact key) -> channel.
        self._unreleased: dict[tuple[str, str], Channel] = {}

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def degraded(self) -> bool:
        """True while contacts are being counted locally (Redis unusable or repairing)."""
        return not self._breaker.closed

    # ------------------------------------------------------------ per contact

    async def usage_reply(
        self, customer_id: str, now: datetime, horizon: timedelta
    ) -> CounterReply[Usage]:
        async def on_local(local: InProcessCounter) -> Usage:
            return await local.usage(customer_id, now, horizon)

        return await self._answer(lambda: self._redis.usage(customer_id, now, horizon), on_local)

    async def consume_reply(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> CounterReply[bool]:
        entry = (customer_id, channel.value, now, contact_key)

        async def on_local(local: InProcessCounter) -> bool:
            recorded = await local.consume(customer_id, contact_key, channel, now, limits)
            if recorded:
                self._counted_locally.append(entry)
            return recorded

        reply = await self._answer(
            lambda: self._redis.consume(customer_id, contact_key, channel, now, limits), on_local
        )
        if reply.value:
            await self._counted(entry, reply.degraded)
        return reply

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None:
        """Give back a count whose contact was not recorded: here and in Redis, or in
        Redis at its reload when it cannot be reached now."""
        gone = (customer_id, contact_key)
        self._recent = deque(
            (item for item in self._recent if (item[1][0], item[1][3]) != gone), maxlen=RECENT_MAX
        )
        local = self._local
        if local is not None:
            await local.release(customer_id, contact_key, channel)
        try:
            await self._on_redis(lambda: self._redis.release(customer_id, contact_key, channel))
        except _Unavailable:
            self._unreleased[(customer_id, contact_key)] = channel

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None:
        """Count a contact on record as delivered (its writer was told it failed)."""
        entry = (customer_id, channel.value, at, contact_key)

        async def on_local(local: InProcessCounter) -> None:
            await local.restore(customer_id, contact_key, channel, at, limits)
            self._counted_locally.append(entry)

        reply = await self._answer(
            lambda: self._redis.restore(customer_id, contact_key, channel, at, limits), on_local
        )
        await self._counted(entry, reply.degraded)

    async def _counted(self, entry: Entry, degraded: bool) -> None:
        """``entry`` is counted now (locally when ``degraded``): no longer to give back."""
        self._unreleased.pop((entry[0], entry[3]), None)
        if degraded:
            return
        self._remember(entry)
        local = self._local
        if local is not None:
            # Redis took it just as the breaker opened: the local counter needs it.
            await local.load([entry])

    def _remember(self, entry: Entry) -> None:
        now = time.monotonic()
        recent = self._recent
        while recent and recent[0][0] < now - RECENT_S:
            recent.popleft()
        recent.append((now, entry))

    async def _answer(
        self,
        on_redis: Callable[[], Awaitable[T]],
        on_local: Callable[[InProcessCounter], Awaitable[T]],
    ) -> CounterReply[T]:
        """Redis's answer, or the local counter's (degraded) while Redis is unusable."""
        for attempt in range(_ANSWER_ATTEMPTS):
            try:
                return CounterReply(await self._on_redis(on_redis))
            except _Unavailable:
                last = attempt == _ANSWER_ATTEMPTS - 1
                local = await self._fallback(temporary=last)
                if local is not None:
                    # InProcessCounter never yields: nothing changes mode under it.
                    return CounterReply(await on_local(local), degraded=True)
        raise AssertionError("unreachable: the last attempt always answers locally")

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage:
        return (await self.usage_reply(customer_id, now, horizon)).value

    async def consume(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> bool:
        reply = await self.consume_reply(customer_id, contact_key, channel, now, limits)
        return reply.value

    async def load(self, entries: Iterable[Entry]) -> int:
        """Seed from evidence records (start-up): into Redis, or locally if it is down."""
        batch = list(entries)
        ticket = self._breaker.attempt()
        if ticket is not None:
            try:
                async with asyncio.timeout(self._maintenance_timeout_s):
                    loaded = await self._maintenance.load(batch)
            except _REDIS_FAILURES as exc:
                log.warning("Redis could not be seeded (%s); counting locally", _describe(exc))
                self._breaker.trip()
            else:
                self._breaker.succeeded(ticket)
                return loaded
        local = await self._fallback(temporary=True, evidence=batch)
        assert local is not None  # temporary=True always answers
        return await local.load(batch)  # (a local counter built before may lack some)

    async def _on_redis(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` on Redis, within the timeout, while the breaker lets it."""
        for _ in range(self._breaker.failures):
            ticket = self._breaker.attempt()
            if ticket is None:
                break
            try:
                async with self._deadline():
                    result = await call()
            except _REDIS_FAILURES as exc:
                self._breaker.failed(ticket, timeout=_is_timeout(exc))
                if not self._breaker.closed:
                    log.warning("Redis is unavailable (%s); counting locally", _describe(exc))
                continue
            self._breaker.succeeded(ticket)
            return result
        if self._breaker.closed:
            # Failed each time while other calls succeeded in between: Redis cannot be
            # trusted this instant, and a contact counted only locally must be reloaded
            # into Redis before Redis answers again.
            self._breaker.trip()
        raise _Unavailable

    def _deadline(self) -> AbstractAsyncContextManager[None]:
        """The wait for Redis on a contact's path: ``timeout_s`` of this loop's own time
        (time it was too busy to read an answer does not count), at most ``hard_s``."""
        return self._lag.deadline(self._timeout_s, hard_s=self._hard_s)

    async def _fallback(
        self, *, temporary: bool = False, evidence: Sequence[Entry] | None = None
    ) -> InProcessCounter | None:
        """The local counter, built from the evidence log by the first contact to need it.

        None when Redis was repaired while the evidence was being read: the caller asks
        Redis again (a copy kept now would go stale while Redis is in use). With
        ``temporary`` the copy answers this one contact instead. ``evidence``: the
        counted contacts, when the caller has just read them.
        """
        local = self._local
        if local is not None:
            return local
        async with self._building:
            local = self._local
            if local is None:
                local = InProcessCounter()
                await local.load(await self._evidence() if evidence is None else evidence)
                # ... and what Redis counted whose evidence may still be on its way.
                await local.load([entry for _, entry in self._recent])
                if self._breaker.closed:
                    return local if temporary else None
                self._local = local
                self._counted_locally = []
            return local

    # ------------------------------------------------------------- watchdog

    async def maintain(self) -> None:
        """One round of the watchdog: repair Redis if it lost its data or came back."""
        ticket = self._breaker.attempt()
        if ticket is not None:
            try:
                async with self._deadline():
                    seeded = await self._redis.seeded()
            except _REDIS_FAILURES as exc:
                self._breaker.failed(ticket, timeout=_is_timeout(exc))
                return
            self._breaker.succeeded(ticket)
            if seeded:
                return
            log.warning("Redis has lost the usage counts (restarted empty?): rebuilding them")
            ticket = self._breaker.force_trial()
        else:
            ticket = self._breaker.trial()
            if ticket is None:
                return
        await self._reload(ticket)

    async def _reload(self, ticket: int) -> None:
        """The trial: reload Redis from the evidence and the local counts, then use it.

        The evidence is read first, even if Redis turns out to be still down: it then
        tops up the local counter with what other gateways counted meanwhile.
        """
        try:
            evidence = await self._evidence()
        except BaseException:
            self._breaker.failed(ticket)
            raise
        try:
            async with self._deadline():
                await self._redis.seeded()  # answers at all?
            sent = len(self._counted_locally)
            # The recent ones too: counted on a Redis that has since lost them, with
            # their evidence perhaps not yet written.
            recent = [entry for _, entry in self._recent]
            async with asyncio.timeout(self._maintenance_timeout_s):
                loaded = await self._maintenance.load(
                    [*evidence, *recent, *self._counted_locally[:sent]]
                )
                # Contacts counted locally while that was loading, and counts given
                # back meanwhile (after: a count given back may be among those loaded),
                # until none is left.
                while len(self._counted_locally) > sent or self._unreleased:
                    batch = self._counted_locally[sent:]
                    sent += len(batch)
                    if batch:
                        loaded += await self._maintenance.load(batch)
                    await self._give_back(self._maintenance)
        except _REDIS_FAILURES as exc:
            self._breaker.failed(ticket, timeout=_is_timeout(exc))
            local = self._local
            if local is not None:
                await local.load(evidence)
            return
        except BaseException:
            self._breaker.failed(ticket)
            raise
        # Nothing awaited since the last check: no contact was counted locally in between.
        self._breaker.succeeded(ticket)
        if self._breaker.closed:
            self._local = None
            self._counted_locally = []
            self._recent.clear()  # all in Redis now, which is what counts again
            log.info("Redis is back: %d counted contacts reloaded into it", loaded)

    async def _give_back(self, redis: RedisCounter) -> None:
        """Take the counts given back while Redis was unusable out of it."""
        for (customer_id, contact_key), channel in list(self._unreleased.items()):
            await redis.release(customer_id, contact_key, channel)
            if self._unreleased.get((customer_id, contact_key)) is channel:
                del self._unreleased[(customer_id, contact_key)]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def watch(counter: SharedCounter, *, interval_s: float = WATCH_INTERVAL_S) -> None:
    """The watchdog task: ``maintain`` every ``interval_s`` until cancelled."""
    while True:
        try:
            await counter.maintain()
        except Exception:  # the store failing, say: try again next round, never stop
            log.exception("the usage-counter watchdog failed this round")
        await asyncio.sleep(interval_s)
