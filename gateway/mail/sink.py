"""The SMTP channel's ``MailSink``: decide each message, then deliver, queue or hold it.

The no-loss rule is that the client hears ``250`` only once the message is safe:

* mail from people with no restriction in force is relayed at once, before answering,
  and nothing is written to the database (most mail, and the fast path); only if the
  upstream cannot take it now is it queued (durably) for the worker;
* mail from a restricted customer or representative is decided and recorded first
  (``ContactService.handle``: evidence, stored content and any held contact in one
  transaction), then relayed or left held;
* an upstream slower than the relay timeout is not cut off: its attempt goes on, the
  message is queued (claimed by this gateway's worker, so not sent again meanwhile) and
  answered ``250``, and the attempt's outcome settles the queued message — so an
  upstream that accepts after the timeout does not get the message a second time;
* if anything fails before the message is safe, the exception reaches the channel,
  which answers ``451`` and the sending server tries again later. A retry has the same
  contact key, so it finds its evidence record instead of writing a second one.

One decision is made per message, not per recipient: a customer's email to three
members of staff is one contact (counted once against a cap, one evidence record
listing all three), and when it is redirected to the named officer it goes to the
officer once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.utils import getaddresses

from channels.smtp import Disposition, InboundMessage, Outcome, Refusal
from channels.smtp.headers import field_name, split_header
from channels.smtp.message import body_text
from gateway.decisions.service import ContactService
from gateway.decisions.staff_notes import StaffNotes
from gateway.mail import compose
from gateway.mail.banner import with_banner
from gateway.mail.queue import FIRST_RETRY, QueueWorker
from gateway.mail.transport import DeliveryReport, MailTransport
from gateway.matching.matcher import Matcher, Seen
from gateway.ops.logs import bind
from gateway.ops.metrics import Metrics
from gateway.store import HoldEntry, NewMail, Store, StoreError, entry_from_decision
from rules.decision import Contact, Decision
from rules.engine import PROTECTED_ROUTE
from rules.models import Channel
from rules.policy_index import Match, PolicyIndex

log = logging.getLogger(__name__)

NULL_SENDER = "<>"
_SUMMARY_LIMIT = 200


class MailGateway:
    """Implements ``channels.smtp.MailSink`` on the contact service, store and queue."""

    def __init__(
        self,
        service: ContactService,
        store: Store,
        worker: QueueWorker,
        transport: MailTransport,
        *,
        hostname: str,
        clock: Callable[[], datetime],
        relay_timeout: float = 60.0,
        first_retry: timedelta = FIRST_RETRY,
        metrics: Metrics | None = None,
        notes: StaffNotes | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self._service = service
        self._notes = notes
        self._matcher = matcher
        self._relay_timeout = relay_timeout
        self._metrics = metrics
        self._store = store
        self._worker = worker
        self._transport = transport
        self._hostname = hostname
        self._clock = clock
        self._first_retry = first_retry

    async def accept(self, message: InboundMessage) -> Outcome:
        """The channel runs each message in a task of its own, so the ids bound here are
        on every log line about this message, the channel's ``451`` included."""
        _bind_ids(message)
        try:
            return await self._accept(message)
        except StoreError:
            if self._metrics is not None:
                self._metrics.degraded.labels(Channel.EMAIL.value, "store_unavailable").inc()
            raise

    async def _accept(self, message: InboundMessage) -> Outcome:
        index = await self._service.policy()
        now = self._clock()
        sender, restricted = identify(index, message, now)
        protected = protected_recipients(index, message) if restricted else ()
        contact = Contact(
            channel=Channel.EMAIL,
            sender=sender,
            # Mail to a protected route is decided as mail to that route.
            recipient=protected[0]
            if protected
            else scoped_recipient(index, sender, message, now)
            if restricted
            else message.recipients[0].lower(),
            at=now,
            # The body is read only when a restriction could make it matter (exemptions).
            text=message.text() if restricted and not protected else "",
        )
        handled = await self._service.handle(
            contact,
            contact_key=message.contact_key,
            content=message.raw,
            summary=message.subject[:_SUMMARY_LIMIT],
            details=message.evidence_details(),
            notify_allowed=message.may_auto_reply,
        )
        decision = handled.decision
        if decision.restricted and decision.customer_id is not None:
            self._offer_known(message, decision.customer_id)
        notice = handled.notice
        if notice and message.may_auto_reply:
            await self._queue_reply(message, notice)
        if decision.held:
            log.info(
                "%s from %s held (%s), evidence %s",
                message.queue_id,
                sender,
                decision.hold_reason,
                handled.record.seq if handled.record else "-",
            )
            return Outcome(Disposition.HELD)
        recipients, extra = route(message, decision, protected)
        content = await self._for_staff(message, index, decision, extra, now)
        outcome = await self._relay(message, recipients, content)
        if self._matcher is not None and not decision.restricted:
            self._offer_match(index, message, outcome)
        log.info(
            "%s from %s to %s: %s%s",
            message.queue_id,
            sender,
            ", ".join(recipients),
            outcome.disposition,
            " (restricted)" if decision.restricted else "",
        )
        return outcome

    async def _for_staff(
        self,
        message: InboundMessage,
        index: PolicyIndex,
        decision: Decision,
        extra: list[tuple[str, str]],
        now: datetime,
    ) -> bytes:
        """The message as staff get it: with the customer's restrictions and warning
        flags in header fields and a banner, when the organisation shows them
        (gateway.decisions.staff_notes). One dictionary lookup when it has nothing to say."""
        note = None
        if self._notes is not None:
            book = await self._notes.book(index)
            if decision.restricted and decision.customer_id is not None:
                active = index.active_restrictions(decision.customer_id, now)
                note = book.note(decision.customer_id, (r.id for r in active))
            else:
                note = book.note_in(index, (message.header_from, message.sender_address), now)
        if note is not None and note.headers:
            extra = [*extra, *note.header_fields(restriction=not decision.restricted)]
        content = message.for_delivery(extra)
        if note is not None and note.banner:
            content = with_banner(content, note.line())
        return content

    def _offer_known(self, message: InboundMessage, customer_id: str) -> None:
        """A restricted customer's mail goes to the matcher too, which keeps only its
        text's fingerprint: the same text later from an unknown address points to them."""
        if self._matcher is None:
            return
        self._matcher.offer(
            Seen(
                channel=Channel.EMAIL.value,
                identity=message.sender_address or "",
                summary="",
                contact_key=message.contact_key,
                read=lambda: ("", ""),
                customer_id=customer_id,
                read_body=lambda: body_text(message.raw),
            )
        )

    def _offer_match(self, index: PolicyIndex, message: InboundMessage, outcome: Outcome) -> None:
        """Mail passed on from a sender nobody in the policy is goes to the matcher, to be
        compared (later, in its task) with the restricted customers."""
        if outcome.disposition not in (Disposition.DELIVERED, Disposition.QUEUED):
            return
        if not message.envelope_sender or self._matcher is None:
            return  # bounces and notifications are nobody's
        candidates = [c for c in (message.header_from, message.sender_address) if c]
        if not candidates or any(index.resolve(c) is not None for c in candidates):
            return
        self._matcher.offer(
            Seen(
                channel=Channel.EMAIL.value,
                identity=candidates[0],
                summary=message.subject[:_SUMMARY_LIMIT],
                contact_key=message.contact_key,
                read=lambda: (display_name(message.raw), message.text()),
                read_body=lambda: body_text(message.raw),
            )
        )

    async def refuse(self, message: InboundMessage, refusal: Refusal) -> None:
        """Keep a refused message from a restricted sender as evidence (malformed, a
        loop, a line too long, too big: whatever the channel refused once it arrived).

        It is not counted and not delivered; it is held so an officer can read what
        the customer sent (of a message over the size limit, the part within it), and
        the record says it was refused and why.
        """
        _bind_ids(message)
        index = await self._service.policy()
        now = self._clock()
        sender, restricted = identify(index, message, now)
        if not restricted:
            return
        contact = Contact(
            channel=Channel.EMAIL, sender=sender, recipient=message.recipients[0].lower(), at=now
        )
        decision = await self._service.explain(contact)
        if not decision.restricted:
            return
        entry = entry_from_decision(
            decision,
            contact,
            contact_key=message.contact_key,
            policy_version=index.version,
            details={**message.evidence_details(), "refused": refusal.reason},
        )
        entry = dataclasses.replace(
            entry, action="refused", hold_reason=refusal.kind.value, deliver_to=None, counted=False
        )
        words = refusal.kind.value.replace("_", " ")
        summary = f"Refused ({words}): {message.subject}"[:_SUMMARY_LIMIT]
        await self._store.record_contact(
            entry, content=message.raw, hold=HoldEntry(summary=summary)
        )
        log.info("%s from %s refused and kept: %s", message.queue_id, sender, refusal.reason)

    async def _relay(
        self, message: InboundMessage, recipients: Sequence[str], content: bytes
    ) -> Outcome:
        attempt = asyncio.ensure_future(
            self._transport.deliver(
                message.envelope_sender, recipients, content, message.mail_options
            )
        )
        try:
            done, _ = await asyncio.wait({attempt}, timeout=self._relay_timeout)
            if not done:
                # The sender cannot be kept waiting, but the upstream may still take the
                # message: queue it while the attempt goes on, and let the attempt settle it.
                mail = self._relay_mail(message, recipients, content, "the upstream is slow")
                if not await self._worker.follow(mail, attempt):
                    log.info("%s: already queued; the slow attempt goes on", message.queue_id)
                return Outcome(Disposition.QUEUED)
        except BaseException:
            attempt.cancel()  # never answered: the sender tries again
            raise
        report = attempt.result()
        if not report.refused:
            return Outcome(Disposition.DELIVERED)
        if self._metrics is not None and report.failure_kind is not None:
            self._metrics.relay_failures.labels(report.failure_kind).inc()
        if not report.accepted and not report.temporary:
            # Refused for good before we said anything: pass the refusal on, and the
            # sender's own server tells them (we keep nothing, so nothing is lost).
            first = next(iter(report.permanent.values()))
            return Outcome(Disposition.REJECTED, first.code, first.text)
        await self._queue_failures(message, report, content)
        return Outcome(Disposition.QUEUED if report.temporary else Disposition.DELIVERED)

    async def _queue_failures(
        self, message: InboundMessage, report: DeliveryReport, content: bytes
    ) -> None:
        """Queue what the upstream could not take now; bounce what it refused for good
        (some recipients refused after others were accepted: we own the message now)."""
        if report.temporary:
            error = "; ".join(f"{r}: {why}" for r, why in report.temporary.items())
            await self._worker.enqueue(
                self._relay_mail(message, tuple(report.temporary), content, error),
                delay=self._first_retry,
            )
        if report.permanent and message.envelope_sender:
            bounce = compose.bounce(
                original=content,
                to=message.envelope_sender,
                failed=report.permanent,
                hostname=self._hostname,
                arrived=message.received_at,
                now=self._clock(),
                expired=False,
            )
            await self._worker.enqueue(
                NewMail(
                    queue_key=f"bounce:{message.contact_key}:{_digest(report.permanent)}",
                    kind="bounce",
                    mail_from="",
                    recipients=(message.envelope_sender,),
                    content=bounce,
                )
            )

    @staticmethod
    def _relay_mail(
        message: InboundMessage, recipients: Sequence[str], content: bytes, error: str
    ) -> NewMail:
        return NewMail(
            queue_key=f"relay:{message.contact_key}:{_digest(recipients)}",
            kind="relay",
            mail_from=message.envelope_sender,
            recipients=tuple(recipients),
            content=content,
            error=error,
        )

    async def _queue_reply(self, message: InboundMessage, notice: str) -> None:
        to = message.envelope_sender
        content = compose.auto_reply(
            notice=notice,
            to=to,
            written_to=message.recipients[0],
            subject=message.subject,
            message_id=message.message_id,
            hostname=self._hostname,
            now=self._clock(),
        )
        await self._worker.enqueue(
            NewMail(
                queue_key=f"reply:{message.contact_key}",
                kind="reply",
                mail_from="",
                recipients=(to,),
                content=content,
            )
        )
        log.info("%s: auto-reply to %s queued", message.queue_id, to)


def identify(index: PolicyIndex, message: InboundMessage, now: datetime) -> tuple[str, bool]:
    """Who the message is from, and whether a restriction is in force for them.

    The header From (what staff see, and what DMARC authenticates) is tried first,
    then the envelope sender: a restricted customer is recognised by either, so
    writing through a different service does not step round a restriction.
    """
    candidates = [c for c in (message.header_from, message.sender_address) if c]
    for candidate in candidates:
        match = index.resolve(candidate)
        if isinstance(match, Match) and index.active_restrictions(match.customer_id, now):
            return candidate, True
    return (candidates[0] if candidates else NULL_SENDER), False


def protected_recipients(index: PolicyIndex, message: InboundMessage) -> tuple[str, ...]:
    """The message's recipients that are protected routes (rules.protected)."""
    routes = index.settings.protected
    return tuple(r for r in (r.lower() for r in message.recipients) if routes.route_of(r))


def scoped_recipient(
    index: PolicyIndex, sender: str, message: InboundMessage, now: datetime
) -> str:
    """The recipient a message is decided as sent to: the first one a restriction's
    scope covers (rules.scope), so that copying in a service outside the scope does not
    carry a message past the restriction; the first recipient when none is covered."""
    recipients = [r.lower() for r in message.recipients]
    match = index.resolve(sender)
    if isinstance(match, Match):
        active = index.active_restrictions(match.customer_id, now)
        for recipient in recipients:
            if any(r.scope is not None and r.covers(recipient) for r in active):
                return recipient
    return recipients[0]


def route(
    message: InboundMessage, decision: Decision, protected: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """The envelope recipients for a delivered message, and the header fields it gains.

    Redirection to the named officer (or deputy), or to where a class of exempt contact
    goes (the appeals address...), rewrites the envelope only: the message keeps its
    content and its To/Cc, and gains fields saying where it was addressed and why it
    went elsewhere. A restricted customer's message to a protected route goes to the
    protected routes among its recipients only: copying a protected address in does
    not carry a message to the staff the restriction keeps it from.
    """
    if not decision.restricted:
        return message.recipients, []
    reasons = " ".join(r.text for r in decision.reasons)
    extra = [("X-Contact-Gateway-Restriction", str(decision.restriction_id))]
    recipients = message.recipients
    # To the named officer, to where a class of exempt contact goes, or to the
    # dedicated route (rules.scope): anywhere the message was not addressed.
    redirected = decision.officer_id is not None or (
        decision.deliver_to not in {r.lower() for r in message.recipients}
    )
    if decision.exemption == PROTECTED_ROUTE and protected:
        recipients = protected
        if set(protected) != {r.lower() for r in message.recipients}:
            extra.append(("X-Contact-Gateway-Original-Recipients", ", ".join(message.recipients)))
    elif redirected and decision.deliver_to:
        recipients = (decision.deliver_to,)
        extra += [
            ("X-Contact-Gateway-Original-Recipients", ", ".join(message.recipients)),
            ("X-Contact-Gateway-Redirected-To", decision.deliver_to),
        ]
    if decision.exemption:
        extra.append(("X-Contact-Gateway-Exemption", decision.exemption))
    extra.append(("X-Contact-Gateway-Reason", reasons))
    return recipients, extra


def display_name(raw: bytes) -> str:
    """The display name of a message's From field, RFC 2047 words decoded ("" if none)."""
    fields, _ = split_header(raw)
    values = [
        f.split(b":", 1)[1].decode("utf-8", "replace") for f in fields if field_name(f) == "from"
    ]
    for name, _address in getaddresses(values):
        if name:
            try:
                return str(make_header(decode_header(name)))
            except Exception:  # unknown charsets and broken words: the raw text
                return name
    return ""


def _bind_ids(message: InboundMessage) -> None:
    bind(
        contact_id=message.message_id or message.queue_id,
        queue_id=message.queue_id,
        channel=Channel.EMAIL.value,
    )


def _digest(recipients: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(recipients)).encode()).hexdigest()[:16]
