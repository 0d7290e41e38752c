"""Texts delivered to a named officer: by email through the mail upstream, and by SMS.

The email leg is the one that always runs: an officer's mailbox is where their casework
is, and the mail queue is durable. The SMS leg runs when GATEWAY_TWILIO_FORWARD_SMS is
set and the officer's number is a mobile (a text to a landline only fails at Twilio).
"""

from __future__ import annotations

import base64
import logging
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

import phonenumbers
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from gateway.decisions.service import ContactService
from gateway.decisions.staff_notes import StaffNote, StaffNotes
from rules.decision import Contact, Decision
from rules.identity import display_phone

log = logging.getLogger("gateway.twilio")

SMS_BODY_LIMIT = 1500


class EmailSender(Protocol):
    """Queues one email for the upstream; idempotent on ``key``."""

    async def __call__(self, message: EmailMessage, *, key: str) -> None: ...


class NoEmailUpstream(RuntimeError):
    """A text should have been emailed to an officer but no email upstream is wired."""


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """Twilio's async HTTP client, sending its credentials as a plain header.

    The library passes them as ``aiohttp.BasicAuth``, which aiohttp now deprecates;
    building the ``Authorization`` header (RFC 7617) keeps the warning out of our logs.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the library's signature)
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


def is_mobile(e164: str) -> bool:
    """True for a number that can take a text.

    Ofcom's drama range (07700 900000-999) is not an allocated range, so phonenumbers
    cannot type it; it stands in for mobiles in training and test data, and is one here.
    """
    parsed = phonenumbers.parse(e164, None)
    kind = phonenumbers.number_type(parsed)
    if kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return True
    return parsed.country_code == 44 and str(parsed.national_number).startswith("7700900")


class OfficerForwarder:
    """Implements ``channels.twilio.TextForwarder`` on the mail queue and the REST client."""

    def __init__(
        self,
        service: ContactService,
        *,
        rest: Any | None,
        from_number: str | None,
        send_email: EmailSender | None = None,
        mail_from: str = "",
        notes: StaffNotes | None = None,
    ) -> None:
        self._service = service
        self._notes = notes
        self._rest = rest
        self._from_number = from_number
        self._send_email = send_email
        self._mail_from = mail_from

    async def forward_text(self, contact: Contact, decision: Decision, *, message_sid: str) -> None:
        index = await self._service.policy()
        customer = index.customers.get(decision.customer_id or "")
        who = customer.name if customer is not None else "a customer"
        sender = display_phone(contact.sender)
        exempt = f" (exempt: {decision.exemption.replace('_', ' ')})" if decision.exemption else ""
        note = None
        if self._notes is not None and decision.customer_id is not None:
            active = index.active_restrictions(decision.customer_id, contact.at)
            ids = [r.id for r in active] or [decision.restriction_id or ""]
            book = await self._notes.book(index)
            note = book.note(decision.customer_id, [i for i in ids if i])
        if decision.officer_id is None and decision.deliver_to and "@" in decision.deliver_to:
            # A class of exempt text with a destination of its own (the appeals address).
            await self._email(
                contact, decision, decision.deliver_to, who, sender, exempt, message_sid, note
            )
            return
        officer = index.officer(decision.officer_id)
        if officer is None:
            raise LookupError(f"officer '{decision.officer_id}' is no longer in the policy")
        failures: list[str] = []
        try:
            await self._email(
                contact, decision, officer.email, who, sender, exempt, message_sid, note
            )
        except Exception as exc:
            failures.append(f"email to {officer.email}: {exc}")
        if self._rest is not None and officer.phone and is_mobile(officer.phone):
            try:
                await self._rest.messages.create_async(
                    to=officer.phone,
                    from_=self._from_number or contact.recipient,
                    body=_clip(
                        _prefixed(note, f"Text from {who} ({sender}){exempt}: {contact.text}")
                    ),
                )
            except Exception as exc:
                failures.append(f"SMS to {officer.phone}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))

    async def _email(
        self,
        contact: Contact,
        decision: Decision,
        to: str,
        who: str,
        sender: str,
        exempt: str,
        message_sid: str,
        note: StaffNote | None = None,
    ) -> None:
        if self._send_email is None:
            raise NoEmailUpstream("no email upstream is wired to forward texts")
        message = EmailMessage(policy=SMTP)
        message["From"] = self._mail_from
        message["To"] = to
        message["Subject"] = f"Text message from {who} ({sender}){exempt}"
        message["Date"] = format_datetime(contact.at)
        message["Message-ID"] = make_msgid(domain=self._mail_from.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Contact-Gateway-Restriction"] = decision.restriction_id or ""
        message["X-Twilio-MessageSid"] = message_sid
        if note is not None and note.headers:
            for name, value in note.header_fields(restriction=False):
                message[name] = value
        number = display_phone(contact.recipient) if contact.recipient.startswith("+") else ""
        text = (
            f"{who} ({sender}) sent this text message to {number or 'our number'} at "
            f"{contact.at.isoformat()}:\n\n{contact.text}\n\n"
            f"It is passed on to you under restriction {decision.restriction_id}. Replies to "
            "this email do not reach the customer.\n"
        )
        message.set_content(_prefixed(note, text))
        await self._send_email(message, key=f"twilio-sms:{message_sid}")


def _prefixed(note: StaffNote | None, text: str) -> str:
    """``text`` after the note's line, when forwarded texts carry it."""
    if note is None or not note.text_prefix:
        return text
    return f"{note.line()}\n\n{text}"


def _clip(text: str) -> str:
    return text if len(text) <= SMS_BODY_LIMIT else text[: SMS_BODY_LIMIT - 1] + "…"
