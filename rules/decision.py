"""The values ``decide`` takes and returns: a contact, a customer's usage, a decision.

Plain frozen dataclasses rather than pydantic models: ``decide`` runs for every inbound
contact and must stay cheap, and these values never come from untrusted input directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from rules.decision_parts import HoldReason, LimitCount, WindowOccurrence
from rules.frozen import direct_init
from rules.models import Channel

if TYPE_CHECKING:
    from rules.notices import NoticeFacts

__all__ = [
    "EMPTY_USAGE",
    "Action",
    "Contact",
    "Decision",
    "HoldReason",
    "LimitCount",
    "Reason",
    "Usage",
    "WindowOccurrence",
]


class Action(StrEnum):
    """What happens to a contact."""

    DELIVER = "deliver"  # email/SMS passed on (to ``deliver_to``)
    HOLD = "hold"  # stored whole, not passed on
    CONNECT = "connect"  # a call put through to ``deliver_to``
    MESSAGE = "message"  # a call answered with a spoken message, then hung up
    VOICEMAIL = "voicemail"  # a call answered by a recording, held for reading


@dataclass(frozen=True, slots=True)
class Contact:
    """One inbound contact, already identified by channel and normalised addresses.

    ``sender`` is a lower-cased email address or an E.164 number; ``recipient`` is the
    staff address or number the customer used. ``emergency_requested`` is set when a
    caller pressed the emergency option. ``by_appointment`` is set on a visit an
    officer records that had been arranged in advance.
    """

    channel: Channel
    sender: str
    recipient: str
    at: datetime
    text: str = ""
    emergency_requested: bool = False
    by_appointment: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """A customer's delivered contacts: channel -> the instants they were delivered.

    Only delivered contacts are in it (excess and held contact never count toward a
    cap). It need only reach back as far as the longest limit period.
    """

    delivered: Mapping[Channel, Sequence[datetime]] = field(default_factory=dict)

    def within(self, channel: Channel | None, since: datetime, until: datetime) -> list[datetime]:
        """Delivery instants in the half-open period ``(since, until]``, oldest first.

        ``channel=None`` means every channel (a limit on ``any``).
        """
        channels = self.delivered.keys() if channel is None else (channel,)
        found = [at for c in channels for at in self.delivered.get(c, ()) if since < at <= until]
        found.sort()
        return found

    def count(self, channel: Channel | None, since: datetime, until: datetime) -> int:
        """How many delivery instants ``within`` would give (without sorting them)."""
        # (A plain loop: counted for every capped contact, and a generator's sum costs
        # twice as much for the few instants a customer has.)
        n = 0
        delivered = self.delivered
        for times in delivered.values() if channel is None else (delivered.get(channel, ()),):
            for at in times:
                if since < at <= until:
                    n += 1
        return n


EMPTY_USAGE = Usage()


@direct_init
@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a machine-readable code naming the restriction and clause, and plain text."""

    code: str
    text: str
    restriction_id: str | None = None
    clause: str | None = None


@direct_init
@dataclass(frozen=True, slots=True)
class Decision:
    """The one outcome for a contact, with everything a channel and the evidence need."""

    action: Action
    reasons: tuple[Reason, ...]
    deliver_to: str | None = None
    customer_id: str | None = None
    restriction_id: str | None = None
    officer_id: str | None = None
    via_representative: str | None = None
    exemption: str | None = None
    hold_reason: HoldReason | None = None
    counts: tuple[LimitCount, ...] = ()
    counted: bool = False
    call_time_limit: int | None = None
    record_call: bool = False
    offer_emergency: bool = False
    next_window: WindowOccurrence | None = None
    notice_facts: NoticeFacts | None = None

    @property
    def notice(self) -> str | None:
        """What to tell the customer instead, when the restriction says to tell them.

        Worded only when asked for: most held contact is not answered (a customer is
        told at most once a day per channel), and wording is the dearest part of a
        decision.
        """
        if self.notice_facts is None:
            return None
        from rules.notices import notice_text

        return notice_text(self.notice_facts)

    @property
    def restricted(self) -> bool:
        """True when the contact is from someone with an active restriction: evidence is due."""
        return self.restriction_id is not None

    @property
    def held(self) -> bool:
        return self.action in (Action.HOLD, Action.VOICEMAIL)

    @property
    def excess(self) -> bool:
        return self.hold_reason is HoldReason.EXCESS
