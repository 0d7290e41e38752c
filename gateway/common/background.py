"""Work a gateway does in the background while it runs: a loop of passes (``running``),
such as a pass repeated every few seconds that logs a failure and tries again at the
next pass (``every``).

At shutdown a loop is asked to stop between two passes, never in the middle of one: a
pass cancelled mid-transaction leaves its SQLite connection, and the write lock with
it, held until garbage collection, and a message still being received then waits 30 s
for the lock and is refused with ``451``. So ``running`` tells the loop's ``Passes``
to stop, waits up to a grace for the pass under way to finish, and only then cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a pass under way at shutdown may take to finish before it is cancelled.
STOP_GRACE_S = 10.0


class Passes:
    """What a loop asks between passes: whether to stop, and to wait for the next pass
    (a wait that ends at once when it is time to stop)."""

    def __init__(self) -> None:
        self._stop = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` before the next pass: True to make it, False to stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        return not self.stopping

    async def unless_stopping(self, waiting: Awaitable[T]) -> T | None:
        """What ``waiting`` gives (the next piece of work), or None, with ``waiting``
        cancelled, if it is time to stop first. Once stopping, None at once, even with
        work waiting: the loop ends at its next pass, not when the work runs out."""
        if self.stopping:
            if inspect.iscoroutine(waiting):
                waiting.close()  # never started: nothing was taken
            return None
        work = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait((work, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        return work.result() if work.done() and not work.cancelled() else None


Loop = Callable[[Passes], Coroutine[Any, Any, None]]


@contextlib.asynccontextmanager
async def running(loop: Loop, name: str, *, grace: float = STOP_GRACE_S) -> AsyncIterator[None]:
    """Run ``loop`` as a task named ``name`` for as long as the context lasts; then stop
    it between passes (cancelled only if its pass takes longer than ``grace`` s)."""
    passes = Passes()
    task = asyncio.create_task(loop(passes), name=name)
    try:
        yield
    finally:
        await _stop(task, passes, grace)


async def _stop(task: asyncio.Task[None], passes: Passes, grace: float) -> None:
    passes.stop()
    try:
        _, late = await asyncio.wait({task}, timeout=grace)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if late:
        log.warning("%s did not stop within %g s of being asked; cancelled", task.get_name(), grace)
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def every(
    seconds: Callable[[], float],
    one_pass: Callable[[], Awaitable[object]],
    *,
    log: logging.Logger,
    could_not: str,
    failing: str,
    passing: tuple[type[Exception], ...] = (),
) -> Loop:
    """A loop for ``running``: ``one_pass`` every ``seconds()`` seconds until stopped. An
    error of a ``passing`` kind (the database is away: the next pass will do it) is a
    warning, "could not {could_not}: ..."; anything else is logged with its traceback,
    "{failing} failed"."""

    async def loop(passes: Passes) -> None:
        while await passes.pause(seconds()):
            try:
                await one_pass()
            except passing as exc:
                log.warning("could not %s: %s", could_not, exc)
            except Exception:
                log.exception("%s failed; trying again next time", failing)

    return loop
