"""Usage counters: how many contacts each restricted customer has had delivered lately.

The counter is a cache of the evidence log (every counted contact is an evidence record),
rebuilt from it at start-up, so a restart never forgets who has used their allowance.
``consume`` is the one atomic step: check every cap that applies and record the contact
only if all of them allow it, keyed by the contact's id so a retried contact (same
Message-ID, CallSid or MessageSid) is never counted twice.

A count is taken before the contact's evidence is written (two gateways must not both
give away a cap's last place), so it is a reservation until that record commits: the
contact service gives it back with ``release`` when the record fails, and ``restore``
puts back the count of a record that committed although its writer was told it failed.
Only delivered contacts on record count (issue 16).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar, runtime_checkable

from rules.decision import Usage
from rules.models import Channel
from rules.policy_index import CompiledLimit


class UsageCounter(Protocol):
    """What the contact service needs from a counter (in-process now, Redis later)."""

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage: ...

    async def consume(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> bool: ...

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None: ...

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None: ...

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int: ...


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CounterReply(Generic[T]):
    """A counter's answer, and whether it came from this process's own fallback counts
    (the shared counter was unavailable), which the evidence record must say."""

    value: T
    degraded: bool = False


@runtime_checkable
class ReportingCounter(Protocol):
    """A counter that says, call by call, whether its answer is degraded.

    The flag travels with the answer rather than living on the counter, because many
    contacts are in flight on one event loop and each must carry its own.
    """

    async def usage_reply(
        self, customer_id: str, now: datetime, horizon: timedelta
    ) -> CounterReply[Usage]: ...

    async def consume_reply(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> CounterReply[bool]: ...

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None: ...

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None: ...

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int: ...


class _NeverDegraded:
    """A plain counter (in-process, or Redis used directly) as a ReportingCounter."""

    def __init__(self, counter: UsageCounter) -> None:
        self._counter = counter

    async def usage_reply(
        self, customer_id: str, now: datetime, horizon: timedelta
    ) -> CounterReply[Usage]:
        return CounterReply(await self._counter.usage(customer_id, now, horizon))

    async def consume_reply(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> CounterReply[bool]:
        recorded = await self._counter.consume(customer_id, contact_key, channel, now, limits)
        return CounterReply(recorded)

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None:
        await self._counter.release(customer_id, contact_key, channel)

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None:
        await self._counter.restore(customer_id, contact_key, channel, at, limits)

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int:
        return await self._counter.load(entries)


def reporting(counter: UsageCounter | ReportingCounter) -> ReportingCounter:
    """``counter`` as one that reports degraded answers (plain counters never are)."""
    if isinstance(counter, ReportingCounter):
        return counter
    return _NeverDegraded(counter)


class InProcessCounter:
    """Exact sliding logs in a dict: right for one process (the SQLite set-up).

    All methods finish without awaiting anything, so on one event loop a check and its
    record can never interleave with another contact's.
    """

    def __init__(self) -> None:
        self._logs: dict[str, dict[str, tuple[Channel, datetime]]] = {}

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage:
        log = self._logs.get(customer_id)
        if not log:
            return Usage()
        since = now - horizon
        delivered: dict[Channel, list[datetime]] = {}
        for channel, at in log.values():
            if since < at <= now:
                delivered.setdefault(channel, []).append(at)
        return Usage(delivered=delivered)

    async def consume(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> bool:
        log = self._logs.setdefault(customer_id, {})
        if contact_key in log:
            return True
        for compiled in limits:
            if compiled.channel not in (None, channel):
                continue
            since = now - compiled.period
            used = sum(
                1
                for c, at in log.values()
                if since < at <= now and (compiled.channel is None or c is compiled.channel)
            )
            if used >= compiled.limit.max:
                return False
        log[contact_key] = (channel, now)
        self._prune(log, now, max((c.period for c in limits), default=timedelta(0)))
        return True

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None:
        """Forget a count whose contact was not recorded after all."""
        log = self._logs.get(customer_id)
        if log is not None:
            log.pop(contact_key, None)

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None:
        """Count a contact on record as delivered, whatever the caps say now."""
        self._logs.setdefault(customer_id, {}).setdefault(contact_key, (channel, at))

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int:
        """Seed from evidence records: (customer_id, channel, delivered at, contact key)."""
        loaded = 0
        for customer_id, channel, at, key in entries:
            self._logs.setdefault(customer_id, {})[key] = (Channel(channel), at)
            loaded += 1
        return loaded

    @staticmethod
    def _prune(log: dict[str, tuple[Channel, datetime]], now: datetime, keep: timedelta) -> None:
        # Bounded memory: entries older than the longest period of this customer's
        # limits can never count again. Pruned only when the log grows, to stay cheap.
        if len(log) < 64:
            return
        for key in [k for k, (_, at) in log.items() if at <= now - keep]:
            del log[key]
