"""Stored content that no longer matches the SHA-256 its evidence record carries.

Content is kept in ``contents`` under its SHA-256, which the record seals into the chain.
Someone with SQL access who overwrites the bytes, deletes them or moves them under
another key leaves every record intact, so the check must read the content itself:
``evidence verify`` names the record (fast scan in worker processes and reference
alike), and reading it through the store is refused rather than passing forged bytes
off as what was recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway import evidence_scan
from gateway.store import ContentAltered, Store
from gateway.store.schema import contents, evidence
from gateway.store.verify_fast import verify_fast
from tests.gateway.store_factory import make_entry, raw
from tests.gateway.test_cli import _record_some, run

FORGED = b"From: Alex <alex@example.net>\r\nSubject: My boiler\r\n\r\nI withdraw my complaint.\r\n"


def _content(n: int) -> bytes:
    return b"Text message number %d about the repairs" % n


async def _record_with_content(store: Store, count: int) -> None:
    for n in range(1, count + 1):
        await store.record_contact(make_entry(n), content=_content(n))


def _digest(n: int) -> str:
    return hashlib.sha256(_content(n)).hexdigest()


async def _rekey(conn: AsyncConnection, n: int) -> None:
    """Forge record n's content and file it under the forgery's own SHA-256, as a
    careful forger would (the row then matches its key; the record finds nothing)."""
    await conn.execute(
        update(contents)
        .where(contents.c.sha256 == _digest(n))
        .values(data=FORGED, sha256=hashlib.sha256(FORGED).hexdigest())
    )


TAMPERING: list[tuple[str, Callable[[AsyncConnection], Awaitable[object]], int, str]] = [
    (
        "bytes overwritten",
        lambda c: c.execute(
            update(contents).where(contents.c.sha256 == _digest(5)).values(data=FORGED)
        ),
        5,
        "record 5's stored content has been altered",
    ),
    (
        "text written over the bytes in SQL",
        lambda c: c.execute(
            text("UPDATE contents SET data = 'I withdraw my complaint' WHERE sha256 = :d"),
            {"d": _digest(5)},
        ),
        5,
        "record 5's stored content has been altered",
    ),
    (
        "one byte appended",
        lambda c: c.execute(
            update(contents).where(contents.c.sha256 == _digest(5)).values(data=_content(5) + b" ")
        ),
        5,
        "record 5's stored content has been altered",
    ),
    (
        "content deleted",
        lambda c: c.execute(delete(contents).where(contents.c.sha256 == _digest(5))),
        5,
        "record 5's content (SHA-256 " + _digest(5) + ") is missing from the store",
    ),
    ("forgery filed under its own hash", lambda c: _rekey(c, 5), 5, "is missing from the store"),
    (
        "the first record's content altered",
        lambda c: c.execute(
            update(contents).where(contents.c.sha256 == _digest(1)).values(data=FORGED)
        ),
        1,
        "record 1's stored content has been altered",
    ),
    (
        "the last record's content altered",
        lambda c: c.execute(
            update(contents).where(contents.c.sha256 == _digest(10)).values(data=FORGED)
        ),
        10,
        "record 10's stored content has been altered",
    ),
]


@pytest.mark.parametrize(
    ("how", "tamper", "first_bad", "says"), TAMPERING, ids=[t[0] for t in TAMPERING]
)
async def test_altered_content_is_detected_and_its_record_named(
    store: Store,
    how: str,
    tamper: Callable[[AsyncConnection], Awaitable[object]],
    first_bad: int,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(evidence_scan, "MIN_PER_PROCESS", 1)
    await _record_with_content(store, 10)
    # The fast scan confirms an intact chain with its content by itself.
    assert await verify_fast(store.engine, processes=3) is not None
    await raw(store, tamper)
    assert await verify_fast(store.engine, processes=3) is None, how
    assert await verify_fast(store.engine, processes=1) is None, how
    for batch, processes in ((2000, 3), (3, 1)):
        result = await store.verify_evidence(batch=batch, processes=processes)
        assert not result.ok, how
        assert result.first_bad_seq == first_bad, result.problem
        assert says in result.problem
        assert result.records_checked == first_bad - 1
        assert result.problem in result.describe()


async def test_the_first_problem_is_named_whether_in_a_record_or_its_content(
    store: Store,
) -> None:
    await _record_with_content(store, 10)
    forge_6 = update(contents).where(contents.c.sha256 == _digest(6)).values(data=FORGED)
    await raw(store, lambda c: c.execute(forge_6))
    await raw(store, lambda c: c.execute(delete(evidence).where(evidence.c.seq == 8)))
    result = await store.verify_evidence()
    assert (result.first_bad_seq, "content has been altered" in result.problem) == (6, True)
    await raw(store, lambda c: c.execute(delete(evidence).where(evidence.c.seq == 3)))
    result = await store.verify_evidence()
    assert (result.first_bad_seq, "record 3 is missing" in result.problem) == (3, True)


async def test_reading_altered_content_is_refused_naming_the_problem(store: Store) -> None:
    await _record_with_content(store, 2)
    assert await store.get_content(_digest(2)) == _content(2)
    assert await store.content_problems([_digest(1), _digest(2)]) == {}
    await raw(
        store,
        lambda c: c.execute(
            update(contents).where(contents.c.sha256 == _digest(2)).values(data=FORGED)
        ),
    )
    with pytest.raises(ContentAltered, match="the stored content has been altered") as refused:
        await store.get_content(_digest(2))
    assert hashlib.sha256(FORGED).hexdigest() in str(refused.value)
    await raw(store, lambda c: c.execute(delete(contents).where(contents.c.sha256 == _digest(1))))
    problems = await store.content_problems([_digest(1), _digest(2)])
    assert problems[_digest(1)] == "it is missing from the store"
    assert hashlib.sha256(FORGED).hexdigest() in problems[_digest(2)]


# ---------------------------------------------------------------- the command line


async def _forge_content_of(url: str, seq: int) -> None:
    store = await Store.open(url)
    try:
        async with store.engine.begin() as conn:
            digest = (
                await conn.execute(select(evidence.c.content_sha256).where(evidence.c.seq == seq))
            ).scalar_one()
            await conn.execute(
                update(contents).where(contents.c.sha256 == digest).values(data=FORGED)
            )
    finally:
        await store.close()


def test_verify_reports_altered_content_in_one_line(database_url: str) -> None:
    asyncio.run(_record_some(database_url, 3))
    assert run(database_url, "evidence", "verify").returncode == 0
    asyncio.run(_forge_content_of(database_url, 2))
    broken = run(database_url, "evidence", "verify")
    assert broken.returncode == 1, broken.stdout
    [line] = broken.stderr.splitlines()
    assert line.startswith("evidence chain BROKEN at record 2: record 2's stored content has")
    assert hashlib.sha256(FORGED).hexdigest() in line
