"""Seconds for ``contact-gateway evidence verify`` over a chain of N records (SQLite).

The chain is generated quickly but faithfully: the schema is made by the store's own
migrations (``Store.open``), every record is sealed by the store's own sealing function
(``gateway.store.evidence_db.seal``) from realistic entries (``bench/evidence_entries.py``:
real decisions, with reasons, counts and details; emails with their message of 2-20 KB
as content, texts with their words, as ``bench/evidence_appends.py`` stores them), and
the rows, the content and the head are written with SQLAlchemy Core from the store's
table definitions, in one transaction. Verifying reads every record's content and
checks it against the SHA-256 the record carries, so the content is stored (about a
third of the records are emails: some 3.7 GB for a million records); ``--no-content``
makes the same chain with no content at all (no record carries a digest), for the
cost of the chain alone. Generating is not what is measured, so that one transaction
runs with ``synchronous=OFF``.

The file is cached in ``--cache-dir`` under a name keyed by N (and ``--no-content``),
so repeating the timing (``--repeats``; a timing over 20 s is not repeated) or running
again with the same directory skips the generation.

Timed: the command as an administrator runs it (a new process, wall clock), and, as its
baseline in the same run, the same command on an empty chain (start-up and schema check
alone). Prints one line of JSON; target: a million records in under 5 s.

Run: ``python bench/evidence_verify.py [--records 1000000] [--cache-dir DIR] [--no-content]``.
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
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence_entries import clone, content_of, templates
from sqlalchemy import create_engine, insert, update

from gateway.chain.links import stored_json
from gateway.store import GENESIS_HASH, ChainHead, Store
from gateway.store.evidence_db import content_ref, seal
from gateway.store.schema import contents, evidence, evidence_head

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


def generate(path: Path, records: int, *, with_content: bool = True) -> float:
    """Write a verified-good chain of ``records`` to a new SQLite file; seconds taken.

    Sealing (here) and inserting (a second process, fed through a queue) overlap.
    """
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(migrate(path))
    pool = templates()
    stored: set[str] = set()  # each content once, under its SHA-256, as the store keeps it
    first = datetime.now(UTC) - timedelta(days=365)
    head = ChainHead(seq=0, hash=GENESIS_HASH)
    context = multiprocessing.get_context("spawn")
    chunks: Any = context.Queue(maxsize=4)
    writer = context.Process(target=write_rows, args=(str(path), chunks), daemon=True)
    writer.start()
    try:
        for start in range(0, records, CHUNK):
            rows, content_rows = [], []
            for n in range(start, min(records, start + CHUNK)):
                at = first + timedelta(seconds=30 * n)
                template = pool[n % len(pool)]
                key = f"<chain-{n}@customers.example>"
                entry = clone(template.entry, contact_key=key, occurred_at=at)
                content = content_of(template, entry, key, n) if with_content else None
                if content is not None:
                    digest = hashlib.sha256(content).hexdigest()
                    entry = clone(entry, content_sha256=digest, content_ref=content_ref(digest))
                    if digest not in stored:
                        stored.add(digest)
                        row = {"sha256": digest, "size": len(content), "data": content}
                        content_rows.append({**row, "created_at": at})
                record = seal(entry, head, at + timedelta(milliseconds=40))
                head = ChainHead(seq=record.seq, hash=record.hash)
                rows.append({**record.hashed_fields(), "hash": record.hash})
            _put(chunks, (rows, content_rows), writer)
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
                    rows, content_rows = item
                    if content_rows:
                        conn.execute(insert(contents), content_rows)
                    conn.execute(insert(evidence), rows)
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
    name = f"chain-{args.records}-{'no-content' if args.no_content else 'content'}"
    path = folder / f"{name}.db"
    done_marker = folder / f"{name}.complete"
    cached = path.exists() and done_marker.exists()
    generation_s = None
    if not cached:
        done_marker.unlink(missing_ok=True)
        print(f"generating a chain of {args.records:,} records in {path}", file=sys.stderr)
        generation_s = round(generate(path, args.records, with_content=not args.no_content), 1)
        done_marker.touch()
    stored = _content_stored(path)
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
        "content_checked": not args.no_content,
        "records_with_content": stored["records_with_content"],
        "content_rows": stored["content_rows"],
        "content_mb": stored["content_mb"],
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "generation_s": generation_s,
        "generation_cached": cached,
        "target_s_per_million": TARGET_S_PER_MILLION,
    }


def _content_stored(path: Path) -> dict[str, Any]:
    """How much content the chain's records carry (what the verify has to hash)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with_content = conn.execute(
            "SELECT count(*) FROM evidence WHERE content_sha256 IS NOT NULL"
        ).fetchone()[0]
        totals = "SELECT count(*), coalesce(sum(size), 0) FROM contents"
        rows, size = conn.execute(totals).fetchone()
    finally:
        conn.close()
    return {
        "records_with_content": with_content,
        "content_rows": rows,
        "content_mb": round(size / 2**20, 1),
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=MILLION)
    parser.add_argument("--repeats", type=int, default=2, help="timings of the same file")
    parser.add_argument("--cache-dir", help="where chain-N-*.db is kept (default: a new dir)")
    parser.add_argument(
        "--no-content",
        action="store_true",
        help="a chain whose records carry no content (the chain's own cost, for comparison)",
    )
    print(json.dumps(main(parser.parse_args())), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
