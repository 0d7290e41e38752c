"""A retried contact gets the decision that was recorded for it, not a fresh one.

Deciding again could differ (the first attempt used the last place under a cap, so the
retry would look like excess) and could use up the day's one notice. The evidence
record holds everything the channel needs to answer the same way again.
"""

from __future__ import annotations

from typing import Any

from gateway.store import EvidenceRecord
from rules.decision import Action, Decision, HoldReason, LimitCount, Reason


def decision_from_record(record: EvidenceRecord) -> Decision:
    """The decision as it was recorded (its notice wording is in ``record.details``)."""
    details: dict[str, Any] = record.details
    return Decision(
        action=Action(record.action),
        reasons=tuple(Reason(**reason) for reason in record.reasons),
        deliver_to=record.deliver_to,
        customer_id=record.customer_id,
        restriction_id=record.restriction_id,
        officer_id=details.get("officer_id"),
        via_representative=details.get("via_representative"),
        exemption=record.exemption,
        hold_reason=HoldReason(record.hold_reason) if record.hold_reason else None,
        counts=tuple(LimitCount(**count) for count in record.counts),
        counted=record.counted,
        call_time_limit=details.get("call_time_limit"),
        record_call=bool(details.get("record_call")),
        offer_emergency=bool(details.get("offer_emergency")),
    )
