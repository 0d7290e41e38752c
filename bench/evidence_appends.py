"""Evidence appends per second, durable, through the store's public ``record_contact``.

Two ways on one fresh database (SQLite file with the store's ``synchronous=FULL``, or
PostgreSQL with its default ``fsync``/``synchronous_commit``):

* ``concurrent``: C asyncio tasks (default 200, like the contacts a busy gateway has in
  flight) share N appends (default 20,000), each awaiting ``record_contact`` — so the
  store may commit many in one transaction (group commit); appends/s over the wall
  time, and p50/p99 of each call;
* ``sequential``: one caller, one append at a time (the baseline: a commit each);
* ``with_tree`` (``--tree-every S``): ``concurrent`` again, with as many appends, while
  the gateway's own upkeep task (``gateway.evidence.tree_upkeep``) extends the evidence
  Merkle tree every S seconds, as a running gateway does (every 5 s there; more often
  here, so that a run of a few seconds sees it work). ``concurrent`` is its baseline.
  The tree must cover every record at the end (``tree_size``).

Entries are real decisions for restricted customers (``bench/evidence_entries.py``):
emails with their message (2-20 KB, each different) as content, texts with their words,
held contact opening a held item. Nothing is acknowledged before it has committed, so
the figures are durable appends. The chain is verified at the end.

Prints one line of JSON. Run:
``python bench/evidence_appends.py --url sqlite+aiosqlite:///var/tmp/x.db [--count 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence_entries import Append, appends, templates
from sqlalchemy import text

from gateway.store import Store

TARGET_PER_S = 5_000


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 2),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


async def concurrent(store: Store, work: list[Append], callers: int) -> dict[str, Any]:
    latencies: list[float] = []
    created = 0
    position = 0

    async def caller() -> None:
        nonlocal created, position
        while position < len(work):
            item = work[position]
            position += 1
            started = time.perf_counter()
            result = await store.record_contact(item.entry, content=item.content, hold=item.hold)
            latencies.append(time.perf_counter() - started)
            created += result.created

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    seconds = time.perf_counter() - started
    return {
        "callers": callers,
        "appends": len(work),
        "created": created,
        "seconds": round(seconds, 3),
        "appends_per_s": round(len(work) / seconds),
        **percentiles(latencies),
    }


async def sequential(store: Store, work: list[Append]) -> dict[str, Any]:
    latencies = []
    started = time.perf_counter()
    for item in work:
        begun = time.perf_counter()
        await store.record_contact(item.entry, content=item.content, hold=item.hold)
        latencies.append(time.perf_counter() - begun)
    seconds = time.perf_counter() - started
    return {
        "callers": 1,
        "appends": len(work),
        "seconds": round(seconds, 3),
        "appends_per_s": round(len(work) / seconds),
        **percentiles(latencies),
    }


async def concurrent_with_tree(
    store: Store, work: list[Append], args: argparse.Namespace
) -> dict[str, Any]:
    """``concurrent`` while the tree upkeep runs every ``--tree-every`` seconds; then
    the tree is brought up to the records and must cover them all."""
    from gateway.common.background import running
    from gateway.evidence import tree_upkeep

    tree_upkeep.EXTEND_EVERY_S = args.tree_every
    before = await store.extend_tree()  # a running gateway's tree is up to date
    # As the gateway runs it (gateway.evidence.tree_upkeep): stopped between passes.
    async with running(tree_upkeep.extending(store), "evidence-tree"):
        measured = await concurrent(store, work, args.callers)
        during = await store.tree_size()
    started = time.perf_counter()
    size = await store.extend_tree()
    head = await store.evidence_head()
    return {
        **measured,
        "tree_every_s": args.tree_every,
        "tree_size_before": before,
        "tree_size_when_appends_ended": during,
        "tree_size": size,
        "tree_covers_every_record": size == head.seq,
        "catch_up_s": round(time.perf_counter() - started, 3),
    }


async def durability(store: Store) -> dict[str, str]:
    """The settings that make a commit durable, as the store's own connections have them."""
    async with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            level = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return {"synchronous": names.get(int(level), str(level)), "journal_mode": str(mode)}
        out = {}
        for name in ("fsync", "synchronous_commit", "wal_sync_method"):
            out[name] = str((await conn.execute(text(f"SHOW {name}"))).scalar_one())
        return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pool = templates()
    start = datetime.now(UTC) - timedelta(days=1)
    tree_count = args.count if args.tree_every else 0
    total = args.warmup + args.count + tree_count + args.sequential
    work = list(appends(pool, total, start, tag=f"append-{time.time_ns()}"))
    warm, rest = work[: args.warmup], work[args.warmup :]
    store = await Store.open(args.url, migrate=True)
    with_tree: dict[str, Any] | None = None
    try:
        await concurrent(store, warm, min(args.callers, max(1, len(warm))))
        many = await concurrent(store, rest[: args.count], args.callers)
        one = await sequential(store, rest[args.count : args.count + args.sequential])
        if tree_count:
            tree_work = rest[args.count + args.sequential :]
            with_tree = await concurrent_with_tree(store, tree_work, args)
        started = time.perf_counter()
        verified = await store.verify_evidence()
        verify_s = time.perf_counter() - started
        settings = await durability(store)
        dialect = store.dialect
    finally:
        await store.close()
    return {
        "bench": "evidence_appends",
        "database": dialect,
        "durability": settings,
        "mix": {
            "email_with_content": sum(1 for w in rest if w.entry.channel == "email"),
            "held": sum(1 for w in rest if w.hold is not None),
            "appends": len(rest),
        },
        "concurrent": many,
        "sequential": one,
        "with_tree": with_tree,
        "ratio_to_sequential": round(many["appends_per_s"] / one["appends_per_s"], 2),
        "chain_ok": verified.ok,
        "chain_records": verified.records_checked,
        "verify_s": round(verify_s, 2),
        "target_appends_per_s": TARGET_PER_S,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="an empty database (SQLAlchemy URL)")
    parser.add_argument("--count", type=int, default=20_000, help="concurrent appends")
    parser.add_argument("--callers", type=int, default=200, help="concurrent tasks")
    parser.add_argument("--sequential", type=int, default=500, help="one-at-a-time appends")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--tree-every", type=float, default=0, help="also measure with the tree kept up (s)"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
