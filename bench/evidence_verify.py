"""Seconds for ``contact-gateway evidence verify`` over a chain of N records (SQLite).

The chain is generated quickly but faithfully: the schema is made by the store's own
migrations (``Store.open``), every record is sealed by the store's own sealing function
(``gateway.store.evidence_db.seal``) from realistic entries (``bench/evidence_entries.py``:
real decisions, with reasons, counts and details; emails and texts with a content
digest, though the content itself is not stored, as verifying never reads it), and
the rows and the head are written with SQLAlchemy Core from the store's table
definitions, in one transaction. Generating is not what is measured, so that one
transaction runs with ``synchronous=OFF``.

The file is cached in ``--cache-dir`` under a name keyed by N, so repeating the timing
(``--repeats``; a timing over 20 s is not repeated) or running again with the same
directory skips the generation.

Timed: the command as an administrator runs it (a new process, wall clock), and, as its
baseline in the same run, the same command on an empty chain (start-up and schema check
alone). Prints one line of JSON; target: a million records in under 5 s.

Run: ``python bench/evidence_verify.py [--records 1000000] [--cache-dir DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import queue
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence_entries import clone, templates
from sqlalchemy import create_engine, insert, update

from gateway.store import GENESIS_HASH, ChainHead, Store
from gateway.store.chain import stored_json
from gateway.store.evidence_db import content_ref, seal
from gateway.store.schema import evidence, evidence_head

EXE = str(Path(sys.executable).parent / "contact-gateway")
TARGET_S_PER_MILLION = 5.0
MILLION = 1_000_000
CHUNK = 10_000
REPEAT_UNDER_S = 20.0


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def migrate(path: Path) -> None:
    store = await Store.open(sqlite_url(path), migrate=True)
    await store.close()


def generate(path: Path, records: int) -> float:
    """Write a verified-good chain of ``records`` to a new SQLite file; seconds taken.

    Sealing (here) and inserting (a second process, fed through a queue) overlap.
    """
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(migrate(path))
    pool = [t.entry for t in templates()]
    digests = [hashlib.sha256(f"content {n}".encode()).hexdigest() for n in range(997)]
    first = datetime.now(UTC) - timedelta(days=365)
    head = ChainHead(seq=0, hash=GENESIS_HASH)
    context = multiprocessing.get_context("spawn")
    chunks: Any = context.Queue(maxsize=4)
    writer = context.Process(target=write_rows, args=(str(path), chunks), daemon=True)
    writer.start()
    try:
        for start in range(0, records, CHUNK):
            rows = []
            for n in range(start, min(records, start + CHUNK)):
                at = first + timedelta(seconds=30 * n)
                template = pool[n % len(pool)]
                more = {}
                if template.channel in ("email", "sms"):
                    digest = digests[n % len(digests)]
                    more = {"content_sha256": digest, "content_ref": content_ref(digest)}
                key = f"<chain-{n}@customers.example>"
                entry = clone(template, contact_key=key, occurred_at=at, **more)
                record = seal(entry, head, at + timedelta(milliseconds=40))
                head = ChainHead(seq=record.seq, hash=record.hash)
                rows.append({**record.hashed_fields(), "hash": record.hash})
            _put(chunks, rows, writer)
            if (start + CHUNK) % (10 * CHUNK) == 0:
                print(f"  sealed {start + len(rows):,} records", file=sys.stderr)
        _put(chunks, head, writer)
        _put(chunks, None, writer)
        writer.join()
    finally:
        if writer.is_alive():
            writer.kill()
            writer.join()
    if writer.exitcode != 0:
        raise RuntimeError(f"the process writing the chain failed (exit {writer.exitcode})")
    return time.perf_counter() - started


def _put(chunks: Any, item: Any, writer: Any) -> None:
    while True:
        try:
            chunks.put(item, timeout=1)
            return
        except queue.Full:
            if not writer.is_alive():
                raise RuntimeError("the process writing the chain stopped") from None


def write_rows(path: str, chunks: Any) -> None:
    """Insert the rows as they come, then the head, in one transaction (second process)."""
    engine = create_engine(f"sqlite:///{path}", json_serializer=stored_json)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            # A million random-order keys in the unique index: keep its pages in memory.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            while (item := chunks.get()) is not None:
                if isinstance(item, ChainHead):
                    query = update(evidence_head).where(evidence_head.c.id == 1)
                    conn.execute(query.values(seq=item.seq, hash=item.hash))
                else:
                    conn.execute(insert(evidence), item)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


def verify(path: Path) -> tuple[float, str]:
    """Run ``contact-gateway evidence verify`` on ``path``: wall seconds and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = sqlite_url(path)
    started = time.perf_counter()
    done = subprocess.run(
        [EXE, "evidence", "verify"], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"evidence verify failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, done.stdout.strip()


def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.cache_dir:
        folder = Path(args.cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return measure(args, folder)
    with tempfile.TemporaryDirectory(prefix="bench-chain-", dir="/var/tmp") as tmp:
        return measure(args, Path(tmp))


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    path = folder / f"chain-{args.records}.db"
    done_marker = folder / f"chain-{args.records}.complete"
    cached = path.exists() and done_marker.exists()
    generation_s = None
    if not cached:
        done_marker.unlink(missing_ok=True)
        print(f"generating a chain of {args.records:,} records in {path}", file=sys.stderr)
        generation_s = round(generate(path, args.records), 1)
        done_marker.touch()
    empty = folder / "empty.db"
    if not empty.exists():
        asyncio.run(migrate(empty))
    baseline_s, _ = verify(empty)
    timings = []
    output = ""
    for _ in range(args.repeats):
        seconds, output = verify(path)
        timings.append(round(seconds, 2))
        if seconds > REPEAT_UNDER_S:
            break  # slow enough that one more timing would only cost time
    found = re.search(r"verified: (\d+) records", output)
    checked = int(found.group(1)) if found else None
    best = min(timings)
    # At another length: the command's start-up (timed on the empty chain) plus the
    # per-record time scaled to a million records.
    per_million = best
    if args.records != MILLION:
        per_million = baseline_s + (best - baseline_s) * MILLION / args.records
    return {
        "bench": "evidence_verify",
        "database": "sqlite",
        "records": args.records,
        "records_checked": checked,
        "output": output,
        "seconds": best,
        "seconds_by_repeat": timings,
        "records_per_s": round(args.records / best),
        "seconds_per_million": round(per_million, 2),
        "baseline_empty_chain_s": round(baseline_s, 2),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "generation_s": generation_s,
        "generation_cached": cached,
        "target_s_per_million": TARGET_S_PER_MILLION,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=MILLION)
    parser.add_argument("--repeats", type=int, default=2, help="timings of the same file")
    parser.add_argument("--cache-dir", help="where chain-N.db is kept (default: a new dir)")
    print(json.dumps(main(parser.parse_args())), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
