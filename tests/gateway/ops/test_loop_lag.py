"""Deadlines that discount the time this event loop was too busy to read an answer.

These measure wall-clock behaviour of the deadline itself, so the loop is made busy
for real (a callback that blocks it), for a bounded fraction of a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from gateway.ops.loop_lag import LoopLag

TIMEOUT_S = 0.05


def answer_after_blocking(fut: asyncio.Future[str], block_s: float) -> Callable[[], None]:
    """Block the loop (a burst of work), then let the answer in, just after the timer."""

    def run() -> None:
        time.sleep(block_s)
        asyncio.get_running_loop().call_soon(fut.set_result, "answer")

    return run


async def answered(deadline: AbstractAsyncContextManager[object]) -> str:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[str] = loop.create_future()
    loop.call_later(0.01, answer_after_blocking(fut, 3 * TIMEOUT_S))
    async with deadline:
        return await fut


async def test_time_the_loop_was_busy_does_not_count() -> None:
    assert await answered(LoopLag().deadline(TIMEOUT_S, hard_s=1.0)) == "answer"


async def test_control_a_plain_timeout_blames_the_peer_for_our_busy_loop() -> None:
    with pytest.raises(TimeoutError):
        await answered(asyncio.timeout(TIMEOUT_S))


async def test_an_idle_loop_times_out_on_time() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with LoopLag().deadline(TIMEOUT_S, hard_s=1.0):
            await never
    assert TIMEOUT_S <= time.monotonic() - started < TIMEOUT_S + 0.1


@pytest.fixture
async def busy_loop() -> AsyncIterator[None]:
    """Keep the loop blocked 20 ms in every 21, until the test ends."""
    loop = asyncio.get_running_loop()
    running = True

    def block() -> None:
        time.sleep(0.02)
        if running:
            loop.call_later(0.001, block)

    loop.call_soon(block)
    yield
    running = False


@pytest.mark.usefixtures("busy_loop")
async def test_however_busy_the_loop_the_hard_limit_holds() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with LoopLag().deadline(TIMEOUT_S, hard_s=0.2):
            await never
    assert 0.2 <= time.monotonic() - started < 0.4


async def test_the_ticker_runs_only_while_someone_waits() -> None:
    lag = LoopLag()
    async with lag.deadline(TIMEOUT_S, hard_s=1.0):
        await asyncio.sleep(0.01)
        assert lag.ticking
    assert not lag.ticking
