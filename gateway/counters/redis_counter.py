"""Usage counters in Redis: several gateways count each customer's contact once.

The semantics are exactly those of ``InProcessCounter`` (one shared test suite runs
against both): an exact sliding log per customer, a check of every cap that applies and
a record of the contact only if all of them allow it, idempotent on the contact's key.
Here that check-and-record is one Lua script, so it is atomic across every gateway
sharing the Redis.

* Each customer has one sorted set of every counted contact, ``<prefix>:{<customer>}:log``:
  member = the contact key, score = milliseconds since the epoch × 8 + the channel's
  number. Its order is time's, so an any-channel cap is one ``ZCOUNT``, ``usage`` is one
  ``ZRANGEBYSCORE``, and a retried contact is found by one exact ``ZSCORE`` whatever its
  channel.
* Beside it, one set per channel, ``<prefix>:{<customer>}:<channel>`` (member = contact
  key, score = milliseconds), for caps on one channel: one ``ZCOUNT`` too. A contact is
  written to its own channel's set whether or not a cap names that channel today, so a
  cap added later counts what came before it. A contact is only ever checked against
  caps on its own channel or on any channel, so the script is given two keys.
* The braces are a hash tag: all of one customer's keys live in one cluster slot, so
  the script may touch them together.
* The script reads the Redis server's clock (``TIME``) unless the caller passes an
  explicit instant, so gateways whose clocks disagree still agree on the count. Tests
  pass instants to keep time a parameter.
* The script is called with ``EVALSHA`` and loaded again when the server answers
  ``NOSCRIPT`` (after a restart or ``SCRIPT FLUSH``), as redis-py's ``Script`` does but
  without its per-call work, and with the caps as one argument: the limit check is the
  one Redis call on a contact's path, and each argument costs redis-py more than
  parsing it costs the script (bench/redis_limit.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from rules.decision import Usage
from rules.models import Channel
from rules.policy_index import CompiledLimit

# Loaded entries expire unless a later contact resets the expiry to the customer's own
# longest period; longer than any cap a policy is likely to set.
_LOADED_TTL = timedelta(days=400)
_CHANNELS = tuple(Channel)
# A channel's number, the low three bits of a score in the log.
_NUMBER = {channel: number for number, channel in enumerate(_CHANNELS)}
_SLOTS = 8
assert len(_CHANNELS) <= _SLOTS, "a log score holds the channel in three bits"
_MIN_KEEP = timedelta(days=1)
DEFAULT_PREFIX = "cg"

# KEYS: the customer's log of every channel, the set of the contact's own channel.
# ARGV: the contact key, now_ms ('' = the server's clock), and what to check, as one
#       argument (each one costs the client more than parsing it costs the script):
#       "<channel number> <keep_ms>" then " a<max>/<period_ms>" for each any-channel cap
#       and " c<max>/<period_ms>" for each cap on the contact's own channel.
# Scores are whole milliseconds, so "after now - period" is ">= now - period + 1".
# Returns 1 = recorded (or recorded before), 0 = a cap is full.
CONSUME_LUA = """
local log, own = KEYS[1], KEYS[2]
local member = ARGV[1]
if redis.call('ZSCORE', log, member) then
  return 1
end
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local number, keep, caps = string.match(ARGV[3], '^(%d+) (%d+)(.*)$')
for kind, max, period in string.gmatch(caps, ' ([ac])(%d+)/(%d+)') do
  local low = now - tonumber(period) + 1
  local count
  if kind == 'a' then
    count = redis.call('ZCOUNT', log, low * 8, now * 8 + 7)
  else
    count = redis.call('ZCOUNT', own, low, now)
  end
  if count >= tonumber(max) then
    return 0
  end
end
keep = tonumber(keep)
redis.call('ZADD', log, now * 8 + tonumber(number), member)
redis.call('ZADD', own, now, member)
redis.call('ZREMRANGEBYSCORE', log, '-inf', (now - keep) * 8 + 7)
redis.call('ZREMRANGEBYSCORE', own, '-inf', now - keep)
redis.call('PEXPIRE', log, keep)
redis.call('PEXPIRE', own, keep)
return 1
"""


def channel_key(customer_id: str, channel: Channel, prefix: str = DEFAULT_PREFIX) -> str:
    """The set of the customer's contacts on one channel."""
    return f"{prefix}:{{{customer_id}}}:{channel.value}"


def log_key(customer_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The log of the customer's contacts on every channel."""
    return f"{prefix}:{{{customer_id}}}:log"


def customer_keys(customer_id: str, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Every key of the customer, sharing the hash tag ``{customer}``: one set per
    channel, in the order of ``Channel``, then the log of every channel."""
    return [
        *(channel_key(customer_id, channel, prefix) for channel in _CHANNELS),
        log_key(customer_id, prefix),
    ]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _span_ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _instant(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class RedisCounter:
    """The shared counter: one Redis for every gateway of a large council."""

    def __init__(
        self, client: Redis, *, server_clock: bool = True, prefix: str = DEFAULT_PREFIX
    ) -> None:
        self._client = client
        self._server_clock = server_clock
        self._prefix = prefix
        self._seeded_key = f"{prefix}:seeded"
        self._script = client.register_script(CONSUME_LUA)

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage:
        """Delivered contacts in ``(now - horizon, now]``.

        A contact stamped by the Redis clock slightly ahead of this gateway's clock is
        read as happening now, so it counts rather than vanishing into the future.
        """
        low = (_ms(now - horizon) + 1) * _SLOTS
        entries = await self._client.zrangebyscore(
            log_key(customer_id, self._prefix), low, "+inf", withscores=True
        )
        delivered: dict[Channel, list[datetime]] = {}
        for _, score in cast("list[tuple[bytes, float]]", entries):
            ms, number = divmod(int(score), _SLOTS)
            delivered.setdefault(_CHANNELS[number], []).append(min(_instant(ms), now))
        return Usage(delivered=delivered)

    async def consume(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> bool:
        keep = max((compiled.period for compiled in limits), default=_MIN_KEEP)
        checks = "".join(
            f" {'a' if compiled.channel is None else 'c'}"
            f"{compiled.limit.max}/{_span_ms(compiled.period)}"
            for compiled in limits
            if compiled.channel in (None, channel)
        )
        recorded = await self._evalsha(
            log_key(customer_id, self._prefix),
            channel_key(customer_id, channel, self._prefix),
            contact_key,
            "" if self._server_clock else _ms(now),
            f"{_NUMBER[channel]} {_span_ms(max(keep, _MIN_KEEP))}{checks}",
        )
        return bool(recorded)

    async def release(self, customer_id: str, contact_key: str, channel: Channel) -> None:
        """Forget a count whose contact was not recorded after all (both sets at once)."""
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zrem(log_key(customer_id, self._prefix), contact_key)
            pipe.zrem(channel_key(customer_id, channel, self._prefix), contact_key)
            await pipe.execute()

    async def restore(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        at: datetime,
        limits: Sequence[CompiledLimit],
    ) -> None:
        """Count a contact on record as delivered at ``at``, whatever the caps say now:
        the script with no cap to check (a count already there is left as it is)."""
        keep = max((compiled.period for compiled in limits), default=_MIN_KEEP)
        await self._evalsha(
            log_key(customer_id, self._prefix),
            channel_key(customer_id, channel, self._prefix),
            contact_key,
            _ms(at),
            f"{_NUMBER[channel]} {_span_ms(max(keep, _MIN_KEEP))}",
        )

    async def _evalsha(self, *keys_and_args: str | int) -> object:
        """The script on its two keys; loaded again if Redis has lost it."""
        script = self._script
        try:
            return await self._client.evalsha(script.sha, 2, *keys_and_args)
        except NoScriptError:
            script.sha = await self._client.script_load(script.script)
            return await self._client.evalsha(script.sha, 2, *keys_and_args)

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int:
        """Seed from evidence records; marks the Redis as seeded for the watchdog.

        Idempotent: a contact already there is written again with the same scores.
        """
        loaded = 0
        ttl = _span_ms(_LOADED_TTL)
        async with self._client.pipeline(transaction=False) as pipe:
            for customer_id, channel_name, at, key in entries:
                channel, ms = Channel(channel_name), _ms(at)
                log, own = (
                    log_key(customer_id, self._prefix),
                    channel_key(customer_id, channel, self._prefix),
                )
                pipe.zadd(log, {key: ms * _SLOTS + _NUMBER[channel]})
                pipe.zadd(own, {key: ms})
                pipe.pexpire(log, ttl)
                pipe.pexpire(own, ttl)
                loaded += 1
            pipe.set(self._seeded_key, "1")
            await pipe.execute()
        return loaded

    async def seeded(self) -> bool:
        """False when the Redis has lost its data (restart without persistence, flush)."""
        return bool(await self._client.exists(self._seeded_key))
