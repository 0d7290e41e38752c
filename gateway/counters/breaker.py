"""A circuit breaker: stop waiting on a peer that is failing, and try it again later.

Used in front of the shared Redis: a contact must be decided within milliseconds, so
once Redis has failed (``failures`` errors in a row, or a single timeout: a slow Redis
is as bad as a dead one) the breaker *opens* and callers stop asking it for
``cool_down_s`` seconds. After the cool-down one caller gets the *trial*; if it goes
well the breaker closes again, otherwise it opens for another cool-down.

Callers take a ticket before each call and report the outcome with it. A ticket names
the state it was issued in, so a call that started before the breaker opened (or before
a trial) and finishes afterwards cannot close or re-open a breaker that has moved on:
it reported on a Redis that is no longer the one being judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Closed: calls go through. Open: none do. After the cool-down: one trial."""

    def __init__(
        self,
        *,
        failures: int = 3,
        cool_down_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or cool_down_s <= 0:
            raise ValueError("a breaker needs failures >= 1 and a positive cool-down")
        self.failures = failures
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._epoch = 0  # moves on every change of state; tickets carry it
        self._consecutive = 0
        self._since = clock()  # when the current state began

    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._state is BreakerState.CLOSED

    def attempt(self) -> int | None:
        """A ticket for one ordinary call, or None unless the breaker is closed."""
        return self._epoch if self._state is BreakerState.CLOSED else None

    def trial(self) -> int | None:
        """The ticket for the one trial call, once the cool-down has passed; else None.

        A trial whose caller never reported (it was cancelled) is given again after
        another cool-down, so the breaker cannot stay half-open forever.
        """
        if self._state is BreakerState.CLOSED:
            return None
        if self._clock() - self._since < self.cool_down_s:
            return None
        self._move(BreakerState.HALF_OPEN)
        return self._epoch

    def force_trial(self) -> int:
        """Stop ordinary calls now and hand out the trial at once.

        For a peer that answers but must be repaired before it is used again (a Redis
        that came back empty): nothing to wait for, but nobody may use it meanwhile.
        """
        self._move(BreakerState.HALF_OPEN)
        return self._epoch

    def succeeded(self, ticket: int) -> None:
        """The call with ``ticket`` went well: reset the count, or close after a trial."""
        if ticket != self._epoch:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED)
        self._consecutive = 0

    def failed(self, ticket: int, *, timeout: bool = False) -> None:
        """The call with ``ticket`` failed; a timeout or the n-th failure in a row opens."""
        if ticket != self._epoch:
            return
        self._consecutive += 1
        if self._state is BreakerState.HALF_OPEN or timeout or self._consecutive >= self.failures:
            self._move(BreakerState.OPEN)

    def trip(self) -> None:
        """Open now, whatever the count (a caller knows the peer cannot be used)."""
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        self._state = state
        self._epoch += 1
        self._consecutive = 0
        self._since = self._clock()
