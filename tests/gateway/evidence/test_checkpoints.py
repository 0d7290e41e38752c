"""Checkpoints made on schedule and on demand, kept as files and emailed to witnesses
through a real loopback upstream exactly once, however many gateways share the database.
Time is a FakeClock passed to each pass; nothing sleeps. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.chain.checkpoint import VerifierKey, open_checkpoint
from gateway.evidence.checkpoint_task import CHECKPOINTER
from gateway.evidence.checkpoints import period_of, scheduled_checkpoint
from gateway.store.schema import evidence_checkpoint
from tests.conftest import open_store
from tests.gateway.evidence.checkpoint_support import checkpoint_settings, cli, new_key
from tests.gateway.held_support import drain
from tests.gateway.mail_support import FakeClock, running_gateway, upstream_server
from tests.gateway.store_factory import make_entry

TEN = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)
WITNESSES = "ombudsman-copy@witness.example,auditor@witness.example"


@pytest.mark.parametrize(
    ("interval", "at", "period"),
    [
        (timedelta(hours=1), "2026-12-06T10:59:59", "2026-12-06T10"),
        (timedelta(minutes=15), "2026-12-06T10:44:00", "2026-12-06T10:30"),
        (timedelta(days=1), "2026-12-06T23:00:00", "2026-12-06"),
        (timedelta(hours=6), "2026-12-06T05:59:00", "2026-12-06T00"),
    ],
)
def test_periods_are_named_by_where_they_start(interval: timedelta, at: str, period: str) -> None:
    assert period_of(datetime.fromisoformat(at).replace(tzinfo=UTC), interval) == period


async def _count(gateway: Any) -> int:
    async with gateway.store.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(evidence_checkpoint))).scalar_one()
        )


async def test_two_gateways_make_one_checkpoint_per_interval_and_one_email(
    database_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "evidence.key"
    vkey = VerifierKey.parse(new_key(key))
    async with upstream_server() as upstream:
        settings = checkpoint_settings(
            database_url,
            tmp_path,
            key,
            upstream=f"smtp://127.0.0.1:{upstream.port}",
            smtp={"host": "127.0.0.1", "port": 0, "hostname": "gateway.test"},
            evidence={"witnesses": WITNESSES},
        )
        clock = FakeClock(TEN)
        async with open_store(database_url) as store:
            for n in range(1, 4):
                await store.record_contact(make_entry(n))
        # Each gateway's own task also makes a pass as it starts: all of them together
        # still make one checkpoint in the hour.
        async with running_gateway(settings, clock) as one, running_gateway(settings, clock) as two:
            makers = (one.app[CHECKPOINTER], two.app[CHECKPOINTER])

            async def passes(now: datetime) -> list[Any]:
                # Both gateways, three passes each, all at the same moment.
                clock.now = now
                return await asyncio.gather(
                    *(scheduled_checkpoint(m, now) for m in makers for _ in range(3))
                )

            await passes(TEN)
            assert await _count(one) == 1
            assert await drain([one.mail, two.mail], upstream) == 1
            # Later in the same hour, with more records: still the hour's one checkpoint.
            await one.store.record_contact(make_entry(4))
            await passes(TEN + timedelta(minutes=40))
            assert await _count(one) == 1
            # The next hour: one more, covering the new record; then an idle hour: none.
            await passes(TEN + timedelta(hours=1))
            assert await _count(one) == 2
            # Delivered before the clock jumps an hour: a message a worker is sending
            # would otherwise outlive its lease in that jump, and the other gateway
            # would send it again (at least once, never lost; real time does not jump).
            assert await drain([one.mail, two.mail], upstream) == 2
            await passes(TEN + timedelta(hours=2))
            assert await _count(one) == 2
            assert await drain([one.mail, two.mail], upstream) == 2

        sizes = []
        for sent in upstream.messages:
            assert sorted(sent.rcpt_tos) == sorted(WITNESSES.split(","))
            assert sent.mail_from == "<>"
            parsed = message_from_bytes(sent.content)
            [attached] = [p for p in parsed.walk() if p.get_filename()]
            note = attached.get_payload(decode=True).decode("utf-8")
            checkpoint = open_checkpoint(note, vkey)
            sizes.append(checkpoint.size)
            assert sent.header("Subject") == (
                f"Evidence log checkpoint: {checkpoint.size} records (housing.example.org/evidence)"
            )
            assert vkey.text() in sent.text()
        assert sorted(sizes) == [3, 4]
        files = sorted(p.name for p in settings.evidence.checkpoint_dir.iterdir())
        assert files == [
            "checkpoint-3-20261206T100005Z.txt",
            "checkpoint-4-20261206T110005Z.txt",
        ]


async def test_without_a_usable_key_the_gateway_runs_with_one_warning(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nowhere.key"
    settings = checkpoint_settings(database_url, tmp_path, missing)
    from aiohttp import web

    caplog.set_level(logging.WARNING)
    runner = web.AppRunner(create_app(settings, clock=FakeClock(TEN)))
    await runner.setup()
    try:
        assert CHECKPOINTER not in runner.app
        warned = [r.getMessage() for r in caplog.records if "checkpoints" in r.getMessage()]
        assert warned == [
            f"no evidence checkpoints will be made: the evidence signing key {missing} does "
            "not exist (create one with 'contact-gateway evidence key new')"
        ]
    finally:
        await runner.cleanup()


def test_key_commands_and_checkpoint_on_demand(database_url: str, tmp_path: Path) -> None:
    key = tmp_path / "made.key"
    settings = checkpoint_settings(database_url, tmp_path, key)
    made = cli(settings, "evidence", "key", "new", "--output", str(key))
    assert made.returncode == 0, made.stderr
    vkey = VerifierKey.parse(made.stdout.strip())
    assert vkey.name == "housing.example.org/evidence"
    again = cli(settings, "evidence", "key", "new", "--output", str(key))
    assert again.returncode == 1 and "already exists" in again.stderr
    shown = cli(settings, "evidence", "key", "show")
    assert shown.returncode == 0 and shown.stdout.strip() == vkey.text()
    signed = cli(settings, "evidence", "checkpoint")
    assert signed.returncode == 0, signed.stderr
    assert open_checkpoint(signed.stdout, vkey).size == 0
    assert "written to" in signed.stderr and "no witnesses set" in signed.stderr
    no_key = cli(settings, "evidence", "checkpoint", key=tmp_path / "absent.key")
    assert no_key.returncode == 1
    assert no_key.stderr.strip().endswith(
        f"the evidence signing key {tmp_path / 'absent.key'} does not exist (create one "
        "with 'contact-gateway evidence key new')"
    )
    assert "Traceback" not in no_key.stderr


async def test_admin_api_signs_a_checkpoint_and_exports_carry_proofs(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    from gateway.chain.merkle import record_leaf, verify_inclusion
    from tests.gateway.api_support import start_api
    from tests.gateway.decisions.test_service import FakeClock as ApiClock

    key = tmp_path / "evidence.key"
    vkey = VerifierKey.parse(new_key(key))
    settings = checkpoint_settings(database_url, tmp_path, key)
    api = await start_api(aiohttp_client, settings, ApiClock(TEN))
    for n in range(1, 6):
        await api.store.record_contact(make_entry(n, customer_id="C-1001" if n % 2 else "C-2"))
    made = await api.ok("POST", "/evidence/checkpoints", "admin")
    assert made["tree_size"] == 5 and made["verifier_key"] == vkey.text()
    assert open_checkpoint(made["signed_note"], vkey).root.hex() == made["root"]
    assert made["file"]
    assert await asyncio.to_thread(Path(made["file"]).read_text) == made["signed_note"]
    refused = await api.call("POST", "/evidence/checkpoints", "auth")
    assert refused.status == 403
    audit = (await api.ok("GET", "/audit", "admin"))["items"]
    assert any(a["action"] == "checkpointed" for a in audit)

    await api.store.record_contact(make_entry(6, customer_id="C-1001"))
    document = await api.ok("GET", "/evidence/export", "viewer", params={"customer": "C-1001"})
    # Record 6 is newer than the checkpoint: a new one was made for the export.
    checkpoint = open_checkpoint(document["checkpoint"]["signed_note"], vkey)
    assert checkpoint.size == 6
    assert [p["seq"] for p in document["proofs"]] == [1, 3, 5, 6]
    for record, proof in zip(document["records"], document["proofs"], strict=True):
        leaf = record_leaf(record["hash"])
        assert proof["leaf_hash"] == leaf.hex()
        path = [bytes.fromhex(h) for h in proof["inclusion_proof"]]
        assert verify_inclusion(leaf, record["seq"] - 1, 6, path, checkpoint.root)
    assert "hash" in document["records"][0] and "leaf_hash" not in document["records"][0]
