"""Deadlines that do not blame a peer for this process's own busy event loop.

A Redis answers in well under a millisecond, so a contact's wait for it is bounded by
a few tens of milliseconds. But on one event loop, a burst of contacts (a hundred
webhooks at once, each opening a connection and hashing its evidence) can keep the
loop from reading an answer that arrived long ago: a plain ``asyncio.timeout`` then
fires and Redis is declared slow when it was not. Every gateway would then count on
its own for a while, which is exactly what sharing Redis is for avoiding.

So the loop measures itself while anyone is waiting: a tick every few milliseconds
notes how late it ran. ``LoopLag.deadline(timeout_s, hard_s=...)`` is
``asyncio.timeout(timeout_s)`` extended by the time the loop was too busy to run
anything, never beyond ``hard_s`` in all. With an idle loop it is exactly
``timeout_s``; a hung Redis is still found out within ``hard_s`` however busy we are.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

TICK_S = 0.002


class LoopLag:
    """How late the running event loop has been, measured only while someone waits."""

    def __init__(self, *, tick_s: float = TICK_S, keep: int = 1024) -> None:
        self._tick_s = tick_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (ran at, late by)
        self._waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    @property
    def ticking(self) -> bool:
        """True while someone waits (and only then does the loop measure itself)."""
        return self._handle is not None

    def lag_since(self, since: float, now: float) -> float:
        """Seconds since ``since`` during which the loop ran nothing that was due."""
        total = max(0.0, now - self._due) if self._handle is not None else 0.0
        for ran_at, late in reversed(self._samples):
            if ran_at <= since:
                break
            total += min(late, ran_at - since)
        return total

    @asynccontextmanager
    async def deadline(self, timeout_s: float, *, hard_s: float) -> AsyncIterator[None]:
        """Raise TimeoutError in the body after ``timeout_s`` of the loop's own time."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        hard = started + max(hard_s, timeout_s)
        self._begin(loop)
        try:
            async with asyncio.timeout(None) as timeout:
                judge: list[asyncio.TimerHandle] = []

                def decide() -> None:
                    now = loop.time()
                    due = min(started + timeout_s + self.lag_since(started, now), hard)
                    if now < due:
                        judge[0] = loop.call_at(due, decide)  # the loop was busy: wait on
                    else:
                        timeout.reschedule(now)  # fires at once

                judge.append(loop.call_at(started + timeout_s, decide))
                try:
                    yield
                finally:
                    judge[0].cancel()
        finally:
            self._end()

    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self._waiting += 1
        if self._handle is None or self._loop is not loop:
            self._loop = loop
            self._schedule(loop.time())

    def _end(self) -> None:
        self._waiting -= 1
        if self._waiting == 0 and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self._tick_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        self._samples.append((now, max(0.0, now - self._due)))
        self._schedule(now)
