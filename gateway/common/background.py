"""Work a gateway does in the background while it runs: one task, cancelled at shutdown
(``running``), and a pass repeated every few seconds that logs a failure and tries again
at the next pass (``every``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def running(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``work`` as a task named ``name`` for as long as the context lasts."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def every(
    seconds: Callable[[], float],
    one_pass: Callable[[], Awaitable[object]],
    *,
    log: logging.Logger,
    could_not: str,
    failing: str,
    passing: tuple[type[Exception], ...] = (),
) -> None:
    """``one_pass`` every ``seconds()`` seconds, for ever. An error of a ``passing`` kind
    (the database is away: the next pass will do it) is a warning, "could not
    {could_not}: ..."; anything else is logged with its traceback, "{failing} failed"."""
    while True:
        await asyncio.sleep(seconds())
        try:
            await one_pass()
        except passing as exc:
            log.warning("could not %s: %s", could_not, exc)
        except Exception:
            log.exception("%s failed; trying again next time", failing)
