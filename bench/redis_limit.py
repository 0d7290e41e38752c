"""Latency of the Redis limit check (``RedisCounter.consume``) next to Redis ``PING``.

One redis.asyncio client (as the gateway builds it: hiredis when installed), sequential
calls, so each figure is one round trip plus what the server does for it. The limit
check is the counter's one Lua script with the caps of a realistic restricted customer:
three compiled limits (3 emails a week, 1 call a day, 10 contacts of any kind in 30 days),
for customers whose sliding logs already hold a few recent contacts. The customers are
many, so the mix of answers (recorded, refused as over a cap) is what a gateway sees.

For where the time goes, also timed: a script that does nothing, called with the same
keys and arguments as the check (client-side cost of the call), and the server's own
time per call from ``INFO commandstats``.

PING and the check run in alternating blocks, so a busy moment on the machine falls on
both alike. Also timed: ``usage`` (the pipelined read of a customer's logs before
deciding). Every key is under ``--prefix`` and deleted at the end.

Prints one line of JSON: p50/p99 for each, and ``ratio_p50`` = p50(consume)/p50(PING);
target: at most 2. Run: ``python bench/redis_limit.py [--calls 10000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.utils import HIREDIS_AVAILABLE

from gateway.counters.redis_counter import RedisCounter, customer_keys
from rules.models import Channel, Limit
from rules.policy_index import CompiledLimit

TARGET_RATIO = 2.0
CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.VOICE)


NOOP_LUA = "return {1, 0}"
DAY_MS = 86_400_000
# What ``consume`` sends for an email: clock, member, own key, keep, then (key, max, period)
# for each cap on email or on any channel.
NOOP_ARGS = ["", "k-0", 1, 30 * DAY_MS, 1, 3, 7 * DAY_MS, 0, 10, 30 * DAY_MS]


def cap(channel: Channel | None, maximum: int, per: str) -> CompiledLimit:
    limit = Limit(channel=channel.value if channel else "any", max=maximum, per=per)
    return CompiledLimit(limit=limit, period=limit.period, channel=channel)


LIMITS = (cap(Channel.EMAIL, 3, "P7D"), cap(Channel.VOICE, 1, "P1D"), cap(None, 10, "P30D"))


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "calls": len(ordered),
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 4),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
        "mean_ms": round(1000 * sum(ordered) / len(ordered), 4),
    }


async def timed(call: Callable[[], Awaitable[Any]], samples: list[float], count: int) -> None:
    clock = time.perf_counter
    for _ in range(count):
        started = clock()
        await call()
        samples.append(clock() - started)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    client = Redis.from_url(args.url, socket_timeout=2, socket_connect_timeout=2)
    counter = RedisCounter(client, prefix=args.prefix)
    rng = random.Random(5)
    customers = [f"C-{n:05d}" for n in range(args.customers)]
    now = datetime.now(UTC)
    try:
        # Each customer's logs hold a few contacts from the last week, loaded as at start-up.
        history = [
            (c, rng.choice(CHANNELS).value, now - timedelta(hours=rng.uniform(1, 160)), f"h{k}")
            for c in customers
            for k in range(rng.randrange(0, 5))
        ]
        await counter.load(history)
        serial = 0

        async def consume() -> bool:
            nonlocal serial
            serial += 1
            customer = customers[serial % len(customers)]
            channel = CHANNELS[serial % 3]
            return await counter.consume(customer, f"k-{serial}", channel, now, LIMITS)

        async def usage() -> Any:
            customer = customers[serial % len(customers)]
            return await counter.usage(customer, now, timedelta(days=30))

        noop_script = client.register_script(NOOP_LUA)

        async def noop() -> Any:
            # The same keys and arguments as a check, to a script that does nothing.
            customer = customers[serial % len(customers)]
            keys = customer_keys(customer, args.prefix)
            return await noop_script(keys=keys, args=NOOP_ARGS)

        calls = {"ping": client.ping, "consume": consume, "noop_script": noop, "usage": usage}
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for call in calls.values():  # connect, load the scripts, warm every path
            await timed(call, [], 200)
        block = max(1, args.calls // args.blocks)
        recorded_before = serial
        stats_before = await client.info("commandstats")
        for _ in range(args.blocks):
            for name, call in calls.items():
                await timed(call, samples[name], block)
        stats_after = await client.info("commandstats")
        allowed = 0
        for n in range(200):  # the answers' mix, over a sample of fresh keys
            customer = customers[(recorded_before + n) % len(customers)]
            allowed += await counter.consume(customer, f"m-{n}", Channel.EMAIL, now, LIMITS)
        version = (await client.info("server")).get("redis_version", "?")
    finally:
        await _delete(client, args.prefix)
        await client.aclose()
    ping, check = summary(samples["ping"]), summary(samples["consume"])
    return {
        "bench": "redis_limit_check",
        "redis_version": version,
        "hiredis": HIREDIS_AVAILABLE,
        "limits": [f"{c.limit.max} {c.limit.channel} per {c.limit.per}" for c in LIMITS],
        "customers": args.customers,
        "ping": ping,
        "consume": check,
        "noop_script": summary(samples["noop_script"]),
        "usage": summary(samples["usage"]),
        "server_us_per_call": {
            name: _server_us(stats_before, stats_after, name) for name in ("ping", "evalsha")
        },
        "email_checks_allowed_of_200": allowed,
        "ratio_p50": round(check["p50_ms"] / ping["p50_ms"], 3),
        "ratio_p99": round(check["p99_ms"] / ping["p99_ms"], 3),
        "target_ratio_p50": TARGET_RATIO,
    }


def _server_us(before: dict[str, Any], after: dict[str, Any], command: str) -> float | None:
    """Microseconds Redis spent per call of ``command`` while the blocks ran (INFO
    commandstats; other clients of the same server are counted too)."""
    old, new = before.get(f"cmdstat_{command}", {}), after.get(f"cmdstat_{command}", {})
    calls = new.get("calls", 0) - old.get("calls", 0)
    if calls <= 0:
        return None
    return round((new.get("usec", 0) - old.get("usec", 0)) / calls, 2)


async def _delete(client: Redis, prefix: str) -> None:
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.unlink(key)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default=f"bench:redis-limit:{time.time_ns()}")
    parser.add_argument("--calls", type=int, default=10_000, help="of each kind")
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks")
    parser.add_argument("--customers", type=int, default=2_000)
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
