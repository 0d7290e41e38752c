"""Stored content that no longer matches the SHA-256 its evidence record carries.

Content is kept in ``contents`` under its SHA-256, which the record seals into the chain.
Someone with SQL access who overwrites the bytes, deletes them or moves them under
another key leaves every record intact, so the check must read the content itself:
``evidence verify`` names the record (fast scan in worker processes and reference
alike), and the held-content API, the web UI's held item, a release and the PDF pack
refuse or flag it rather than pass forged bytes off as what was recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain import scan as evidence_scan
from gateway.chain.verify_fast import verify_fast
from gateway.store import ContentAltered, Store
from gateway.store.engine import write_transaction
from gateway.store.schema import contents, evidence
from rules.models import Channel
from tests.gateway.api.test_api_held import RAW, drain, hold
from tests.gateway.api_support import (
    START,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    set_test_password,
    start_api,
)
from tests.gateway.cli.test_cli import _record_some, run, said
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.store_factory import make_entry, raw
from tests.gateway.ui.test_ui_security import PASSWORD, _login

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
    [line] = said(broken.stderr)
    assert line.startswith("evidence chain BROKEN at record 2: record 2's stored content has")
    assert hashlib.sha256(FORGED).hexdigest() in line


def test_the_pdf_pack_flags_altered_content(database_url: str, tmp_path: Path) -> None:
    asyncio.run(_record_some(database_url, 3))
    asyncio.run(_forge_content_of(database_url, 2))
    pdf = tmp_path / "pack.pdf"
    made = run(
        database_url, "evidence", "export", "--customer", "C-1", "--format", "pdf", "-o", str(pdf)
    )
    assert made.returncode == 0, made.stderr
    words = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))
    assert "WARNING: the stored content of record 2 does not match" in words
    assert "CONTENT ALTERED" in words
    assert words.count("CONTENT ALTERED") == 1  # records 1 and 3 are not flagged
    assert "The chain is broken: record 2's stored content has been altered" in words


# ---------------------------------------------------------------- the API and web UI


@pytest.fixture
async def api(aiohttp_client: Any, database_url: str, tmp_path: Path) -> ApiClient:
    gateway = await start_api(
        aiohttp_client, api_settings(database_url, tmp_path / "mail"), FakeClock(START)
    )
    await seed_people(gateway)
    await gateway.ok("POST", "/restrictions", "officer", json=proposal(channels=["voice"]))
    await gateway.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    return gateway


async def _forge_held(api: ApiClient, held_id: int) -> None:
    held = await api.ok("GET", f"/held/{held_id}", "viewer")
    forge = update(contents).where(contents.c.sha256 == held["content_sha256"]).values(data=FORGED)
    await raw(api.store, lambda c: c.execute(forge))


async def test_the_api_refuses_altered_held_content_and_will_not_release_it(
    api: ApiClient, tmp_path: Path
) -> None:
    held_id = await hold(api, Channel.EMAIL, RAW, "<m1@example.net>")
    held = await api.ok("GET", f"/held/{held_id}", "viewer")
    await _forge_held(api, held_id)
    refused = await api.call("GET", f"/held/{held_id}/content", "officer")
    assert refused.status == 409
    body = await refused.text()
    message = (await refused.json())["error"]["message"]
    assert f"held contact {held_id}" in message and "has been altered" in message
    assert f"evidence record {held['evidence_seq']}" in message
    assert hashlib.sha256(FORGED).hexdigest() in message
    assert "withdraw" not in body  # not a byte of the forgery is served
    audit = (await api.ok("GET", "/audit", "auth"))["items"]
    assert all(entry["action"] != "read_content" for entry in audit)  # nothing was read

    release = await api.call("POST", f"/held/{held_id}/release", "officer", json={})
    assert release.status == 409
    assert "has been altered" in (await release.json())["error"]["message"]
    assert (await api.ok("GET", f"/held/{held_id}", "viewer"))["status"] == "held"
    assert await drain(api, tmp_path / "mail", "jane.smith@example.org") == []
    verify = await api.ok("GET", "/evidence/verify", "viewer")
    assert (verify["ok"], verify["first_bad_seq"]) == (False, held["evidence_seq"])


async def test_the_web_ui_says_the_held_content_was_altered_and_shows_none_of_it(
    api: ApiClient,
) -> None:
    held_id = await hold(api, Channel.EMAIL, RAW, "<m1@example.net>")
    async with write_transaction(api.store.engine, "passwords") as conn:
        await set_test_password(conn, "officer", PASSWORD, START)
    assert (await _login(api.client, "officer")).status == 303
    page = await api.client.get(f"/admin/held/{held_id}?read=1")
    assert page.status == 200 and "The boiler is making a noise again." in await page.text()
    await _forge_held(api, held_id)
    page = await api.client.get(f"/admin/held/{held_id}?read=1")
    shown = await page.text()
    assert page.status == 409
    assert re.search(r"stored content of held contact \d+ has been altered", shown)
    assert "withdraw" not in shown
    assert 'id="held-content"' not in shown
