"""The one place the service reads the time: injected everywhere else (STYLE §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current instant, tz-aware UTC."""
    return datetime.now(UTC)
