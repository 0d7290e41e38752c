"""The replay worker's rule: wait while the store is down, but never let one kept text
that fails for another reason hold up the texts behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.spool.replay import ReplayTiming, Round, SpoolReplayer
from gateway.store import StoreError, StoreUnavailable
from gateway.twilio.sms_spool import SmsSpool, SpooledText

T0 = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def text(n: int) -> SpooledText:
    sid = f"SM{n:032x}"
    return SpooledText(
        message_sid=sid,
        received_at=T0 + timedelta(seconds=n),
        params={"MessageSid": sid, "From": "+447700900123", "To": "+441632960000", "Body": "x"},
    )


async def test_a_text_that_fails_for_good_does_not_block_the_ones_behind_it(
    tmp_path: Path,
) -> None:
    spool = SmsSpool(tmp_path / "spool")
    await spool.prepare()
    for n in (1, 2):
        assert await spool.keep(text(n))
    replayed: list[str] = []

    async def replay(item: SpooledText, within: float) -> str:
        if item.message_sid == text(1).message_sid:
            raise StoreError("refused by the database: a constraint")
        replayed.append(item.message_sid)
        return "recorded"

    worker = SpoolReplayer(spool, replay, ReplayTiming(), logger="test")
    assert await worker.step() is Round.FAULTED
    assert replayed == [text(2).message_sid]
    assert [t.message_sid for t in await spool.pending()] == [text(1).message_sid]


async def test_the_store_being_down_stops_the_round_and_keeps_everything(
    tmp_path: Path,
) -> None:
    spool = SmsSpool(tmp_path / "spool")
    await spool.prepare()
    for n in (1, 2):
        assert await spool.keep(text(n))
    tried: list[str] = []

    async def replay(item: SpooledText, within: float) -> str:
        tried.append(item.message_sid)
        raise StoreUnavailable("the database is unavailable")

    worker = SpoolReplayer(spool, replay, ReplayTiming(), logger="test")
    assert await worker.step() is Round.BLOCKED
    assert tried == [text(1).message_sid]  # oldest first, then it waits
    assert len(await spool.pending()) == 2
