"""Releasing held contact to the named officer, through the mail queue.

An officer decides a held contact must go on after all. It goes where a delivered
contact under the restriction would have gone: to the named officer (or the deputy
covering an absence). An email keeps its content byte for byte and gains header fields
saying where it was addressed, why it was held and who released it; an SMS, voicemail
or recorded contact (letter, visit...) becomes an email to the officer carrying the text
or the reference. Queueing comes first, keyed by the held contact, so a release retried
after a failure never delivers twice; then the held contact is marked released, audited.

Where it goes: ``to``, an address a person typed, must be a plain staff address (one of
the organisation's domains); ``destination`` is one the gateway chose itself from its
settings (a protected route such as the appeals address, for an item its reader said
is an appeal) and is trusted as it is. Without either, the named officer as above.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aiohttp import web

from channels.smtp.headers import assemble, fold, split_header
from gateway.api.deps import Api
from gateway.api.errors import ApiError, FieldProblem
from gateway.mail.lifecycle import MAIL
from gateway.store import (
    ContentAltered,
    HeldContact,
    HeldStateError,
    HeldStatus,
    NewMail,
    NotFound,
)
from gateway.store.evidence import EvidenceRecord
from rules.engine import covering_officer
from rules.identity import IdentityError, normalise_email

_RELEASABLE = (HeldStatus.HELD.value, HeldStatus.REVIEWED.value)


async def release(
    app: web.Application,
    api: Api,
    held_id: int,
    *,
    actor: str,
    note: str | None,
    to: str | None,
    destination: str | None = None,
    raises: str | None = None,
) -> tuple[HeldContact, list[str]]:
    """Send a held contact on and mark it released; ``raises`` is what its reader said it
    raises (an appeal, a new matter...) when that is why, kept with the resolution."""
    if to is not None and destination is not None:
        raise ValueError("give a typed 'to' or a trusted destination, not both")
    store = api.admin.store
    held = await store.get_held(held_id)
    if held is None:
        raise NotFound(f"there is no held contact {held_id}")
    if held.status not in _RELEASABLE:
        raise HeldStateError(f"held contact {held_id} is already {held.status}")
    record = await store.get_evidence(held.evidence_seq)
    try:
        content = await store.get_content(held.content_sha256) if held.content_sha256 else None
    except ContentAltered as exc:
        raise ApiError(
            409,
            f"held contact {held_id} is not released: its stored content has been altered "
            f"since it was recorded (evidence record {held.evidence_seq}): {exc.detail}",
        ) from None
    if record is None:
        raise NotFound(f"the evidence record for held contact {held_id} is missing")
    recipients = (
        [destination] if destination is not None else await _recipients(api, held, record, to)
    )
    runtime = app.get(MAIL)
    if runtime is None:
        raise ApiError(503, "email delivery is not running, so nothing can be released now")
    now = api.clock()
    stamp = f"by {actor}; {format_datetime(now)}"
    if held.channel == "email" and content is not None:
        fields, body = split_header(content)
        new = [
            fold("X-Contact-Gateway-Released", stamp),
            fold("X-Contact-Gateway-Original-To", held.recipient),
            fold(
                "X-Contact-Gateway-Redirected",
                f"held ({held.hold_reason}) under restriction {held.restriction_id}; released "
                f"to {', '.join(recipients)}",
            ),
        ]
        mail = assemble(new, fields, body)
        mail_from = str(record.details.get("envelope_sender") or "")
    else:
        mail = _summary_mail(api, held, record, content, recipients, stamp)
        mail_from = ""
    await runtime.worker.enqueue(
        NewMail(
            queue_key=f"release:{held_id}",
            kind="release",
            mail_from=mail_from,
            recipients=tuple(recipients),
            content=mail,
        )
    )
    released = await store.release_held(held_id, actor=actor, note=note, raises=raises)
    delivered: dict[str, object] = {"to": recipients}
    if raises is not None:
        delivered["raises"] = raises
    await store.append_audit(
        actor, "release_delivered", "held_contact", str(held_id), None, delivered
    )
    return released, recipients


def _staff_address(api: Api, to: str) -> str:
    """``to`` as a bare staff address, or a 422 naming ``body.to``.

    A line break would let the value add headers (or recipients) to the mail sent on,
    so anything but a plain address is refused, never quietly cleaned up.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in to):
        raise ApiError(
            422,
            f"{to!r} contains a line break or another control character",
            [FieldProblem("body.to", "control character")],
        )
    try:
        address = normalise_email(to)
    except IdentityError as exc:
        raise ApiError(422, str(exc), [FieldProblem("body.to", "not an email address")]) from None
    if address.rpartition("@")[2] not in api.settings.org_domains:
        raise ApiError(
            422,
            f"'{to}' is not a staff address: released contact goes to "
            f"{', '.join(api.settings.org_domains)} only",
            [FieldProblem("body.to", "not a staff address")],
        )
    return address


async def _recipients(
    api: Api, held: HeldContact, record: EvidenceRecord, to: str | None
) -> list[str]:
    if to is not None:
        address = _staff_address(api, to)
        return [address]
    index = await api.service.policy()
    restriction = index.restriction(held.restriction_id)
    officer = covering_officer(index, restriction.named_officer if restriction else None)
    if officer is not None:
        return [officer.email]
    if held.channel == "email":
        original = record.details.get("original_recipients") or [held.recipient]
        return [str(r) for r in original]
    raise ApiError(
        422,
        "the restriction names no officer, so say who receives it: give 'to', a staff address",
        [FieldProblem("body.to", "required when the restriction names no officer")],
    )


def _summary_mail(
    api: Api,
    held: HeldContact,
    record: EvidenceRecord,
    content: bytes | None,
    recipients: list[str],
    stamp: str,
) -> bytes:
    """An email to the officer carrying a held text, voicemail reference or record."""
    message = EmailMessage()
    domain = api.settings.org_domains[0]
    message["From"] = f"contact-gateway <contact-gateway@{domain}>"
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"Released {held.channel} from {held.sender} (held contact {held.id})"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Contact-Gateway-Released"] = stamp
    text = "" if content is None else content.decode("utf-8", errors="replace")
    lines = [
        f"This {held.channel.replace('_', ' ')} was held under restriction "
        f"{held.restriction_id} ({held.hold_reason}) and has now been released {stamp}.",
        "",
        f"From: {held.sender}",
        f"To: {held.recipient}",
        f"Received: {record.occurred_at.isoformat()}",
        f"Evidence record: {record.seq} (content SHA-256 {held.content_sha256 or 'none'})",
    ]
    reference = record.details.get("recording_url") or record.details.get("recording_sid")
    if reference:
        lines.append(f"Recording: {reference}")
    lines += ["", text or held.summary]
    message.set_content("\n".join(lines))
    return message.as_bytes()
