"""A fast check of the evidence chain, fit for millions of records.

``verify_chain`` (gateway.store.chain_db) is the reference: it reads every record
through SQLAlchemy and recomputes its canonical JSON with the standard library, about
20,000 records a second. A council's chain reaches millions of records, and an
ombudsman's expert should not wait minutes for a yes. This module checks the same
things faster, and only ever says yes:

* rows are read with the database's own driver (sqlite3, asyncpg), not through
  SQLAlchemy's result processing;
* the canonical JSON is produced by orjson (sorted keys, compact, UTF-8 — the same
  bytes ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
  gives). Where the two could differ (a float written differently), the record is
  checked again with the reference serialiser before anything is concluded;
* the chain is cut into contiguous ranges checked side by side in worker processes,
  then stitched: each range must begin with the hash the previous one ended with.

A range that finds anything wrong reports only that it did; the caller then runs the
reference check, which names the first bad record in plain words. So the fast path
decides nothing that the reference would decide differently.

Workers are plain ``python -m gateway.evidence_scan`` processes that read their range
(and the database's address, never on the command line) as JSON on stdin and print
their result as JSON. This module imports nothing heavy (no SQLAlchemy; asyncio only in
the functions that use it), so a SQLite worker starts in a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS_HASH = "0" * 64
COLUMNS = (
    "seq",
    "kind",
    "contact_key",
    "occurred_at",
    "recorded_at",
    "channel",
    "sender",
    "recipient",
    "customer_id",
    "restriction_id",
    "action",
    "deliver_to",
    "hold_reason",
    "exemption",
    "reasons",
    "counts",
    "counted",
    "content_sha256",
    "content_ref",
    "policy_version",
    "degraded",
    "details",
    "prev_hash",
    "hash",
)
_JSON = ("reasons", "counts", "details")
_INSTANTS = ("occurred_at", "recorded_at")
_FETCH = 5000
_SORT_KEYS = orjson.OPT_SORT_KEYS
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RangeResult:
    """What one contiguous range [first, last] of the chain was found to be."""

    first: int
    last: int
    ok: bool
    first_prev_hash: str = ""
    last_hash: str = ""


def _sqlite_instant(value: Any) -> str:
    # SQLAlchemy writes SQLite timestamps as fixed-width UTC text with microseconds.
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return _instant(datetime.fromisoformat(str(value)))


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Checker:
    """Checks the rows of one range in seq order."""

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.expected = first
        self.first_prev_hash = ""
        self.prev_hash = ""

    def next_is(self, seq: int, prev_hash: str) -> bool:
        """Does a record with this seq and prev_hash come next in the range?"""
        return seq == self.expected and (seq == self.first or prev_hash == self.prev_hash)

    def take(self, seq: int, prev_hash: str, stored_hash: str) -> None:
        """Move past a record that came next and matched its hash."""
        if seq == self.first:
            self.first_prev_hash = prev_hash
        self.prev_hash = stored_hash
        self.expected = seq + 1

    def feed(self, fields: dict[str, Any], stored_hash: str, raw: dict[str, Any]) -> bool:
        seq, prev_hash = fields["seq"], fields["prev_hash"]
        if not self.next_is(seq, prev_hash) or not _hash_matches(fields, stored_hash, raw):
            return False
        self.take(seq, prev_hash, stored_hash)
        return True

    def result(self, ok: bool) -> RangeResult:
        ok = ok and self.expected == self.last + 1
        return RangeResult(self.first, self.last, ok, self.first_prev_hash, self.prev_hash)


def _load_json(value: Any, loads: Any = orjson.loads) -> Any:
    if not isinstance(value, str | bytes):
        return value  # a driver that decodes JSON itself
    try:
        return loads(value)
    except ValueError:
        return json.loads(value)


def _hash_matches(fields: dict[str, Any], stored_hash: str, raw: dict[str, Any]) -> bool:
    try:
        fast = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        fast = b""
    if fast and hashlib.sha256(fast).hexdigest() == stored_hash:
        return True
    # orjson may read or write a value differently from the reference (1e-07, an
    # integer beyond 64 bits): ask the reference, from the stored JSON text, before
    # calling the record altered.
    from gateway.store.chain import chain_hash

    reference = {**fields, **{name: _load_json(text, json.loads) for name, text in raw.items()}}
    try:
        return chain_hash(reference) == stored_hash
    except (TypeError, ValueError):
        return False


def scan_sqlite(path: str, first: int, last: int) -> RangeResult:
    """Check records ``first``..``last`` of the SQLite file at ``path``.

    The loop is written out for speed (it runs a million times): a row whose values are
    not in the usual shape goes through ``_sqlite_row``, the plain version.
    """
    checker = _Checker(first, last)
    expected, prev = first, ""  # the checker's, kept in locals
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    loads, dumps, sha256, sort_keys = orjson.loads, orjson.dumps, hashlib.sha256, _SORT_KEYS
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM evidence "  # noqa: S608 - fixed column names
            "WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (first, last),
        )
        while rows := cursor.fetchmany(_FETCH):
            for row in rows:
                (seq, kind, key, occurred, recorded, channel, sender, recipient, customer,
                 restriction, action, deliver_to, hold_reason, exemption, reasons, counts,
                 counted, content_sha256, content_ref, policy_version, degraded, details,
                 prev_hash, stored_hash) = row  # fmt: skip
                # checker.next_is, written out
                if seq != expected or (seq != first and prev_hash != prev):
                    return checker.result(False)
                try:
                    if len(occurred) != 26 or len(recorded) != 26:
                        raise ValueError("not the usual timestamp text")
                    fields = {
                        "action": action,
                        "channel": channel,
                        "contact_key": key,
                        "content_ref": content_ref,
                        "content_sha256": content_sha256,
                        "counted": True if counted else False,  # noqa: SIM210 - no call
                        "counts": loads(counts),
                        "customer_id": customer,
                        "degraded": True if degraded else False,  # noqa: SIM210
                        "deliver_to": deliver_to,
                        "details": loads(details),
                        "exemption": exemption,
                        "hold_reason": hold_reason,
                        "kind": kind,
                        "occurred_at": f"{occurred[:10]}T{occurred[11:]}Z",
                        "policy_version": policy_version,
                        "prev_hash": prev_hash,
                        "reasons": loads(reasons),
                        "recipient": recipient,
                        "recorded_at": f"{recorded[:10]}T{recorded[11:]}Z",
                        "restriction_id": restriction,
                        "sender": sender,
                        "seq": seq,
                    }
                    # The JSON columns are parsed and written again, never hashed as they
                    # are stored: stored text in another form than the canonical one
                    # (spaces, key order), with a hash made to match it, would pass here
                    # and fail the reference, which hashes the values' canonical form.
                    ok = sha256(dumps(fields, option=sort_keys)).hexdigest() == stored_hash
                except (ValueError, TypeError):
                    ok = False
                if not ok and not _sqlite_row(row):
                    return checker.result(False)
                # checker.take, written out
                if seq == first:
                    checker.first_prev_hash = prev_hash
                prev, expected = stored_hash, seq + 1
    finally:
        conn.close()
    checker.expected, checker.prev_hash = expected, prev
    return checker.result(True)


def _sqlite_row(row: tuple[Any, ...]) -> bool:
    """The plain check of one SQLite row: does it match its stored hash?"""
    fields = dict(zip(COLUMNS, row, strict=True))
    stored_hash = fields.pop("hash")
    raw = {name: fields[name] for name in _JSON}
    try:
        for name in _JSON:
            fields[name] = _load_json(fields[name])
        for name in _INSTANTS:
            fields[name] = _sqlite_instant(fields[name])
    except (ValueError, TypeError):
        return False
    fields["counted"] = bool(fields["counted"])
    fields["degraded"] = bool(fields["degraded"])
    return _hash_matches(fields, stored_hash, raw)


def scan_postgres(dsn: str, first: int, last: int) -> RangeResult:
    """Check records ``first``..``last`` of the PostgreSQL database at ``dsn``."""
    import asyncio

    return asyncio.run(_scan_postgres(dsn, first, last))


async def _scan_postgres(dsn: str, first: int, last: int) -> RangeResult:
    import asyncpg

    checker = _Checker(first, last)
    conn = await asyncpg.connect(dsn)
    try:
        query = (
            f"SELECT {', '.join(COLUMNS)} FROM evidence "  # noqa: S608 - fixed column names
            "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        )
        after = first - 1
        while rows := await conn.fetch(query, after, last, _FETCH):
            for row in rows:
                fields = dict(row.items())
                stored_hash = fields.pop("hash")
                raw = {name: fields[name] for name in _JSON}
                try:
                    for name in _JSON:
                        fields[name] = _load_json(fields[name])
                except (ValueError, TypeError):
                    return checker.result(False)
                for name in _INSTANTS:
                    fields[name] = _instant(fields[name])
                if not checker.feed(fields, stored_hash, raw):
                    return checker.result(False)
            after = int(rows[-1]["seq"])
    finally:
        await conn.close()
    return checker.result(True)


def split(head_seq: int, parts: int) -> list[tuple[int, int]]:
    """Records 1..``head_seq`` as at most ``parts`` contiguous ranges of similar size."""
    parts = max(1, min(parts, head_seq))
    size, extra = divmod(head_seq, parts)
    ranges, start = [], 1
    for index in range(parts):
        end = start + size - 1 + (1 if index < extra else 0)
        ranges.append((start, end))
        start = end + 1
    return ranges


def stitched(results: list[RangeResult], head_hash: str) -> bool:
    """True when every range is intact, each follows on from the one before, and the
    last ends at the head's hash."""
    prev = GENESIS_HASH
    for result in sorted(results, key=lambda r: r.first):
        if not result.ok or result.first_prev_hash != prev:
            return False
        prev = result.last_hash
    return prev == head_hash


# Checks records first..last of the database at an address (a file, a DSN).
Scan = Callable[[str, int, int], RangeResult]
SCANS: dict[str, Scan] = {"sqlite": scan_sqlite, "postgresql": scan_postgres}


async def scan_in_process(kind: str, target: str, first: int, last: int) -> RangeResult:
    """Run one range's scan in a worker process of its own."""
    import asyncio

    request = json.dumps({"kind": kind, "target": target, "first": first, "last": last})
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.evidence_scan",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await worker.communicate(request.encode())
    if worker.returncode != 0:
        raise RuntimeError(
            f"the evidence scan of records {first} to {last} failed: "
            f"{err.decode(errors='replace').strip()}"
        )
    return RangeResult(**json.loads(out))


@dataclass(frozen=True, slots=True)
class Bounds:
    """The chain's head and what its rows span, read in one snapshot."""

    head_seq: int
    head_hash: str
    count: int
    low: int | None
    high: int | None

    @property
    def consistent(self) -> bool:
        """Rows 1..head, no more, no fewer (else only the reference can say what is wrong)."""
        return self.count == self.head_seq and self.low == 1 and self.high == self.head_seq


_BOUNDS_SQL = (
    "SELECT h.seq, h.hash, (SELECT count(*) FROM evidence),"
    " (SELECT min(seq) FROM evidence), (SELECT max(seq) FROM evidence)"
    " FROM evidence_head h WHERE h.id = 1"
)


def bounds_sqlite(path: str) -> Bounds | None:
    """The chain's bounds in the SQLite file at ``path`` (None: no head row)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(_BOUNDS_SQL).fetchone()
    finally:
        conn.close()
    return None if row is None else Bounds(*row)


async def bounds_postgres(dsn: str) -> Bounds | None:
    """The chain's bounds in the PostgreSQL database at ``dsn`` (None: no head row)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(_BOUNDS_SQL)
    finally:
        await conn.close()
    return None if row is None else Bounds(*row)


async def bounds(kind: str, target: str) -> Bounds | None:
    import asyncio

    if kind == "sqlite":
        return await asyncio.to_thread(bounds_sqlite, target)
    return await bounds_postgres(target)


def target_for_url(url: str) -> tuple[str, str] | None:
    """The scan's name for a database URL and its address (a DSN, or a file's path);
    None for a database the scan cannot open by itself, or a URL it does not read.

    Read with the standard library, not SQLAlchemy (a seventh of a second to import):
    only the plain forms the settings document are taken, ``sqlite[+driver]:///path``
    and ``postgresql[+driver]://...``. Anything else (quoting, query options, a SQLite
    URI) is left to the reference check, which opens the store as the service does.
    """
    scheme, sep, rest = url.partition("://")
    backend = scheme.partition("+")[0]
    if not sep:
        return None
    if backend == "postgresql":
        return "postgresql", f"postgresql://{rest}"
    # sqlite:///relative.db and sqlite:////absolute.db; sqlite:// is in memory.
    if backend != "sqlite" or not rest.startswith("/") or any(c in rest for c in "?%#"):
        return None
    path = rest[1:]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return "sqlite", path


# Below this a second process costs more to start than it saves.
MIN_PER_PROCESS = 100_000


async def verify(kind: str, target: str, *, processes: int = 1) -> Bounds | None:
    """The bounds of a chain found intact from record 1 to its head (or still empty),
    or None when the fast scan cannot say so (rows and head disagree, a bad record):
    then only the reference check can tell what is wrong.

    The head is read first and only records up to it are checked, so appends made
    meanwhile do not matter.
    """
    import asyncio

    found = await bounds(kind, target)
    if found is not None and found.head_seq == found.count == 0:
        return found if found.head_hash == GENESIS_HASH else None  # nothing recorded yet
    if found is None or not found.consistent:
        return None
    ranges = split(found.head_seq, min(processes, found.head_seq // MIN_PER_PROCESS))
    if len(ranges) == 1:
        results = [await asyncio.to_thread(SCANS[kind], target, *ranges[0])]
    else:
        results = list(
            await asyncio.gather(*(scan_in_process(kind, target, a, b) for a, b in ranges))
        )
    return found if stitched(results, found.head_hash) else None


async def confirm(url: str, *, processes: int = 1) -> Bounds | None:
    """:func:`verify` for the database at ``url``: the chain's bounds when it is intact,
    None when only the reference check can tell (including a fault here, which the
    reference will meet too, and name)."""
    target = target_for_url(url)
    if target is None:
        return None
    try:
        return await verify(*target, processes=processes)
    except Exception:
        log.info("the fast evidence scan failed; checking with the reference", exc_info=True)
        return None


def main() -> None:
    request = json.load(sys.stdin)
    scan = SCANS[request["kind"]]
    result = scan(request["target"], int(request["first"]), int(request["last"]))
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()
