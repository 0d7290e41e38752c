"""Hash chains: the canonical form of a record, its hash, and the check of a whole chain.

A chain record's hash is SHA-256 (hex) over the UTF-8 bytes of its canonical JSON: every
hashed field, including ``seq`` and ``prev_hash``, serialised with
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, timestamps as
ISO 8601 UTC with microseconds (``2026-11-03T10:15:00.000000Z``). The first record's
``prev_hash`` is 64 zeros. This is deliberately easy to reproduce with any JSON library,
so an ombudsman's expert can check an export without our code.

Because each hash covers the previous one, changing, removing or reordering any record
breaks every link after it; the one-row head table (last seq and hash, written in the
same transaction as each record) also exposes a truncated tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from gateway.chain.canonical_json import canonical_text, only_plain

GENESIS_HASH = "0" * 64
HASH_ALGORITHM = (
    "hash = lowercase hex SHA-256 of the UTF-8 bytes of the record's canonical JSON: an "
    "object holding every hashed field (including seq and prev_hash, excluding hash), "
    'serialised as json.dumps(fields, sort_keys=True, separators=(",", ":"), '
    "ensure_ascii=False); timestamps are ISO 8601 UTC strings with six fractional digits "
    "and a Z suffix (e.g. 2026-11-03T10:15:00.000000Z), dates are YYYY-MM-DD, absent "
    "values are null. The first record's prev_hash is 64 zeros; every later record's "
    "prev_hash is the hash of the record with the previous seq."
)


def format_instant(value: datetime) -> str:
    """The one text form of an instant inside a hash: UTC, microseconds, ``Z``."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be hashed")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(fields: Mapping[str, Any]) -> str:
    """Serialise hashed fields exactly one way, so a hash can be recomputed anywhere."""
    return canonical_text({key: _plain(value) for key, value in fields.items()})


class JSONText(str):
    """JSON already written in canonical form, to be stored as it is (``stored_json``)."""

    __slots__ = ()


def stored_json(value: Any) -> str:
    """How JSON columns are written: the canonical form, as the value appears inside a
    record's canonical JSON, so the stored text is the text that was hashed. Reading is
    unaffected (any JSON reads the same); checks still parse it, since text in another
    form could be given a hash of its own. Text the sealing has already written
    (``JSONText``) is stored as it is, not written twice."""
    if type(value) is JSONText:
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_safe_noting_floats(value: Any) -> tuple[Any, bool]:
    """``json_safe(value)``, and whether it holds a float anywhere (see ``exact_json``).

    Values of JSON's own types without a float (nearly all evidence) take orjson's round
    trip, the same result several times sooner (orjson refuses integers beyond 64 bits:
    then the standard library's, as for anything else)."""
    if only_plain(value):
        try:
            return orjson.loads(orjson.dumps(value)), False
        except TypeError:
            pass  # an integer beyond 64 bits
    floats = False

    def parse_float(text: str) -> float:
        nonlocal floats
        floats = True
        return float(text)

    dumped = json.dumps(value, allow_nan=False, ensure_ascii=False)
    return json.loads(dumped, parse_float=parse_float), floats


def chain_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``fields`` (which must include seq, prev_hash)."""
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def json_safe(value: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what the database gives back.

    Tuples become lists and non-string keys become strings here, once, rather than
    silently in the JSON column, where they would change the hash on the way out.
    """
    return json_safe_noting_floats(value)[0]


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last record of a chain as the head row remembers it (seq 0: empty chain)."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking a chain from its first record to its head.

    ``first_bad_seq`` names the first bad record; it is None when the chain is intact,
    and also when nothing but the head row is wrong (it is missing: no record to name).
    ``head_seq`` is 0 when there is no head row.
    """

    ok: bool
    records_checked: int
    head_seq: int
    first_bad_seq: int | None
    problem: str

    def describe(self) -> str:
        """One sentence for a person: what was checked and what, if anything, is wrong."""
        if self.ok:
            return (
                f"The chain is intact: {self.records_checked} records checked, "
                f"up to record {self.head_seq}."
            )
        return f"The chain is broken: {self.problem}"


def _span(first: int, last: int) -> str:
    return f"record {first} is" if first == last else f"records {first} to {last} are"


class ChainChecker:
    """Checks records fed in seq order and remembers the first problem.

    Streaming: it holds one record's worth of state, so a chain of any length can be
    checked in batches without loading it.
    """

    def __init__(self, noun: str = "record") -> None:
        self.noun = noun
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.checked = 0
        self.first_bad_seq: int | None = None
        self.problem = ""

    @property
    def failed(self) -> bool:
        return self.first_bad_seq is not None

    def _fail(self, seq: int, problem: str) -> bool:
        self.first_bad_seq = seq
        self.problem = problem
        return False

    def feed(self, fields: Mapping[str, Any], stored_hash: str) -> bool:
        """Check one record (``fields`` are its hashed fields); False once a problem is found."""
        if self.failed:
            return False
        seq = int(fields["seq"])
        if seq != self.expected_seq:
            return self._missing_before(seq)
        if fields["prev_hash"] != self.prev_hash:
            if seq == 1:
                detail = "record 1 should start the chain (prev_hash of 64 zeros) but does not"
            else:
                detail = (
                    f"record {seq} does not follow on from record {seq - 1}: its prev_hash "
                    f"is not record {seq - 1}'s hash, so records were swapped, replaced or "
                    f"removed, or record {seq - 1} was altered and re-hashed"
                )
            return self._fail(seq, detail + ".")
        if chain_hash(fields) != stored_hash:
            return self._fail(
                seq,
                f"record {seq} has been altered: its contents no longer match its stored hash.",
            )
        self.checked += 1
        self.expected_seq = seq + 1
        self.prev_hash = stored_hash
        return True

    def unreadable(self, seq: int, error: Exception) -> bool:
        """Record ``seq`` is there but a value in it cannot be read back (text where an
        instant belongs that is no instant, say): nothing the service writes, so it was
        altered."""
        if self.failed:
            return False
        if seq != self.expected_seq:
            return self._missing_before(seq)
        return self._fail(
            seq, f"record {seq} has been altered: a value in it cannot be read back ({error})."
        )

    def _missing_before(self, seq: int) -> bool:
        expected = self.expected_seq
        where = (
            f"the chain starts at record {seq}"
            if expected == 1
            else f"the chain jumps from record {expected - 1} to record {seq}"
        )
        return self._fail(
            expected, f"{_span(expected, seq - 1)} missing: {where}, so records were deleted."
        )

    def finish(self, head: ChainHead | None, table: str) -> VerifyResult:
        """Compare the end of the chain with the head row, which catches a cut-off tail.

        ``head`` None: the head row is gone. The records are still checked (a problem
        among them is named first), but the end of the chain cannot be confirmed, so the
        chain is broken with no record to name (``first_bad_seq`` None)."""
        last = self.expected_seq - 1
        if head is None:
            if not self.failed:
                self.problem = (
                    f"{table} has no row, so nothing remembers how many records were written: "
                    f"it was deleted. The {last} records there check out, but records cut "
                    "from the end could not be noticed."
                )
            return VerifyResult(
                ok=False,
                records_checked=self.checked,
                head_seq=0,
                first_bad_seq=self.first_bad_seq,
                problem=self.problem,
            )
        if not self.failed:
            if last < head.seq:
                where = f"stops at record {last}" if last else "is empty"
                self._fail(
                    last + 1,
                    f"{_span(last + 1, head.seq)} missing from the end: {table} says "
                    f"{head.seq} records were written but the chain {where}.",
                )
            elif last > head.seq:
                self._fail(
                    head.seq + 1,
                    f"{_span(head.seq + 1, last)} beyond the last record {table} knows "
                    f"of ({head.seq}): the head was rolled back or records were added.",
                )
            elif not last and head.hash != GENESIS_HASH:
                self._fail(
                    1,
                    f"{table} says no records were written but does not hold the chain's "
                    "starting hash: it was altered, or records before it were removed.",
                )
            elif last and self.prev_hash != head.hash:
                self._fail(
                    last,
                    f"record {last} is not the record {table} remembers: its hash differs "
                    "from the head's, so the last record was replaced.",
                )
        return VerifyResult(
            ok=not self.failed,
            records_checked=self.checked,
            head_seq=head.seq,
            first_bad_seq=self.first_bad_seq,
            problem=self.problem,
        )
