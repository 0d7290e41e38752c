"""The SMS webhook: decide, keep, forward to the named officer, and maybe reply.

A text from a restricted customer is stored whole with its evidence (held or not). A
delivered one is passed to the named officer by the gateway's forwarder (email through
the email channel's upstream, and SMS where that is set up). The customer is told what
is allowed instead at most once a day, never after they texted STOP, in a ``<Message>``;
otherwise the answer is an empty ``<Response/>``.

STOP and START (Twilio's keywords) are remembered before the text is decided, so the
STOP itself is never answered. They are still contact: recorded like any other text.

When the store fails the answer is ``503``: Twilio then tries the number's fallback URL
(which may be another gateway), and a retry of the same MessageSid is recorded once.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from channels.twilio.params import is_number, opt_keyword, sms_contact, sms_details
from channels.twilio.runtime import CHANNEL, TwilioChannel
from channels.twilio.signature import PARAMS
from rules.decision import Action, Contact, Decision

log = logging.getLogger("channels.twilio")

FORWARD_TIMEOUT_S = 5.0
SUMMARY_CHARS = 120


async def incoming_sms(request: web.Request) -> web.Response:
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        return web.Response(status=400, text="MessageSid is missing\n")
    contact = sms_contact(params, channel.numbers, channel.deps.clock())
    keyword = opt_keyword(contact.text)
    try:
        if keyword is not None and is_number(contact.sender):
            async with channel.bounded():
                await channel.contacts.set_sms_opt_out(contact.sender, keyword)
        handled = await channel.handle(
            contact,
            key=sid,
            content=contact.text.encode("utf-8"),
            summary=_summary(contact.text),
            details={"twilio": sms_details(params)},
        )
    except Exception as exc:
        log.error(
            "incident: text %s from %s to %s could not be decided or recorded (%s: %s); "
            "answered 503 so that Twilio uses the fallback URL",
            sid,
            contact.sender,
            contact.recipient,
            type(exc).__name__,
            exc,
        )
        return web.Response(status=503, text="the text could not be recorded; try again\n")
    decision = handled.decision
    if handled.created and _forwarded(decision):
        await _forward(channel, contact, decision, sid)
    reply = handled.notice if decision.held and keyword is not True else None
    if not is_number(contact.sender):
        reply = None
    return web.Response(text=channel.answers.sms_reply(reply), content_type="text/xml")


def _forwarded(decision: Decision) -> bool:
    """Delivered to a named officer (texts delivered as addressed stay where they are)."""
    return (
        decision.action is Action.DELIVER
        and decision.restricted
        and decision.officer_id is not None
    )


async def _forward(channel: TwilioChannel, contact: Contact, decision: Decision, sid: str) -> None:
    forwarder = channel.deps.forwarder
    if forwarder is None:
        log.error(
            "text %s should go to officer %s but no forwarder is running", sid, decision.officer_id
        )
        return
    try:
        async with asyncio.timeout(FORWARD_TIMEOUT_S):
            await forwarder.forward_text(contact, decision, message_sid=sid)
    except Exception:
        # The text is stored with its evidence record; the log says which one to pass on.
        log.exception(
            "could not forward text %s from %s to officer %s",
            sid,
            contact.sender,
            decision.officer_id,
        )


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARS:
        return flat
    return flat[: SUMMARY_CHARS - 1] + "…"
