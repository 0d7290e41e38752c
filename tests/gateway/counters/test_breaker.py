"""The circuit breaker in front of Redis, on a clock the test moves."""

from __future__ import annotations

import pytest

from gateway.counters.breaker import BreakerState, CircuitBreaker


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """Read afresh each time (mypy would otherwise narrow the property across calls)."""
    return breaker.state


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def test_opens_after_n_failures_in_a_row_and_a_success_resets_the_count(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failures=3, cool_down_s=1.0, clock=ticks)
    for _ in range(2):
        ticket = breaker.attempt()
        assert ticket is not None
        breaker.failed(ticket)
    ticket = breaker.attempt()
    assert ticket is not None
    breaker.succeeded(ticket)
    for _ in range(2):
        ticket = breaker.attempt()
        assert ticket is not None
        breaker.failed(ticket)
    assert breaker.closed
    ticket = breaker.attempt()
    assert ticket is not None
    breaker.failed(ticket)
    assert state_of(breaker) is BreakerState.OPEN
    assert breaker.attempt() is None


def test_one_timeout_opens_at_once(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failures=3, cool_down_s=1.0, clock=ticks)
    ticket = breaker.attempt()
    assert ticket is not None
    breaker.failed(ticket, timeout=True)
    assert state_of(breaker) is BreakerState.OPEN


def test_after_the_cool_down_one_trial_closes_or_reopens(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failures=1, cool_down_s=1.0, clock=ticks)
    first = breaker.attempt()
    assert first is not None
    breaker.failed(first)
    ticks.now += 0.9
    assert breaker.trial() is None
    ticks.now += 0.2
    trial = breaker.trial()
    assert trial is not None and state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.trial() is None  # only one trial at a time
    assert breaker.attempt() is None  # ordinary calls still wait
    breaker.failed(trial)
    assert state_of(breaker) is BreakerState.OPEN
    ticks.now += 1.0
    trial = breaker.trial()
    assert trial is not None
    breaker.succeeded(trial)
    assert breaker.closed and breaker.attempt() is not None


def test_stale_tickets_change_nothing(ticks: Ticks) -> None:
    """A call that began before the breaker opened, and ends after, is not evidence
    about the Redis now: it neither closes nor re-opens the breaker."""
    breaker = CircuitBreaker(failures=1, cool_down_s=1.0, clock=ticks)
    early = breaker.attempt()
    late = breaker.attempt()
    assert early is not None and late is not None
    breaker.failed(early)
    breaker.succeeded(late)
    assert state_of(breaker) is BreakerState.OPEN
    ticks.now += 1.0
    trial = breaker.trial()
    assert trial is not None
    breaker.failed(late)
    assert state_of(breaker) is BreakerState.HALF_OPEN
    breaker.succeeded(trial)
    assert breaker.closed


def test_an_abandoned_trial_is_offered_again_and_force_trial_skips_the_wait(
    ticks: Ticks,
) -> None:
    breaker = CircuitBreaker(failures=1, cool_down_s=1.0, clock=ticks)
    breaker.trip()
    ticks.now += 1.0
    assert breaker.trial() is not None  # ... and its caller is cancelled, never reports
    ticks.now += 1.0
    assert breaker.trial() is not None
    closed = CircuitBreaker(clock=ticks)
    trial = closed.force_trial()
    assert closed.attempt() is None
    closed.succeeded(trial)
    assert closed.closed


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(failures=0)
