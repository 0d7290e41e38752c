"""Escalating held contact nobody has read in time: once, by email, to whoever must act.

The backstop behind "a person reads held contact" (gateway.held.age has the deadline
rule). An item still ``held`` — nobody marked it read or released it — past its read-by
deadline is escalated once: an email through the mail upstream to the restriction's
named officer (or the deputy covering an absence) and to every ``GATEWAY_HELD_ESCALATE_TO``
address. The email names the item, customer, restriction, channel, when it was held,
why, its deadline and a link to it; it repeats an email's subject (or a recorded
contact's summary) but never the content, and not a text's or voicemail's words
(their summary is the content).

Exactly once, however many gateways share the database: one transaction claims the item
(``UPDATE held_contact SET escalated_at = now WHERE id = ... AND escalated_at IS NULL``;
only the gateway whose UPDATE changed the row goes on), queues the email in the durable
mail queue under the key ``escalation:<id>`` and writes the audit entry; it commits all
three or none. A crash before the commit leaves the item unclaimed for the next pass; a
crash after it leaves the email queued, which any gateway's worker delivers. The queue
key alone would not do: its done rows are pruned after a week (gateway.store.outbox).

``escalate_overdue(escalation, now)`` is one pass, with the time passed in (tests call
it with their clock); ``add_held_escalation`` runs it every ``GATEWAY_HELD_CHECK_EVERY_S``
seconds for as long as the app runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aiohttp import web

from gateway.common.background import every, running
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.held.age import HeldAges, held_ages
from gateway.mail.lifecycle import MAIL
from gateway.ops.metrics import METRICS, Metrics
from gateway.store import HeldContact, NewMail, Store, StoreError
from gateway.store.casework.admin import AdminStore
from gateway.store.engine import read_transaction
from gateway.store.held import claim_escalation, unescalated_overdue
from gateway.store.outbox import enqueue_in
from rules.engine import covering_officer
from rules.policy_index import PolicyIndex

log = logging.getLogger(__name__)

# Who the audit log says escalated an item: the gateway itself, not a person.
ACTOR = "contact-gateway"
KIND = "escalation"
# Items looked at per round of a pass; a pass goes on while rounds escalate something.
BATCH = 200
# Channels whose summary is the content itself (a text's words, a voicemail's link).
_CONTENT_IN_SUMMARY = ("sms", "voice")
UI_HELD = "/admin/held"


@dataclass
class HeldEscalation:
    """What a pass needs: the store, the policy (for the named officer), the settings."""

    store: Store
    service: ContactService
    settings: Settings
    clock: Clock
    metrics: Metrics | None = None
    app: web.Application | None = None  # to wake this gateway's mail worker, if running

    def wake_mail(self) -> None:
        runtime = None if self.app is None else self.app.get(MAIL)
        if runtime is not None:
            runtime.worker.wake()


HELD_ESCALATION = web.AppKey("held_escalation", HeldEscalation)


async def escalate_overdue(escalation: HeldEscalation, now: datetime) -> int:
    """Escalate every unread item past its deadline not escalated yet; how many this
    gateway escalated (another gateway's claims are not counted here)."""
    ages = await held_ages(escalation.store, escalation.settings, now)
    held_before = ages.held_before()
    escalated, skipped = 0, 0
    while True:
        async with read_transaction(escalation.store.engine, "finding overdue held") as conn:
            due = await unescalated_overdue(conn, held_before, limit=BATCH + skipped)
        due = due[skipped:]
        if not due:
            break
        index = await escalation.service.policy()
        for held in due:
            recipients = escalation_recipients(index, held, escalation.settings)
            if not recipients:
                skipped += 1
                log.warning(
                    "held contact %d is overdue but nobody can be told: its restriction names "
                    "no officer and GATEWAY_HELD_ESCALATE_TO is empty",
                    held.id,
                )
                continue
            mail = NewMail(
                queue_key=f"escalation:{held.id}",
                kind=KIND,
                mail_from="",
                recipients=recipients,
                content=escalation_mail(escalation.settings, ages, held, recipients, now),
            )
            if await _claim_and_queue(escalation, held, mail, ages, now):
                escalated += 1
                if escalation.metrics is not None:
                    escalation.metrics.held_escalations.inc()
        if len(due) < BATCH:
            break
    if escalated:
        escalation.wake_mail()
        log.warning("escalated %d held contact(s) nobody had read in time", escalated)
    return escalated


def escalation_recipients(
    index: PolicyIndex, held: HeldContact, settings: Settings
) -> tuple[str, ...]:
    """The named officer (or covering deputy), then the escalation team, each once."""
    restriction = index.restriction(held.restriction_id)
    officer = covering_officer(index, restriction.named_officer if restriction else None)
    found = [officer.email] if officer is not None else []
    team = settings.held.escalate_to.split(",") if settings.held.escalate_to else []
    found += [address for address in team if "@" in address]  # numbers cannot take email
    return tuple(dict.fromkeys(found))


async def _claim_and_queue(
    escalation: HeldEscalation, held: HeldContact, mail: NewMail, ages: HeldAges, now: datetime
) -> bool:
    """Claim, queue and audit in one transaction; False when another gateway (or a
    reader, who made it no longer ``held``) got there first."""
    admin = AdminStore(escalation.store, lambda: now)
    async with admin.writing(ACTOR, f"escalating held contact {held.id}") as tx:
        if not await claim_escalation(tx.conn, held.id, now):
            return False
        await enqueue_in(tx.conn, mail, now=now, lifetime=escalation.settings.smtp.queue_lifetime)
        tx.record(
            "escalated",
            "held_contact",
            str(held.id),
            {"escalated_at": None},
            {
                "escalated_at": now,
                "to": list(mail.recipients),
                "read_by": ages.read_by(held.created_at),
            },
        )
    return True


def escalation_mail(
    settings: Settings,
    ages: HeldAges,
    held: HeldContact,
    recipients: tuple[str, ...],
    now: datetime,
) -> bytes:
    """The escalation email: enough to find and act on the item, none of its content."""
    domain = settings.org_domains[0]
    zone = settings.zone
    days = settings.held.read_within
    within = f"{days} working day{'s' if days != 1 else ''}"
    message = EmailMessage()
    message["From"] = f"contact-gateway <contact-gateway@{domain}>"
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"Held contact {held.id} has not been read within {within}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Contact-Gateway-Escalated"] = f"held contact {held.id}"

    def local(instant: datetime) -> str:
        return instant.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")

    if held.channel in _CONTENT_IN_SUMMARY:
        summary = "(not repeated here: it is the message itself; open the item to read it)"
    else:
        summary = held.summary
    link = f"{settings.public_url}{UI_HELD}/{held.id}" if settings.public_url else ""
    lines = [
        f"Held contact {held.id} has not been read by anyone within {within} of being "
        "held. Held contact must still be read by a person, for new matters and "
        "safeguarding: please read it now, then mark it read (saying whether it raises "
        "a new matter or is urgent) or release it.",
        "",
        f"Held contact: {held.id}",
        f"Customer: {held.customer_id or '(not a known customer)'}",
        f"Restriction: {held.restriction_id or '(none)'}",
        f"Channel: {held.channel.replace('_', ' ')}",
        f"Held: {local(held.created_at)} ({ages.describe(held.created_at)})",
        f"Read by: {local(ages.read_by(held.created_at))}",
        f"Why held: {(held.hold_reason or 'not recorded').replace('_', ' ')}",
        f"Summary: {summary}",
        "",
        f"Open it: {link}" if link else f"Open it in the web UI at {UI_HELD}/{held.id}",
    ]
    message.set_content("\n".join(lines))
    return message.as_bytes()


def add_held_escalation(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    store_key: web.AppKey[Store],
    service_key: web.AppKey[ContactService],
) -> None:
    """Look for overdue held contact every ``check_every_s`` seconds while ``app`` runs."""

    async def escalation_lifecycle(app: web.Application) -> AsyncIterator[None]:
        escalation = HeldEscalation(
            store=app[store_key],
            service=app[service_key],
            settings=settings,
            clock=clock,
            metrics=app.get(METRICS),
            app=app,
        )
        app[HELD_ESCALATION] = escalation
        loop = every(
            lambda: escalation.settings.held.check_every_s,
            lambda: escalate_overdue(escalation, escalation.clock()),
            log=log,
            could_not="escalate overdue held contact",
            failing="escalating overdue held contact",
            passing=(StoreError,),
        )
        async with running(loop, "held-escalation"):
            yield

    app.cleanup_ctx.append(escalation_lifecycle)
