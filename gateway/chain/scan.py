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
  gives for JSON's own types without a float), each JSON column's canonical form
  worked out once per distinct text (:class:`CanonicalTexts`, by the reference's own
  serialiser wherever orjson could write differently). Each shortcut is taken only
  where it reads a value exactly as the reference does; a row that is not in the
  usual shape is read again as stored and checked the plain way;
* each record's stored content is read with it (by the key the record names) and must
  still have the SHA-256 the record carries: SQLite hands over the bytes, hashed here;
  PostgreSQL hashes them itself (``sha256()``), so they never cross to this process;
* the chain is cut into contiguous ranges checked side by side in worker processes,
  handed out as workers come free, then stitched: each range must begin with the hash
  the previous one ended with.

A range that finds anything wrong reports only that it did; the caller then runs the
reference check, which names the first bad record in plain words. So the fast path
decides nothing that the reference would decide differently.

Workers are plain ``python -m gateway.chain.scan`` processes that read each range
(and the database's address, never on the command line) as a line of JSON on stdin and
answer each with a line of JSON. This module imports nothing heavy (no SQLAlchemy;
asyncio only in the functions that use it), so a SQLite worker starts in a few tens of
milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.chain import tree_scan
from gateway.chain.canonical_json import canonical_text, exact_json, only_plain
from gateway.chain.tree_scan import SHAPE_LEAVES_SQL, StoredShape, TreeCheck

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
_NOT_JSON = tuple(name for name in COLUMNS if name not in _JSON and name != "hash")
# Columns the migrations declare as text (String, Text and the id and hash types).
_TEXT_COLUMNS = (
    "kind", "contact_key", "channel", "sender", "recipient", "customer_id",
    "restriction_id", "action", "deliver_to", "hold_reason", "exemption",
    "content_sha256", "content_ref", "prev_hash", "hash",
)  # fmt: skip
_INSTANTS = ("occurred_at", "recorded_at")
# SQLite rows are taken a hundred or so at a time, so each is checked while its values are
# still in the processor's cache: 5,000 at a time made the scan about a tenth slower.
_SQLITE_ROWS = 128
# PostgreSQL pages are larger: each is a round trip to the server.
_POSTGRES_PAGE = 5000
# How SQLAlchemy writes an instant to SQLite (UTC wall-clock text with microseconds),
# for a real date and time with a four-digit year: text that the reference, reading it
# with datetime.fromisoformat, turns into "<date>T<time>Z" and nothing else. (It reads
# far more: week dates, commas, zones, any separator; those rows, 29 February among
# them, take the plain path.) Two of them, occurred_at and recorded_at, in one match.
_USUAL_INSTANT = (
    r"[1-9]\d{3}-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    r" (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}"
)
_TWO_USUAL_INSTANTS = re.compile(_USUAL_INSTANT * 2, re.ASCII)
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
    # The range's part of the Merkle tree (tree_scan.range_part), when it was asked for.
    tree: dict[str, Any] | None = None


def _sqlite_instant(value: Any) -> str:
    """A stored instant's canonical text, read as the reference reads it from SQLite
    (SQLAlchemy's DATETIME there is ``datetime.fromisoformat``): any other reading could
    take text the reference reads as another instant, or refuses, for a good one."""
    return _instant(datetime.fromisoformat(value))


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

    def feed(self, fields: dict[str, Any], stored_hash: str, texts: CanonicalTexts) -> bool:
        """Take the next record (``fields`` as for :func:`_matches`) if it is the one
        expected and matches its hash."""
        seq, prev_hash = fields["seq"], fields["prev_hash"]
        if not self.next_is(seq, prev_hash) or not _matches(fields, stored_hash, texts):
            return False
        self.take(seq, prev_hash, stored_hash)
        return True

    def result(self, ok: bool) -> RangeResult:
        ok = ok and self.expected == self.last + 1
        return RangeResult(self.first, self.last, ok, self.first_prev_hash, self.prev_hash)


def _load_json(value: Any) -> Any:
    """A JSON column's value as the reference reads it (``json.loads``, as SQLAlchemy's
    JSON type does; a driver that decodes JSON itself has already)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _reference_matches(fields: dict[str, Any], stored_hash: str) -> bool:
    """The reference's own verdict on one record: ``fields`` as the database gave them
    (JSON columns as stored, instants in their text form), hashed by ``chain_hash``."""
    from gateway.chain.links import chain_hash

    try:
        plain = {**fields, **{name: _load_json(fields[name]) for name in _JSON}}
        return chain_hash(plain) == stored_hash
    except (TypeError, ValueError):
        return False


class CanonicalTexts:
    """Stored JSON texts, each with its value's canonical JSON as the reference writes
    it, ready to splice into a record (``orjson.Fragment``).

    The reference parses a JSON column and hashes the value's canonical form, not the
    stored text, so text in any other form (spaces, key order, escapes) is rewritten
    here exactly as the reference would, never hashed as it stands: a hash made over
    such text calls the record broken, there and here. Values of JSON's own types with
    no float are parsed and written by orjson, which gives the same value and the same
    bytes as the standard library for them (``gateway.chain.canonical_json.exact_json``); any
    float, integer beyond 64 bits or text orjson refuses goes through the standard
    library, the reference's own serialiser.

    A council's chain repeats the same few thousand texts (the same reasons, the same
    notices, counts that differ by one), so each distinct text is parsed once: that is
    what makes the scan cheaper than parsing three columns a row. The memo is bounded
    (about 30 MB at most, for texts of a kilobyte), and starts again when full.
    """

    LIMIT = 20_000

    def __init__(self) -> None:
        self.known: dict[str, orjson.Fragment] = {}

    def fragment(self, text: Any) -> orjson.Fragment | None:
        """The canonical JSON of the value stored as ``text``; None when the reference
        could not write one (then only the reference can judge the record)."""
        known = self.known.get(text) if type(text) is str else None
        if known is not None:
            return known
        canonical = self._canonical(text)
        if canonical is None:
            return None
        if len(self.known) >= self.LIMIT:
            self.known.clear()
        self.known[text] = found = orjson.Fragment(canonical)
        return found

    @staticmethod
    def _canonical(text: Any) -> bytes | None:
        if type(text) is not str:
            return None  # a number or bytes where JSON text belongs: the reference's to judge
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if only_plain(value) and (written := exact_json(value)) is not None:
                return written
        try:
            return canonical_text(json.loads(text)).encode()
        except (ValueError, TypeError, UnicodeError):
            return None


_PLAIN_TOP = frozenset({str, int, bool, type(None)})


def _matches(fields: dict[str, Any], stored_hash: str, texts: CanonicalTexts) -> bool:
    """Does one record match its stored hash, as the reference computes it?

    ``fields`` are the hashed fields as stored: JSON columns as their text, instants
    already in their canonical text. The record is written by orjson with each JSON
    column's canonical form spliced in; anything orjson might write differently from the
    reference (a float, say, where a driver or an altered table gave one) and any
    mismatch are left to the reference itself.
    """
    spliced = dict(fields)
    for name in _JSON:
        fragment = texts.fragment(fields[name])
        if fragment is None:
            return _reference_matches(fields, stored_hash)
        spliced[name] = fragment
    if all(type(fields[name]) in _PLAIN_TOP for name in _NOT_JSON):
        try:
            if hashlib.sha256(orjson.dumps(spliced, option=_SORT_KEYS)).hexdigest() == stored_hash:
                return True
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
            pass
    return _reference_matches(fields, stored_hash)


# Declared types with SQLite's text affinity (https://sqlite.org/datatype3.html, 3.1):
# a number written to such a column is stored as text, so it is read back a string.
def _text_affinity(declared: str) -> bool:
    declared = declared.upper()
    return "INT" not in declared and any(word in declared for word in ("CHAR", "CLOB", "TEXT"))


def _sqlite_shape_is_usual(conn: sqlite3.Connection) -> bool:
    """Do the string columns still have text affinity, as the migrations made them?

    The quick loop below relies on it: only ``seq``, ``policy_version``, the instants,
    the flags and the JSON columns can then hold anything but text or null, and each of
    those is checked. A table rebuilt otherwise could hold a float where a name belongs,
    which orjson writes differently from the reference, so it goes to the reference."""
    declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(evidence)")}
    return all(_text_affinity(declared.get(name, "")) for name in _TEXT_COLUMNS)


def scan_sqlite(
    path: str,
    first: int,
    last: int,
    texts: CanonicalTexts | None = None,
    hashes: list[str] | None = None,
) -> RangeResult:
    """Check records ``first``..``last`` of the SQLite file at ``path``.

    The loop is written out for speed (it runs a million times). The record's canonical
    JSON is written by orjson from a dict built in sorted key order, with each JSON
    column's canonical form spliced in (:class:`CanonicalTexts`).

    The 21 other columns come as one JSON array built by SQLite: Python's sqlite3 lets
    go of the GIL and takes it back for every column it reads, which was a third of the
    scan. A JSON array gives back exactly the text, integers and nulls stored; only a
    float could come back changed (SQLite writes 15 digits), and every column that can
    hold one is checked for it (the others have text affinity, ``_sqlite_shape_is_usual``).
    A value JSON cannot hold (a blob) stops the scan, and the reference then judges. A
    row not in the usual shape is read again as it is stored and checked the plain way
    (``_sqlite_row``).

    ``hashes``: each record's chain hash is appended to it once checked (the Merkle
    tree's leaves are made from them).
    """
    checker = _Checker(first, last)
    keep = (hashes if hashes is not None else []).append
    expected, prev = first, ""  # the checker's, kept in locals
    texts = texts or CanonicalTexts()
    known, fragment = texts.known, texts.fragment
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    loads, dumps, sha256 = orjson.loads, orjson.dumps, hashlib.sha256
    usual_instants = _TWO_USUAL_INSTANTS.fullmatch
    r: orjson.Fragment | None
    c: orjson.Fragment | None
    d: orjson.Fragment | None
    try:
        if not _sqlite_shape_is_usual(conn):
            return checker.result(False)
        cursor = conn.execute(_SQLITE_SCAN, (first, last))
        while rows := cursor.fetchmany(_SQLITE_ROWS):
            for packed, reasons, counts, details, content in rows:
                (seq, kind, key, occurred, recorded, channel, sender, recipient, customer,
                 restriction, action, deliver_to, hold_reason, exemption, counted,
                 content_sha256, content_ref, policy_version, degraded, prev_hash,
                 stored_hash) = loads(packed)  # fmt: skip
                # checker.next_is, written out
                if seq != expected or (seq != first and prev_hash != prev):
                    return checker.result(False)
                # The stored content must be there and still hash to what the record says.
                if content_sha256 is not None and (
                    content is None or sha256(content).hexdigest() != content_sha256
                ):
                    return checker.result(False)
                try:
                    if type(seq) is not int or type(policy_version) is not int:
                        raise TypeError("not the usual numbers")
                    if len(occurred) != 26 or not usual_instants(occurred + recorded):
                        raise ValueError("not the usual timestamp text")
                    try:
                        r, c, d = known[reasons], known[counts], known[details]
                    except KeyError:
                        r, c, d = fragment(reasons), fragment(counts), fragment(details)
                        if r is None or c is None or d is None:
                            raise ValueError("JSON only the reference can read") from None
                    # Keys in sorted order, as the canonical form has them.
                    fields = {
                        "action": action,
                        "channel": channel,
                        "contact_key": key,
                        "content_ref": content_ref,
                        "content_sha256": content_sha256,
                        "counted": True if counted else False,  # noqa: SIM210 - no call
                        "counts": c,
                        "customer_id": customer,
                        "degraded": True if degraded else False,  # noqa: SIM210
                        "deliver_to": deliver_to,
                        "details": d,
                        "exemption": exemption,
                        "hold_reason": hold_reason,
                        "kind": kind,
                        "occurred_at": f"{occurred[:10]}T{occurred[11:]}Z",
                        "policy_version": policy_version,
                        "prev_hash": prev_hash,
                        "reasons": r,
                        "recipient": recipient,
                        "recorded_at": f"{recorded[:10]}T{recorded[11:]}Z",
                        "restriction_id": restriction,
                        "sender": sender,
                        "seq": seq,
                    }
                    ok = sha256(dumps(fields)).hexdigest() == stored_hash
                except (ValueError, TypeError):
                    ok = False
                if not ok and not _sqlite_row(conn, expected, texts):
                    return checker.result(False)
                # checker.take, written out
                if seq == first:
                    checker.first_prev_hash = prev_hash
                prev, expected = stored_hash, seq + 1
                keep(stored_hash)
    finally:
        conn.close()
    checker.expected, checker.prev_hash = expected, prev
    return checker.result(True)


_PACKED = tuple(name for name in COLUMNS if name not in _JSON)
# The record's stored content, as bytes (text written into the column by hand would
# otherwise come back as text), found by the key the record names; NULL when missing.
_SQLITE_CONTENT = (
    "(SELECT CAST(c.data AS BLOB) FROM contents c WHERE c.sha256 = evidence.content_sha256)"
)
_SQLITE_SCAN = (
    f"SELECT json_array({', '.join(_PACKED)}), {', '.join(_JSON)}, {_SQLITE_CONTENT} "  # noqa: S608
    "FROM evidence WHERE seq BETWEEN ? AND ? ORDER BY seq"
)
_SQLITE_ROW = f"SELECT {', '.join(COLUMNS)} FROM evidence WHERE seq = ?"  # noqa: S608


def _sqlite_row(conn: sqlite3.Connection, seq: int, texts: CanonicalTexts) -> bool:
    """The plain check of record ``seq``, read as it is stored: does it match its hash?"""
    row = conn.execute(_SQLITE_ROW, (seq,)).fetchone()
    if row is None:
        return False  # its seq is not stored as that integer
    fields = dict(zip(COLUMNS, row, strict=True))
    stored_hash = fields.pop("hash")
    try:
        for name in _INSTANTS:
            fields[name] = _sqlite_instant(fields[name])
    except (ValueError, TypeError):
        return False
    fields["counted"] = bool(fields["counted"])
    fields["degraded"] = bool(fields["degraded"])
    return _matches(fields, stored_hash, texts)


# The SHA-256 (hex) of the record's stored content, worked out by the server (NULL when
# the content is missing), so the bytes need not cross to this process.
_POSTGRES_CONTENT = (
    "(SELECT encode(sha256(c.data), 'hex') FROM contents c"
    " WHERE c.sha256 = evidence.content_sha256) AS content_digest"
)


def scan_postgres(
    dsn: str,
    first: int,
    last: int,
    texts: CanonicalTexts | None = None,
    hashes: list[str] | None = None,
) -> RangeResult:
    """Check records ``first``..``last`` of the PostgreSQL database at ``dsn`` (each
    checked record's chain hash appended to ``hashes``, as ``scan_sqlite`` does)."""
    import asyncio

    kept = hashes if hashes is not None else []
    return asyncio.run(_scan_postgres(dsn, first, last, texts or CanonicalTexts(), kept))


async def _scan_postgres(
    dsn: str, first: int, last: int, texts: CanonicalTexts, hashes: list[str]
) -> RangeResult:
    import asyncpg

    checker = _Checker(first, last)
    conn = await asyncpg.connect(dsn)
    try:
        query = (
            f"SELECT {', '.join(COLUMNS)}, {_POSTGRES_CONTENT} FROM evidence "  # noqa: S608
            "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        )
        after = first - 1
        while rows := await conn.fetch(query, after, last, _POSTGRES_PAGE):
            for row in rows:
                fields = dict(row.items())
                stored_hash = fields.pop("hash")
                content_digest = fields.pop("content_digest")
                if fields["content_sha256"] is not None and (
                    content_digest != fields["content_sha256"]
                ):
                    return checker.result(False)  # content missing or altered
                for name in _INSTANTS:
                    fields[name] = _instant(fields[name])
                if not checker.feed(fields, stored_hash, texts):
                    return checker.result(False)
                hashes.append(stored_hash)
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


# Checks records first..last of the database at an address (a file, a DSN), with the
# JSON texts already met in the worker's earlier ranges.
Scan = Callable[[str, int, int, CanonicalTexts, list[str]], RangeResult]
SCANS: dict[str, Scan] = {"sqlite": scan_sqlite, "postgresql": scan_postgres}


class Worker:
    """A worker process (``python -m gateway.chain.scan``) that checks the ranges
    sent to it one at a time: one JSON line in (the range and the database's address,
    never on the command line), one JSON line out."""

    def __init__(self, process: Any) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> Worker:
        import asyncio

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.chain.scan",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def scan(
        self, kind: str, target: str, first: int, last: int, tree: dict[str, Any] | None = None
    ) -> RangeResult:
        request = {
            "kind": kind,
            "target": target,
            "first": first,
            "last": last,
            "tree": tree or {"skip": True},
        }
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            await self.process.stdin.drain()
        except ConnectionError:  # it had already stopped (a broken pipe): see below
            answer = b""
        else:
            answer = await self.process.stdout.readline()
        if not answer:  # the worker stopped: it says why on stderr
            self.process.stdin.close()
            err = await self.process.stderr.read()
            await self.process.wait()
            raise RuntimeError(
                f"the evidence scan of records {first} to {last} failed: "
                f"{err.decode(errors='replace').strip()}"
            )
        return RangeResult(**json.loads(answer))

    async def close(self, *, stop: bool = False) -> None:
        """Let the worker end (no more ranges), or with ``stop`` end it now."""
        if self.process.returncode is None:
            if stop:
                self.process.kill()
            else:
                self.process.stdin.close()
        await self.process.wait()


# A long chain is cut into this many ranges per worker, handed out as workers come free:
# on a shared machine one core can run much slower than the other, and a worker that
# finishes early takes on more instead of waiting.
RANGES_PER_WORKER = 16


async def scan_in_workers(
    kind: str,
    target: str,
    ranges: list[tuple[int, int]],
    workers: int,
    tree: dict[str, Any] | None = None,
) -> list[RangeResult]:
    """Check ``ranges`` in ``workers`` worker processes, each taking the next range as
    it comes free; after a range that is not intact no more are started (the reference
    check will then run, and name the problem). ``tree``: what each range's part of
    the Merkle tree needs (``tree_request``)."""
    import asyncio

    pending = list(reversed(ranges))
    results: list[RangeResult] = []

    async def work() -> None:
        worker, finished = await Worker.start(), False
        try:
            while pending:
                result = await worker.scan(kind, target, *pending.pop(), tree or {})
                results.append(result)
                if not result.ok:
                    pending.clear()
            finished = True
        finally:
            await asyncio.shield(worker.close(stop=not finished))

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(work())
    return results


@dataclass(frozen=True, slots=True)
class Bounds:
    """The chain's head and what its rows span, read in one snapshot."""

    head_seq: int
    head_hash: str
    count: int
    low: int | None
    high: int | None
    # The stored Merkle tree as it stood in the same snapshot; and, once the chain is
    # found intact, the tree worked out again from the records (tree_scan.combine).
    shape: StoredShape = field(default_factory=StoredShape)
    tree: TreeCheck | None = None

    @property
    def consistent(self) -> bool:
        """Rows 1..head, no more, no fewer (else only the reference can say what is wrong)."""
        return self.count == self.head_seq and self.low == 1 and self.high == self.head_seq


_BOUNDS_SQL = (
    "SELECT h.seq, h.hash, (SELECT count(*) FROM evidence),"
    " (SELECT min(seq) FROM evidence), (SELECT max(seq) FROM evidence)"
    " FROM evidence_head h WHERE h.id = 1"
)


# With the stored tree's size, where there is a tree table (a database migrated before
# it came has none, and is read as having an empty tree).
_BOUNDS_WITH_TREE_SQL = _BOUNDS_SQL.replace(
    " FROM evidence_head", f", {SHAPE_LEAVES_SQL} FROM evidence_head"
)


def bounds_sqlite(path: str) -> Bounds | None:
    """The chain's bounds in the SQLite file at ``path`` (None: no head row), and the
    stored tree's shape, all in one snapshot."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # one snapshot (WAL) for every read below
        has_tree = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evidence_tree'"
        ).fetchone()
        row = conn.execute(_BOUNDS_WITH_TREE_SQL if has_tree else _BOUNDS_SQL).fetchone()
        if row is None:
            return None
        shape = tree_scan.shape_sqlite(conn, row[5]) if has_tree else StoredShape()
    finally:
        conn.close()
    return Bounds(row[0], row[1], row[2], row[3], row[4], shape=shape)


async def bounds_postgres(dsn: str) -> Bounds | None:
    """:func:`bounds_sqlite` for the PostgreSQL database at ``dsn``."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            has_tree = await conn.fetchval("SELECT to_regclass('evidence_tree') IS NOT NULL")
            row = await conn.fetchrow(_BOUNDS_WITH_TREE_SQL if has_tree else _BOUNDS_SQL)
            if row is None:
                return None
            shape = await tree_scan.shape_postgres(conn, row[5]) if has_tree else StoredShape()
    finally:
        await conn.close()
    return Bounds(row[0], row[1], row[2], row[3], row[4], shape=shape)


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


async def verify(
    kind: str, target: str, *, processes: int = 1, sizes: Iterable[int] = (), tree: bool = True
) -> Bounds | None:
    """The bounds of a chain found intact from record 1 to its head (or still empty),
    with the Merkle tree worked out again from its records (``tree``: the root, the
    roots at ``sizes``, and what is wrong with the stored tree, if anything); or None
    when the fast scan cannot say the chain is intact (rows and head disagree, a bad
    record): then only the reference check can tell what is wrong.

    The head is read first and only records up to it are checked, so appends made
    meanwhile do not matter. ``tree=False``: the chain alone (``tree`` left None), as
    the store's own check asks, which has no use for the tree.
    """
    import asyncio

    found = await bounds(kind, target)
    if found is not None and found.head_seq == found.count == 0:
        if found.head_hash != GENESIS_HASH:
            return None
        if not tree:
            return found
        parts: list[tuple[int, dict[str, Any]]] = []  # nothing recorded yet
        return replace(found, tree=tree_scan.combine(kind, target, parts, found.shape, sizes))
    if found is None or not found.consistent:
        return None
    wanted = sorted({s for s in sizes if 0 <= s <= found.head_seq})
    request = {"stored": found.shape.leaves, "cuts": wanted, "skip": not tree}
    workers = max(1, min(processes, found.head_seq // MIN_PER_PROCESS))
    if workers == 1:
        results = [await asyncio.to_thread(_scan_range, kind, target, 1, found.head_seq, request)]
    else:
        ranges = split(found.head_seq, workers * RANGES_PER_WORKER)
        results = await scan_in_workers(kind, target, ranges, workers, request)
    if not stitched(results, found.head_hash):
        return None
    if not tree:
        return found
    parts = [(r.first, r.tree) for r in results if r.tree is not None]
    check = await asyncio.to_thread(tree_scan.combine, kind, target, parts, found.shape, sizes)
    return replace(found, tree=check)


def _scan_range(
    kind: str,
    target: str,
    first: int,
    last: int,
    tree: dict[str, Any],
    texts: CanonicalTexts | None = None,
) -> RangeResult:
    """Check one range and, when it is intact, work out its part of the tree."""
    hashes: list[str] = []
    result = SCANS[kind](target, first, last, texts or CanonicalTexts(), hashes)
    if not result.ok or tree.get("skip"):
        return result
    part = tree_scan.range_part(
        kind, target, first, hashes, int(tree.get("stored", 0)), tree.get("cuts", ())
    )
    return replace(result, tree=part)


async def confirm(
    url: str, *, processes: int = 1, sizes: Iterable[int] = (), tree: bool = True
) -> Bounds | None:
    """:func:`verify` for the database at ``url``: the chain's bounds (and tree) when it
    is intact, None when only the reference check can tell (including a fault here,
    which the reference will meet too, and name)."""
    target = target_for_url(url)
    if target is None:
        return None
    try:
        return await verify(*target, processes=processes, sizes=sizes, tree=tree)
    except Exception:
        log.info("the fast evidence scan failed; checking with the reference", exc_info=True)
        return None


def main() -> None:
    """A worker: check each range asked for on stdin, answering each on stdout."""
    texts = CanonicalTexts()  # kept from range to range: the same texts come again
    for line in sys.stdin:
        request = json.loads(line)
        first, last = int(request["first"]), int(request["last"])
        tree = request.get("tree") or {}
        result = _scan_range(request["kind"], request["target"], first, last, tree, texts)
        sys.stdout.write(json.dumps(asdict(result)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
