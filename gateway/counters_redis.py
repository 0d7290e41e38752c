"""Usage counters in Redis: several gateways count each customer's contact once.

The semantics are exactly those of ``InProcessCounter`` (one shared test suite runs
against both): an exact sliding log per customer and channel, a check of every cap that
applies and a record of the contact only if all of them allow it, idempotent on the
contact's key. Here that check-and-record is one Lua script, so it is atomic across
every gateway sharing the Redis.

* Keys are ``cg:{<customer>}:<channel>`` sorted sets (member = contact key, score =
  milliseconds since the epoch). The braces are a hash tag: all of one customer's keys
  live in one cluster slot, so the script may touch them together.
* The script reads the Redis server's clock (``TIME``) unless the caller passes an
  explicit instant, so gateways whose clocks disagree still agree on the count. Tests
  pass instants to keep time a parameter.
* redis-py's ``Script`` runs ``EVALSHA`` and reloads the script when the server answers
  ``NOSCRIPT`` (after a restart or ``SCRIPT FLUSH``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from rules.decision import Usage
from rules.models import Channel
from rules.policy_index import CompiledLimit

# Loaded entries expire unless a later contact resets the expiry to the customer's own
# longest period; longer than any cap a policy is likely to set.
_LOADED_TTL = timedelta(days=400)
_CHANNELS = tuple(Channel)
_INDEX = {channel: number for number, channel in enumerate(_CHANNELS, start=1)}
_MIN_KEEP = timedelta(days=1)

# KEYS: one sorted set per channel, in the order of _CHANNELS.
# ARGV: now_ms ('' = server clock), member, own key index, keep_ms,
#       then one triple per cap: key index (0 = any channel), max, period_ms.
# Returns {1 or 0, now_ms}: 1 = recorded (or recorded before), 0 = a cap is full.
CONSUME_LUA = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local member = ARGV[2]
local own = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[own], member) then
  return {1, now}
end
local keep = tonumber(ARGV[4])
local i = 5
while i <= #ARGV do
  local ch = tonumber(ARGV[i])
  local max = tonumber(ARGV[i + 1])
  local low = '(' .. tostring(now - tonumber(ARGV[i + 2]))
  local count = 0
  if ch == 0 then
    for k = 1, #KEYS do
      count = count + redis.call('ZCOUNT', KEYS[k], low, now)
    end
  else
    count = redis.call('ZCOUNT', KEYS[ch], low, now)
  end
  if count >= max then
    return {0, now}
  end
  i = i + 3
end
redis.call('ZADD', KEYS[own], now, member)
redis.call('ZREMRANGEBYSCORE', KEYS[own], '-inf', now - keep)
redis.call('PEXPIRE', KEYS[own], keep)
return {1, now}
"""


def customer_keys(customer_id: str, prefix: str = "cg") -> list[str]:
    """The customer's keys, one per channel, sharing the hash tag ``{customer}``."""
    return [f"{prefix}:{{{customer_id}}}:{channel.value}" for channel in _CHANNELS]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _span_ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _instant(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class RedisCounter:
    """The shared counter: one Redis for every gateway of a large council."""

    def __init__(self, client: Redis, *, server_clock: bool = True, prefix: str = "cg") -> None:
        self._client = client
        self._server_clock = server_clock
        self._prefix = prefix
        self._seeded_key = f"{prefix}:seeded"
        self._consume = client.register_script(CONSUME_LUA)

    async def usage(self, customer_id: str, now: datetime, horizon: timedelta) -> Usage:
        """Delivered contacts in ``(now - horizon, now]``.

        A contact stamped by the Redis clock slightly ahead of this gateway's clock is
        read as happening now, so it counts rather than vanishing into the future.
        """
        low = f"({_ms(now - horizon)}"
        async with self._client.pipeline(transaction=False) as pipe:
            for key in customer_keys(customer_id, self._prefix):
                pipe.zrangebyscore(key, low, "+inf", withscores=True)
            results = await pipe.execute()
        delivered: dict[Channel, list[datetime]] = {}
        for channel, members in zip(_CHANNELS, results, strict=True):
            if members:
                delivered[channel] = [min(_instant(score), now) for _, score in members]
        return Usage(delivered=delivered)

    async def consume(
        self,
        customer_id: str,
        contact_key: str,
        channel: Channel,
        now: datetime,
        limits: Sequence[CompiledLimit],
    ) -> bool:
        keep = max((c.period for c in limits), default=_MIN_KEEP)
        args: list[str | int] = [
            "" if self._server_clock else _ms(now),
            contact_key,
            _INDEX[channel],
            _span_ms(max(keep, _MIN_KEEP)),
        ]
        for compiled in limits:
            if compiled.channel not in (None, channel):
                continue
            index = 0 if compiled.channel is None else _INDEX[compiled.channel]
            args += [index, compiled.limit.max, _span_ms(compiled.period)]
        recorded, _ = await self._consume(keys=customer_keys(customer_id, self._prefix), args=args)
        return bool(recorded)

    async def load(self, entries: Iterable[tuple[str, str, datetime, str]]) -> int:
        """Seed from evidence records; marks the Redis as seeded for the watchdog."""
        loaded = 0
        async with self._client.pipeline(transaction=False) as pipe:
            for customer_id, channel, at, key in entries:
                name = customer_keys(customer_id, self._prefix)[_INDEX[Channel(channel)] - 1]
                pipe.zadd(name, {key: _ms(at)})
                pipe.pexpire(name, _span_ms(_LOADED_TTL))
                loaded += 1
            pipe.set(self._seeded_key, "1")
            await pipe.execute()
        return loaded

    async def seeded(self) -> bool:
        """False when the Redis has lost its data (restart without persistence, flush)."""
        return bool(await self._client.exists(self._seeded_key))
