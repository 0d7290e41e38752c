"""Parts of a decision that the notices and the call windows build too.

A held decision says why (``HoldReason``), which cap applied (``LimitCount``) and when
the next call window opens (``WindowOccurrence``). ``rules.notices`` and
``rules.windows`` make these, and ``rules.decision`` words its notice through
``rules.notices``; keeping the parts here lets each import them without importing the
others back. ``rules.decision`` re-exports them, so callers name them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rules.frozen import direct_init


class HoldReason(StrEnum):
    """Why contact was held or a call refused: the clause that stopped it."""

    NO_CONTACT = "no_contact"
    REPRESENTATIVE_ONLY = "representative_only"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    OUTSIDE_CALL_WINDOW = "outside_call_window"
    EXCESS = "excess"
    READ_AND_FILE = "read_and_file"
    OFF_ROUTE = "off_route"  # sent elsewhere than the dedicated route, which says hold


@direct_init
@dataclass(frozen=True, slots=True)
class LimitCount:
    """A cap as it stood when the decision was made (the counts that applied)."""

    restriction_id: str
    channel: str
    max: int
    per: str
    used: int


@direct_init
@dataclass(frozen=True, slots=True)
class WindowOccurrence:
    """One concrete call window: local date and wall times, plus the UTC instants."""

    day: str  # e.g. "Tuesday 24 November"
    words: str  # e.g. "Tuesday 24 November between 10 am and 12 noon"
    starts_at: datetime
    ends_at: datetime
