"""Background loops stop between passes: a pass under way finishes, a loop asleep stops
at once, and only a pass that outlasts the grace is cancelled."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.common.background import Passes, every, running
from gateway.store.engine import open_engine, write_transaction

GENEROUS_S = 30.0  # a bound on waits that end far sooner on a machine that is not busy


async def test_a_pass_under_way_finishes_before_the_loop_stops() -> None:
    in_pass, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def loop(passes: Passes) -> None:
        n = 0
        while not passes.stopping:
            n += 1
            in_pass.set()
            await release.wait()
            finished.append(n)

    async with asyncio.timeout(GENEROUS_S):
        async with running(loop, "test-loop"):
            await in_pass.wait()
            # Let the pass end only once the stop has been asked for.
            asyncio.get_running_loop().call_soon(release.set)
    assert finished == [1]


async def test_a_loop_that_ignores_stop_is_cancelled_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    cancelled = False

    async def stubborn(passes: Passes) -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.Event().wait()  # never ends by itself
        except asyncio.CancelledError:
            cancelled = True
            raise

    began = time.monotonic()
    async with asyncio.timeout(GENEROUS_S):
        async with running(stubborn, "stubborn", grace=0.2):
            await started.wait()
    assert cancelled
    assert time.monotonic() - began >= 0.2
    assert "stubborn did not stop within 0.2 s" in caplog.text


async def test_a_loop_asleep_between_passes_stops_at_once() -> None:
    passes_made = 0

    async def one_pass() -> None:
        nonlocal passes_made
        passes_made += 1

    loop = every(
        lambda: 3600.0,
        one_pass,
        log=logging.getLogger("test"),
        could_not="do it",
        failing="doing it",
    )
    began = time.monotonic()
    async with running(loop, "sleepy", grace=GENEROUS_S):
        await asyncio.sleep(0)
    assert time.monotonic() - began < GENEROUS_S / 2
    assert passes_made == 0


async def test_waiting_for_work_gives_it_or_none_once_stopping() -> None:
    passes = Passes()
    queue: asyncio.Queue[int] = asyncio.Queue()
    queue.put_nowait(7)
    assert await passes.unless_stopping(queue.get()) == 7
    waiting = asyncio.create_task(passes.unless_stopping(queue.get()))
    await asyncio.sleep(0)
    passes.stop()
    async with asyncio.timeout(GENEROUS_S):
        assert await waiting is None
    queue.put_nowait(8)  # the cancelled get took nothing
    assert queue.get_nowait() == 8
    assert not await passes.pause(3600.0)


async def test_a_loop_taking_work_stops_at_its_next_pass_though_more_is_waiting() -> None:
    """Once asked to stop, the next wait for work ends at once, even with work queued:
    a loop that went on taking it would run on past the stop until its grace cut it off,
    mid-pass (the possible-match task, whose queue may be full at shutdown)."""
    passes = Passes()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(100):
        queue.put_nowait(n)
    taken: list[int] = []
    while (n := await passes.unless_stopping(queue.get())) is not None:
        taken.append(n)
        if len(taken) == 3:
            passes.stop()
    assert taken == [0, 1, 2]
    assert queue.qsize() == 97  # nothing more was taken off the queue


async def test_stopping_mid_transaction_leaves_sqlite_writable(tmp_path: Path) -> None:
    """The fault this guards against: a pass cancelled in a long SQLite statement left
    its connection, and the write lock, held; the next writer waited 30 s."""
    engine = await open_engine(f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")
    try:
        async with write_transaction(engine, "making a table") as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        in_pass = asyncio.Event()
        slow = text(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)"
            " SELECT count(*) FROM c"
        )

        async def writing(passes: Passes) -> None:
            while not passes.stopping:
                async with write_transaction(engine, "a long pass") as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                    in_pass.set()
                    await conn.execute(slow)

        async with asyncio.timeout(GENEROUS_S):
            async with running(writing, "writer", grace=GENEROUS_S):
                await in_pass.wait()
            began = time.monotonic()
            async with write_transaction(engine, "writing after the stop") as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert time.monotonic() - began < 5.0
    finally:
        await engine.dispose()
