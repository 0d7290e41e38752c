"""Releasing held email: an officer decides a held message must go on after all.

The stored message is queued for delivery to the staff it was addressed to (the
original recipients in its evidence record), with a header saying who released it,
and the held contact is marked released in the audit log. Queueing comes first and is
idempotent on the held contact's id, so a release that fails half-way can be repeated
without delivering the message twice.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from channels.smtp.headers import assemble, field_name, fold, split_header
from channels.smtp.message import GATEWAY_FIELD_PREFIX
from gateway.decisions.staff_notes import StaffNotes
from gateway.mail.banner import with_banner
from gateway.mail.queue import QueueWorker
from gateway.store import HeldContact, HeldStateError, HeldStatus, NewMail, NotFound, Store

_RELEASABLE = (HeldStatus.HELD.value, HeldStatus.REVIEWED.value)


async def release_held_email(
    store: Store,
    worker: QueueWorker,
    held_id: int,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> HeldContact:
    """Queue a held email for delivery to its original recipients and mark it released."""
    held = await store.get_held(held_id)
    if held is None:
        raise NotFound(f"there is no held contact {held_id}")
    if held.channel != "email":
        raise HeldStateError(f"held contact {held_id} is {held.channel}, not email")
    if held.status not in _RELEASABLE:
        raise HeldStateError(f"held contact {held_id} is already {held.status}")
    record = await store.get_evidence(held.evidence_seq)
    content = await store.get_content(held.content_sha256) if held.content_sha256 else None
    if record is None or content is None:
        raise NotFound(f"the stored message for held contact {held_id} is missing")
    recipients = tuple(record.details.get("original_recipients") or (held.recipient,))
    fields, body = split_header(content)
    # As on delivery, fields that claim to be the gateway's and came from outside go.
    fields = [f for f in fields if not field_name(f).startswith(GATEWAY_FIELD_PREFIX)]
    stamp = [fold("X-Contact-Gateway-Released", f"by {actor}; {format_datetime(now)}")]
    # Staff are shown the customer's restriction and warning flags, as on delivery.
    restrictions = [record.restriction_id] if record.restriction_id else []
    staff = await StaffNotes(store).for_customer(record.customer_id or "", restrictions)
    if staff is not None and staff.headers:
        stamp += [fold(name, value) for name, value in staff.header_fields()]
    released = assemble(stamp, fields, body)
    if staff is not None and staff.banner:
        released = with_banner(released, staff.line())
    await worker.enqueue(
        NewMail(
            queue_key=f"release:{held_id}",
            kind="release",
            mail_from=str(record.details.get("envelope_sender") or ""),
            recipients=recipients,
            content=released,
        )
    )
    return await store.release_held(held_id, actor=actor, note=note)
