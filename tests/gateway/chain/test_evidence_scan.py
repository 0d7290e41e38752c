"""The fast evidence check (``gateway.chain.scan``): it must say "intact" exactly when
the reference check does, in one process or several, on SQLite and PostgreSQL.

Whenever it is not sure, the store falls back to the reference, so every tampering
case must still be named precisely; that is asserted here with the ranges split across
worker processes, the path a long chain takes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from gateway.chain import scan as evidence_scan
from gateway.chain.links import stored_json
from gateway.chain.verify_fast import verify_fast
from gateway.config.database_url import sqlite_file
from gateway.store import Store
from gateway.store.schema import evidence, evidence_head
from tests.conftest import sqlite_url
from tests.gateway.store_factory import independent_hash, make_entry, raw, record_many


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let even a short chain be cut into ranges checked by worker processes."""
    monkeypatch.setattr(evidence_scan, "MIN_PER_PROCESS", 1)


def test_split_covers_every_record_once() -> None:
    for head, parts in [(1, 4), (10, 3), (1_000_001, 2), (7, 7)]:
        ranges = evidence_scan.split(head, parts)
        seqs = [seq for first, last in ranges for seq in range(first, last + 1)]
        assert seqs == list(range(1, head + 1))
        assert len(ranges) == min(parts, head)


@pytest.mark.parametrize("processes", [1, 3])
async def test_an_intact_chain_is_confirmed_by_the_fast_scan(
    store: Store, split_small: None, processes: int
) -> None:
    await record_many(store, 12)
    result = await verify_fast(store.engine, processes=processes)
    assert result is not None
    assert (result.ok, result.records_checked, result.head_seq) == (True, 12, 12)


async def test_values_orjson_writes_differently_are_checked_by_the_reference(
    store: Store, split_small: None
) -> None:
    # orjson writes 1e-07 as 1e-7 and refuses integers beyond 64 bits; the hash is
    # over json.dumps's text, so the scan must ask the reference before judging.
    await store.record_contact(make_entry(1, details={"ratio": 1e-7}))
    await store.record_contact(make_entry(2, details={"big": 2**70}))
    await record_many_from(store, 3, 6)
    result = await verify_fast(store.engine, processes=2)
    assert result is not None and result.ok


async def record_many_from(store: Store, first: int, last: int) -> None:
    for n in range(first, last + 1):
        await store.record_contact(make_entry(n))


async def test_an_altered_record_in_a_later_range_is_named_by_the_reference(
    store: Store, split_small: None
) -> None:
    await record_many(store, 9)
    await raw(
        store, lambda c: c.execute(update(evidence).where(evidence.c.seq == 8).values(sender="x"))
    )
    assert await verify_fast(store.engine, processes=3) is None
    result = await store.verify_evidence(processes=3)
    assert (result.ok, result.first_bad_seq) == (False, 8)
    assert "record 8 has been altered" in result.problem


async def test_a_broken_link_where_two_ranges_meet_is_caught(
    store: Store, split_small: None
) -> None:
    """Record 4 opens the second of three ranges; re-sealed with a made-up prev_hash
    it checks out on its own, so only the stitching of the ranges can catch it."""
    await record_many(store, 9)

    async def reseal(conn: object) -> None:
        row = (await conn.execute(select(evidence).where(evidence.c.seq == 4))).mappings().one()  # type: ignore[attr-defined]
        fields = {k: v for k, v in row.items() if k != "hash"}
        fields["prev_hash"] = "f" * 64
        await conn.execute(  # type: ignore[attr-defined]
            update(evidence)
            .where(evidence.c.seq == 4)
            .values(prev_hash="f" * 64, hash=independent_hash(fields))
        )

    await raw(store, reseal)
    assert evidence_scan.split(9, 3)[1][0] == 4
    assert await verify_fast(store.engine, processes=3) is None
    result = await store.verify_evidence(processes=3)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "does not follow on from record 3" in result.problem


async def test_a_worker_that_cannot_read_the_database_says_which_records(
    tmp_path: object, split_small: None
) -> None:
    worker = await evidence_scan.Worker.start()
    try:
        with pytest.raises(
            RuntimeError, match=r"(?s)records 1 to 5 failed: .*unable to open database file"
        ):
            await worker.scan("sqlite", "/nonexistent/dir/gateway.db", 1, 5)
    finally:
        await worker.close()
    assert worker.process.returncode not in (None, 0)


async def test_an_empty_chain_is_intact_only_while_its_head_is_the_genesis(store: Store) -> None:
    result = await verify_fast(store.engine)
    assert result is not None and (result.ok, result.head_seq) == (True, 0)
    await raw(
        store,
        lambda c: c.execute(
            update(evidence_head).where(evidence_head.c.id == 1).values(hash="f" * 64)
        ),
    )
    assert await verify_fast(store.engine) is None
    result = await store.verify_evidence()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "starting hash" in result.problem


async def test_json_columns_are_stored_in_canonical_form(tmp_path: Path) -> None:
    """The store writes JSON columns exactly as they appear inside a record's canonical
    JSON, so the stored text is the text that was hashed (and the scan finds each text
    already in canonical form)."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        await record_many(store, 2)
        async with store.engine.connect() as conn:
            query = text("SELECT reasons, counts, details FROM evidence ORDER BY seq")
            rows = (await conn.execute(query)).all()
    finally:
        await store.close()
    assert len(rows) == 2
    for row in rows:
        for stored in row:
            assert stored == stored_json(json.loads(stored))
    assert '"note":"Café — “quoted”"' in rows[0][2]


async def test_json_text_written_in_another_form_is_still_confirmed_by_the_fast_scan(
    store: Store, split_small: None
) -> None:
    """Rows written before the JSON columns were canonical (spaces, keys in any order)
    hold the same values, so the chain is intact: the scan reads them and says so."""
    await record_many(store, 6)
    loose = json.dumps({"note": "Café — “quoted”", "n": 3})  # ASCII escapes, spaces
    await raw(
        store,
        lambda c: c.execute(
            update(evidence).where(evidence.c.seq == 3).values(details=json.loads(loose))
        ),
    )
    if store.engine.dialect.name == "sqlite":
        await raw(
            store,
            lambda c: c.execute(
                text("UPDATE evidence SET details = :t WHERE seq = 3"), {"t": loose}
            ),
        )
    result = await verify_fast(store.engine, processes=2)
    assert result is not None and (result.ok, result.records_checked) == (True, 6)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///data/gateway.db",
        "sqlite:////var/lib/gateway/gateway.db",
        "sqlite:///a b.db",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        "postgresql://u:p%40ss@db.example.org/gateway?ssl=require",
    ],
)
def test_the_scan_reads_a_database_url_as_sqlalchemy_does(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        expected = ("postgresql", parsed.set(drivername="postgresql").render_as_string(False))
    else:
        expected = ("sqlite", sqlite_file(url) or "")
    assert evidence_scan.target_for_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+aiosqlite:///file:shared?mode=memory&uri=true",
        "sqlite:///odd%20name.db",
        "mysql://root@localhost/gateway",
        "not a url",
    ],
)
def test_urls_the_scan_does_not_read_are_left_to_the_reference(url: str) -> None:
    assert evidence_scan.target_for_url(url) is None


async def test_rows_the_store_wrote_are_checked_without_parsing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's quick path (stored JSON spliced in, keys already in order) holds for
    every row the store writes; the plain per-row check is for anything else."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        await record_many(store, 5)
        await store.record_contact(make_entry(6, details={"ratio": 0.25, "é": ["ü", None]}))
        # Every character a sender's name can hold comes back exactly from SQLite's JSON.
        odd = 'Zoë "Z" O\'Neil \\ \x00\x01\x1f\x7f\n\t \u2028\u2029 😀 𝒜 \ufeff'
        await store.record_contact(make_entry(7, sender=odd, deliver_to=None))
    finally:
        await store.close()

    def parsed(*args: object) -> bool:
        raise AssertionError(f"row parsed: {args}")

    monkeypatch.setattr(evidence_scan, "_sqlite_row", parsed)
    result = evidence_scan.scan_sqlite(str(tmp_path / "gateway.db"), 1, 7)
    assert (result.ok, result.first, result.last) == (True, 1, 7)


async def test_json_text_hashed_as_stored_is_not_taken_for_the_values(tmp_path: Path) -> None:
    """Someone rewrites the last record's counts with spaces (same values) and seals the
    record over that text as it stands. The documented hash is over the values' canonical
    JSON, so the reference calls it broken; the fast scan must not call it intact."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        await record_many(store, 3)
        loose = (
            '[ {"used": 3, "restriction_id": "R-2026-001", "channel": "sms", '
            '"per": "P7D", "max": 5} ]'
        )
        async with store.engine.connect() as conn:
            row = (
                (await conn.execute(text("SELECT * FROM evidence WHERE seq = 3"))).mappings().one()
            )
        fields = {k: v for k, v in row.items() if k != "hash"}
        for name in ("occurred_at", "recorded_at"):
            fields[name] = f"{fields[name][:10]}T{fields[name][11:]}Z"
        fields["counted"], fields["degraded"] = bool(fields["counted"]), bool(fields["degraded"])
        for name in ("reasons", "details"):
            fields[name] = orjson.Fragment(fields[name])
        fields["counts"] = orjson.Fragment(loose)
        forged = hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()
        await raw(
            store,
            lambda c: c.execute(
                text("UPDATE evidence SET counts = :t, hash = :h WHERE seq = 3"),
                {"t": loose, "h": forged},
            ),
        )
        await raw(
            store,
            lambda c: c.execute(
                update(evidence_head).where(evidence_head.c.id == 1).values(hash=forged)
            ),
        )
        assert await verify_fast(store.engine) is None
        result = await store.verify_evidence()
        assert (result.ok, result.first_bad_seq) == (False, 3)
    finally:
        await store.close()


def lax_hash(row: dict[str, object]) -> str:
    """The hash a scan would accept that trusted orjson to write every value as the
    reference does and took timestamp text by its shape alone."""
    fields = {k: v for k, v in row.items() if k != "hash"}
    for name in ("occurred_at", "recorded_at"):
        value = str(fields[name])
        fields[name] = f"{value[:10]}T{value[11:]}Z"
    fields["counted"], fields["degraded"] = bool(fields["counted"]), bool(fields["degraded"])
    for name in ("reasons", "counts", "details"):
        fields[name] = orjson.loads(fields[name])  # type: ignore[arg-type]
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", '{"ratio":1e-7}'),  # orjson writes 1e-7, the reference 1e-07
        ("policy_version", 1e-7),  # a float where an integer belongs
        ("occurred_at", "2026-11-03 10:15:00,000000"),  # read as .000000
        ("occurred_at", "2026-W45-2 10:15:00.000000"),  # a week date: 3 November
        ("occurred_at", "0999-11-03 10:15:00.000000"),  # written back as 999-11-03
        ("occurred_at", "2026-02-30 10:15:00.000000"),  # no such day
        ("occurred_at", "2026-11-03 24:15:00.000000"),  # no such hour
    ],
)
async def test_a_record_resealed_for_a_lax_scan_is_not_called_intact(
    tmp_path: Path, split_small: None, column: str, value: object
) -> None:
    """Someone rewrites one value of the last record so that a scan taking shortcuts
    would still match it, and seals the record and the head over that. The reference
    reads the value differently (or not at all) and calls the record broken; the fast
    scan must not call the chain intact."""
    store = await Store.open(sqlite_url(tmp_path))
    path = tmp_path / "gateway.db"
    try:
        await record_many(store, 3)
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            conn.execute(f"UPDATE evidence SET {column} = ? WHERE seq = 3", (value,))
            row = dict(conn.execute("SELECT * FROM evidence WHERE seq = 3").fetchone())
            forged = lax_hash(row)
            conn.execute("UPDATE evidence SET hash = ? WHERE seq = 3", (forged,))
            conn.execute("UPDATE evidence_head SET hash = ? WHERE id = 1", (forged,))
        conn.close()
        assert evidence_scan.scan_sqlite(str(path), 1, 3).ok is False
        assert await verify_fast(store.engine, processes=2) is None
        result = await store.verify_evidence()
        assert (result.ok, result.first_bad_seq) == (False, 3)
    finally:
        await store.close()


async def test_when_a_worker_fails_the_others_are_ended_and_the_failure_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[evidence_scan.Worker] = []
    start = evidence_scan.Worker.start

    async def recorded() -> evidence_scan.Worker:
        worker = await start()
        started.append(worker)
        return worker

    monkeypatch.setattr(evidence_scan.Worker, "start", recorded)
    ranges = [(1, 5), (6, 10), (11, 15), (16, 20)]
    with pytest.raises(ExceptionGroup) as caught:
        await evidence_scan.scan_in_workers("sqlite", "/nonexistent/dir/gateway.db", ranges, 2)
    assert caught.value.subgroup(RuntimeError) is not None
    assert len(started) == 2
    assert all(worker.process.returncode is not None for worker in started)


async def test_a_row_checked_the_plain_way_lets_the_scan_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """29 February is a real day the quick timestamp check leaves to the plain one; the
    scan reads that row again as stored, finds it intact and carries on to the end."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        await record_many(store, 2)
        leap = make_entry(3, occurred_at=datetime(2028, 2, 29, 9, 30, 0, 123456, tzinfo=UTC))
        await store.record_contact(leap)
        await record_many_from(store, 4, 6)
    finally:
        await store.close()
    plain: list[int] = []
    checked = evidence_scan._sqlite_row

    def spied(conn: sqlite3.Connection, seq: int, texts: evidence_scan.CanonicalTexts) -> bool:
        plain.append(seq)
        return checked(conn, seq, texts)

    monkeypatch.setattr(evidence_scan, "_sqlite_row", spied)
    result = evidence_scan.scan_sqlite(str(tmp_path / "gateway.db"), 1, 6)
    assert plain == [3]
    assert (result.ok, result.last) == (True, 6)


async def test_a_worker_that_has_died_is_reported_not_waited_for() -> None:
    worker = await evidence_scan.Worker.start()
    worker.process.kill()
    await worker.process.wait()
    with pytest.raises(RuntimeError, match="records 1 to 5 failed"):
        await worker.scan("sqlite", "/nonexistent/dir/gateway.db", 1, 5)
    await worker.close()


def test_the_memo_of_json_texts_stays_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence_scan.CanonicalTexts, "LIMIT", 2)
    texts = evidence_scan.CanonicalTexts()
    loose = ['{"b": 1, "a": [true, null]}', "[1.0, 1e-7]", '"caf\\u00e9"', "{}"]
    for stored in loose * 2:
        fragment = texts.fragment(stored)
        assert fragment is not None
        expected = json.dumps(
            json.loads(stored), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert orjson.dumps([fragment]) == f"[{expected}]".encode()
        assert len(texts.known) <= 2
    assert texts.fragment("not json") is None and texts.fragment(7) is None
