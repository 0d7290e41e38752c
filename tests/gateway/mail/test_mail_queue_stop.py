"""The queue worker stops when told, between rounds, and a cancellation is never lost.

On Python 3.11 ``asyncio.wait_for`` returns the result, instead of raising, when the
task is cancelled just as what it waits for completes: the worker, cancelled as it
was woken, went on delivering for ever and ``serve`` never exited.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from gateway.common.background import Passes, running
from gateway.mail.queue import QueueWorker
from gateway.mail.transport import MaildirTransport
from gateway.store import MailQueue, Store
from tests.gateway.mail_support import START

TRIALS = 5
GENEROUS_S = 30.0


def queue_worker(store: Store, folder: Path, *, poll_seconds: float) -> QueueWorker:
    return QueueWorker(
        MailQueue(store.engine),
        MaildirTransport(folder / "mail", ["example.org"]),
        clock=lambda: START,
        hostname="gw",
        lifetime=timedelta(days=1),
        poll_seconds=poll_seconds,
    )


async def test_a_worker_cancelled_as_it_is_woken_stops(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    async with await Store.open(sqlite_database_url) as store:
        worker = queue_worker(store, tmp_path, poll_seconds=0.5)
        for _ in range(TRIALS):
            task = asyncio.create_task(worker.run(Passes()))
            # Let it reach its wait between rounds (if it has not, the trial is only weaker).
            await asyncio.sleep(0.1)
            worker.wake()
            await asyncio.sleep(0)  # what it waits for completes...
            task.cancel()  # ...and the cancellation arrives at the same moment
            done, _ = await asyncio.wait({task}, timeout=GENEROUS_S)
            assert done, "the cancellation was swallowed: the worker kept going"
            assert task.cancelled()


async def test_a_waiting_worker_stops_at_once_when_asked(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    async with await Store.open(sqlite_database_url) as store:
        worker = queue_worker(store, tmp_path, poll_seconds=3600.0)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(GENEROUS_S), running(worker.run, "mail-queue", grace=GENEROUS_S):
            await worker.settled()
            began = loop.time()
        assert loop.time() - began < GENEROUS_S / 2
