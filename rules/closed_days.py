"""Days the office is closed: the bank holidays of its nation and the closures an
administrator sets (the days between Christmas and New Year, say).

No call window applies on a closed day, and the next window a caller is told about is
never on one. Which days they are is the gateway's business (the ``holidays`` library
and the organisation's settings); here they are a value, passed in like ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class ClosedKind(StrEnum):
    """Why the office is closed on a day; a caller is told which."""

    BANK_HOLIDAY = "bank_holiday"
    CLOSURE = "closure"  # set by an administrator


@dataclass(frozen=True, slots=True)
class ClosedDays:
    """The local dates on which the office is closed, and why.

    A day that is both (an administrator closed Christmas Day too) is a bank holiday:
    that is the reason a caller recognises.
    """

    bank_holidays: frozenset[date] = frozenset()
    closures: frozenset[date] = frozenset()
    # Both together, for the one membership test the call windows make per day.
    days: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", self.bank_holidays | self.closures)

    def why(self, day: date) -> ClosedKind | None:
        """Why the office is closed on ``day``, or None when it is open."""
        if day in self.bank_holidays:
            return ClosedKind.BANK_HOLIDAY
        if day in self.closures:
            return ClosedKind.CLOSURE
        return None


NO_CLOSED_DAYS = ClosedDays()
