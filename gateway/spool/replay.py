"""Replaying a spool: what was kept while the store was down, recorded once it is back.

``SpoolReplayer`` is the background worker for one spool (``gateway.spool.maildir``). It runs a
round at start-up (a spool left by a process that crashed is drained), whenever
something is kept, and every ``poll`` seconds (a file an operator moved back from
``bad/`` is picked up). While the store stays down it backs off, doubling the gap up to
``longest_gap``; kept things are replayed oldest first, and a round stops at the first
one the store cannot take, so they are recorded in arrival order. A file is deleted
only once its replay returned, that is once its record is committed.

What a replay is depends on the spool: a text takes the live path again
(``gateway.twilio.sms_replay``), a call's incident is appended as it was kept
(``gateway.twilio.incident_spool``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic

from aiohttp import web

from gateway.spool.maildir import K, Spool
from gateway.store import StoreUnavailable

# Something whose replay fails this often for a reason other than the store (a fault in
# the gateway, not in the database) is moved to bad/ so it stops holding others up.
MAX_FAULTS = 5


@dataclass(frozen=True, slots=True)
class ReplayTiming:
    """How the workers wait (seconds): tests make these short."""

    first_gap: float = 1.0
    longest_gap: float = 60.0
    attempt_timeout: float = 15.0
    poll: float = 60.0

    def gap(self, failures: int) -> float:
        """The wait after ``failures`` rounds in a row found the store down."""
        return float(min(self.first_gap * 2 ** max(failures - 1, 0), self.longest_gap))


REPLAY_TIMING = web.AppKey("spool_replay_timing", ReplayTiming)

# Replays one kept thing within the given seconds; returns how it went, for the log.
Replay = Callable[[K, float], Awaitable[str]]


class Round(Enum):
    """How a replay round ended."""

    EMPTY = "empty"  # nothing left in the spool
    BLOCKED = "blocked"  # the store is still unavailable: back off
    FAULTED = "faulted"  # some failed for another reason: try them again later


def store_unavailable(error: BaseException) -> bool:
    """Unavailable, or too slow to answer in time: the store will take it later, so it
    is kept. Anything else is a fault to report, not to wait out."""
    return isinstance(error, StoreUnavailable | TimeoutError)


class SpoolReplayer(Generic[K]):
    """Keeps things in ``spool`` and replays them into the store in the background."""

    def __init__(
        self, spool: Spool[K], replay: Replay[K], timing: ReplayTiming, *, logger: str
    ) -> None:
        self.spool = spool
        self._replay = replay
        self._timing = timing
        self._log = logging.getLogger(logger)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._faults: dict[str, int] = {}

    async def add(self, item: K) -> bool:
        """Keep ``item`` durably and have it replayed; False if its key is already kept."""
        kept = await self.spool.keep(item)
        self._wake.set()
        return kept

    async def holds(self, key: str) -> bool:
        """True when something kept under ``key`` is waiting to be replayed."""
        return await self.spool.holds(key)

    def wake(self) -> None:
        """Replay soon (unless backing off while the store is down)."""
        self._wake.set()

    def start(self) -> None:
        """Run the worker in the background until :meth:`stop`."""
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self.run(), name=self.spool.name)

    async def stop(self, within: float = 5.0) -> None:
        """Let a replay under way finish (bounded), then stop the worker."""
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        _, pending = await asyncio.wait({task}, timeout=within)
        if pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run(self) -> None:
        """Replay rounds until stopped: at once, then when woken, backing off while down."""
        blocked = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                outcome = await self.step()
            except Exception:  # e.g. the spool directory cannot be read: try again later
                self._log.exception("%s: a replay round failed", self.spool.name)
                outcome = Round.FAULTED
            if outcome is Round.EMPTY:
                blocked = 0
                await self._wait(self._wake, self._timing.poll)
                continue
            blocked += 1
            # While backing off, newly kept files do not wake the worker early: the store
            # is down, and it would only be asked more often.
            await self._wait(self._stop, self._timing.gap(blocked))

    async def step(self) -> Round:
        """Replay everything kept once, oldest first; stop at the first the store refuses."""
        outcome = Round.EMPTY
        name = self.spool.name
        for item in await self.spool.pending():
            if self._stop.is_set():
                return Round.BLOCKED
            try:
                how = await self._replay(item, self._timing.attempt_timeout)
            except Exception as exc:
                if store_unavailable(exc):
                    self._log.warning(
                        "%s: the store cannot take %s yet (%s: %s); it stays kept",
                        name,
                        item.label,
                        type(exc).__name__,
                        exc,
                    )
                    return Round.BLOCKED
                await self._fault(item, exc)
                outcome = Round.FAULTED
                continue
            await self.spool.remove(item)
            self._faults.pop(item.key, None)
            self._log.info(
                "%s: %s (arrived %s) replayed: %s",
                name,
                item.label,
                item.arrived.isoformat(),
                how,
            )
        return outcome

    async def _fault(self, item: K, error: Exception) -> None:
        count = self._faults[item.key] = self._faults.get(item.key, 0) + 1
        self._log.error(
            "%s: replaying %s failed (%d of %d tries): %s: %s",
            self.spool.name,
            item.label,
            count,
            MAX_FAULTS,
            type(error).__name__,
            error,
            exc_info=error,
        )
        if count >= MAX_FAULTS and item.path is not None:
            del self._faults[item.key]
            await self.spool.set_aside(item.path, f"{count} replays failed, the last with {error}")

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)
