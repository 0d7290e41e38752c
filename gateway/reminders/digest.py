"""The daily reminder digest: worded, claimed and queued once per person per local day.

Exactly once, however many gateways share the database, as held-contact escalation
does it (``gateway.held.escalation``): one admin transaction (serialised across
gateways on the policy row) inserts the person's ``digests_sent`` row for the day — the
claim; a second gateway finds the row and sends nothing — queues the email in the
durable mail queue under ``digest:<user>:<day>`` and writes the audit entry, all in one
commit. A crash before the commit leaves the day unclaimed for the next pass; after it,
the queued email is delivered by any gateway's mail worker.

``send_digests(reminders, now)`` is one pass with the time passed in (tests call it with
their clock); ``add_reminders`` runs it every ``GATEWAY_REMINDERS_CHECK_EVERY_S``.
Nobody with nothing to do is sent an empty digest, and nothing is claimed for them, so
an item that becomes due later the same day still reaches them that day.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aiohttp import web
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.common.background import every, running
from gateway.common.clock import Clock
from gateway.common.plain_words import plain_date, plain_time
from gateway.common.plurals import counted
from gateway.config.org_settings import org_settings_from
from gateway.config.settings import Settings
from gateway.held.age import held_ages
from gateway.mail.lifecycle import MAIL
from gateway.reminders.gather import Digest, LetterSeam, gather
from gateway.store import NewMail, Store, StoreError
from gateway.store.accounts.users import User, people_by_name
from gateway.store.admin_schema import digests_sent
from gateway.store.casework.admin import AdminStore
from gateway.store.casework.casework import read_settings
from gateway.store.engine import read_transaction
from gateway.store.outbox import enqueue_in
from rules.roles import Role

log = logging.getLogger(__name__)

ACTOR = "contact-gateway"
KIND = "digest"
# Roles whose work a digest lists: those who propose, keep records and decide.
DIGEST_ROLES = (Role.OFFICER, Role.AUTHORISER)


@dataclass
class Reminders:
    """What a pass needs: the store, the settings, the clock; the letters seam if wired."""

    store: Store
    settings: Settings
    clock: Clock
    app: web.Application | None = None
    letters: LetterSeam | None = None

    def wake_mail(self) -> None:
        runtime = None if self.app is None else self.app.get(MAIL)
        if runtime is not None:
            runtime.worker.wake()


REMINDERS = web.AppKey("reminders", Reminders)


async def _recipients(conn: AsyncConnection) -> list[User]:
    people = await people_by_name(conn)
    return [
        u
        for u in sorted(people.values(), key=lambda u: u.name)
        if u.email and not u.disabled and u.role in DIGEST_ROLES
    ]


async def send_digests(reminders: Reminders, now: datetime) -> int:
    """Send today's digest to everyone who has something to do and has not had one
    today; how many this gateway sent (not before ``send_hour`` local time)."""
    settings = reminders.settings
    local = now.astimezone(settings.zone)
    if local.hour < settings.reminders.send_hour:
        return 0
    today = local.date()
    ages = await held_ages(reminders.store, settings, now)
    async with read_transaction(reminders.store.engine, "gathering reminders") as conn:
        org = org_settings_from(await read_settings(conn))
        already = {
            str(name)
            for name in (
                await conn.execute(
                    select(digests_sent.c.user_name).where(digests_sent.c.day == today)
                )
            ).scalars()
        }
        todo: list[tuple[User, Digest]] = []
        for user in await _recipients(conn):
            if user.name in already:
                continue
            digest = await gather(
                conn, user, today=today, org=org, ages=ages, letters=reminders.letters
            )
            if digest:
                todo.append((user, digest))
    sent = 0
    for user, digest in todo:
        content = digest_mail(settings, user, digest, now, today)
        assert user.email is not None
        mail = NewMail(
            queue_key=f"digest:{user.name}:{today.isoformat()}",
            kind=KIND,
            mail_from="",
            recipients=(user.email,),
            content=content,
        )
        if await _claim_and_queue(reminders, user, mail, digest, today, now):
            sent += 1
    if sent:
        reminders.wake_mail()
        log.info("sent %s", counted(sent, "reminder digest"))
    return sent


async def _claim_and_queue(
    reminders: Reminders, user: User, mail: NewMail, digest: Digest, today: date, now: datetime
) -> bool:
    """Claim the person's day, queue the email and audit it in one transaction; False
    when another gateway (or an earlier pass) has the day already."""
    admin = AdminStore(reminders.store, lambda: now)
    async with admin.writing(ACTOR, f"sending {user.name}'s reminder digest") as tx:
        taken = select(digests_sent.c.user_name).where(
            digests_sent.c.user_name == user.name, digests_sent.c.day == today
        )
        if (await tx.conn.execute(taken)).first() is not None:
            return False
        try:
            async with tx.conn.begin_nested():
                await tx.conn.execute(
                    insert(digests_sent).values(
                        user_name=user.name, day=today, sent_at=now, items=digest.items
                    )
                )
        except IntegrityError:
            return False
        await enqueue_in(tx.conn, mail, now=now, lifetime=reminders.settings.smtp.queue_lifetime)
        tx.record(
            "sent",
            "digest",
            f"{user.name}:{today.isoformat()}",
            None,
            {"to": list(mail.recipients), "items": digest.items},
        )
    return True


def digest_mail(
    settings: Settings, user: User, digest: Digest, now: datetime, today: date
) -> bytes:
    """The digest's email: each item with its date and a link, no customer's words."""
    domain = settings.org_domains[0]
    zone = settings.zone
    base = settings.public_url
    message = EmailMessage()
    message["From"] = f"contact-gateway <contact-gateway@{domain}>"
    message["To"] = str(user.email)
    message["Subject"] = f"Your reminders for {plain_date(today)}: {counted(digest.items, 'item')}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Contact-Gateway-Digest"] = f"{user.name} {today.isoformat()}"

    def link(path: str) -> str:
        return f"{base}/admin{path}" if base else f"/admin{path}"

    lines = [
        f"Good morning {user.full_name or user.name},",
        "",
        "Here is what is yours to do in contact-gateway today.",
    ]
    if digest.reviews:
        lines += ["", "Reviews due in the next 14 days or overdue:"]
        for r in digest.reviews:
            when = "OVERDUE, was due" if r["overdue"] else "due"
            page = link("/restrictions/" + r["restriction_id"])
            lines.append(
                f"- Restriction {r['restriction_id']} (customer {r['customer_id']}): review "
                f"{when} {plain_date(r['review_on'])}. {page}"
            )
    if digest.appeals:
        lines += ["", "Appeals awaiting a decision:"]
        for a in digest.appeals:
            late = " OVERDUE" if a["overdue"] else ""
            lines.append(
                f"- Appeal {a['id']} against restriction {a['restriction_id']} (customer "
                f"{a['customer_id']}), lodged {plain_date(a['lodged_on'])}: decide by "
                f"{plain_date(a['decide_by'])}{late}, and tell the customer by "
                f"{plain_date(a['notify_by'])}. {link('/restrictions/' + a['restriction_id'])}"
            )
    if digest.held:
        lines += ["", "Held contact nobody has read in time:"]
        for h in digest.held:
            lines.append(
                f"- Held contact {h['id']} (customer {h['customer_id']}, "
                f"{h['channel'].replace('_', ' ')}), held {plain_time(h['held_at'], zone)}, "
                f"should have been read by {plain_time(h['read_by'], zone)}. "
                f"{link('/held/' + str(h['id']))}"
            )
    if digest.flags:
        lines += ["", "Warning flags due for review:"]
        for f in digest.flags:
            when = "OVERDUE, was due" if f["overdue"] else "due"
            lines.append(
                f"- A {f['level']} flag ({f['category'].replace('_', ' ')}) on customer "
                f"{f['customer_id']}: review {when} {plain_date(f['review_on'])}. "
                f"{link('/customers/' + f['customer_id'])}"
            )
    if digest.letters_not_sent:
        lines += [
            "",
            f"Letters not yet sent (to print and post, or decision letters your drafts wait "
            f"for): {digest.letters_not_sent}. {link('/letters')}",
        ]
    lines += [
        "",
        "You get this once a day when something is yours to do. It names cases, never what "
        "a customer wrote.",
    ]
    message.set_content("\n".join(lines))
    return message.as_bytes()


def add_reminders(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    store_key: web.AppKey[Store],
    letters: LetterSeam | None = None,
) -> None:
    """Send the day's digests (a pass every ``check_every_s`` seconds) while ``app`` runs."""

    async def reminders_lifecycle(app: web.Application) -> AsyncIterator[None]:
        reminders = Reminders(
            store=app[store_key], settings=settings, clock=clock, app=app, letters=letters
        )
        app[REMINDERS] = reminders
        if not settings.reminders.enabled:
            yield
            return
        loop = every(
            lambda: reminders.settings.reminders.check_every_s,
            lambda: send_digests(reminders, reminders.clock()),
            log=log,
            could_not="send reminder digests",
            failing="sending reminder digests",
            passing=(StoreError,),
        )
        async with running(loop, "reminder-digests"):
            yield

    app.cleanup_ctx.append(reminders_lifecycle)
