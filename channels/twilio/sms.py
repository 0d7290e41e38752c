"""The SMS webhook: decide, keep, forward to the named officer, and maybe reply.

A text from a restricted customer is stored whole with its evidence (held or not). A
delivered one is passed to the named officer by the gateway's forwarder (email through
the email channel's upstream, and SMS where that is set up). The customer is told what
is allowed instead at most once a day, never after they texted STOP, in a ``<Message>``;
otherwise the answer is an empty ``<Response/>``.

STOP and START (Twilio's keywords) are remembered before the text is decided, so the
STOP itself is never answered. They are still contact: recorded like any other text.

When the store is unavailable (or does not answer within the time limit) the text is
written to the gateway's local durable spool and Twilio gets ``200`` with an empty
``<Response/>``: we cannot decide yet, so we say nothing. The gateway replays the text
through :func:`replay_text` once the store answers, dated when it arrived and keyed by
its MessageSid, so a retry of the same MessageSid (or a text that was recorded after
all) is recorded once. Only when the text cannot be kept either, or the failure is not
one the spool covers, is the answer ``503``: Twilio then tries the number's fallback URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from channels.twilio.params import is_number, opt_keyword, sms_contact, sms_details
from channels.twilio.ports import HandledContact
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
    received = channel.deps.clock()
    contact = sms_contact(params, channel.numbers, received)
    keyword = opt_keyword(contact.text)
    try:
        handled = await _decide(channel, contact, params, sid, notify_allowed=True, within=None)
    except Exception as exc:
        return await _keep_for_later(channel, contact, params, sid, exc)
    decision = handled.decision
    forward = handled.created and _forwarded(decision)
    if forward and not await _forward_now(channel, contact, decision, sid):
        # Twilio gets its 200 now, so the officer's copy must not depend on the log:
        # the spool forwards it again when it replays the text (found, not re-recorded).
        await _keep_to_forward(channel, contact, params, sid)
    reply = handled.notice if decision.held and keyword is not True else None
    if not is_number(contact.sender):
        reply = None
    return web.Response(text=channel.answers.sms_reply(reply), content_type="text/xml")


async def replay_text(
    channel: TwilioChannel,
    params: Mapping[str, str],
    *,
    message_sid: str,
    received_at: datetime,
    within: float,
) -> HandledContact:
    """Decide and record a text the spool kept, as a live text is, dated when it arrived.

    The same path as the webhook: STOP/START remembered, decided, recorded under its
    MessageSid (a text already recorded is found, not recorded again) and, when
    delivered to a named officer, forwarded. It is forwarded even when its record was
    already there, because in practice that record is the live attempt's own write,
    which went on after the time limit: the live path answered without forwarding.
    (The email leg is idempotent on the MessageSid; an SMS leg may repeat in the rare
    case that Twilio retried a text that had been answered.)

    The customer gets no late reply: Twilio's answer (an empty ``<Response/>``) went
    out when the text arrived, a reply now could cross with the customer's later
    contact, and the day's one notice is left for a text that is answered as it
    arrives (``notify_allowed=False``). Raises what the store raised; the caller keeps
    the text and tries again later.
    """
    contact = sms_contact(params, channel.numbers, received_at)
    handled = await _decide(
        channel, contact, params, message_sid, notify_allowed=False, within=within
    )
    if _forwarded(handled.decision):
        await _forward(channel, contact, handled.decision, message_sid)  # raises: kept
    return handled


async def _decide(
    channel: TwilioChannel,
    contact: Contact,
    params: Mapping[str, str],
    sid: str,
    *,
    notify_allowed: bool,
    within: float | None,
) -> HandledContact:
    keyword = opt_keyword(contact.text)
    if keyword is not None and is_number(contact.sender):
        async with channel.bounded(within):
            await channel.contacts.set_sms_opt_out(contact.sender, keyword)
    return await channel.handle(
        contact,
        key=sid,
        content=contact.text.encode("utf-8"),
        summary=_summary(contact.text),
        details={"twilio": sms_details(params)},
        notify_allowed=notify_allowed,
        within=within,
    )


async def _keep_for_later(
    channel: TwilioChannel,
    contact: Contact,
    params: Mapping[str, str],
    sid: str,
    error: Exception,
) -> web.Response:
    """Spool the text when the store will take it later; otherwise ``503``."""
    why = f"{type(error).__name__}: {error}"
    spool = channel.deps.spool
    if spool is not None and spool.covers(error):
        try:
            await spool.keep(params, message_sid=sid, received_at=contact.at)
        except Exception as exc:
            why = f"{why}; and it could not be spooled ({type(exc).__name__}: {exc})"
        else:
            log.warning(
                "text %s from %s to %s could not be recorded now (%s); kept in the spool "
                "until the store answers, and answered with an empty response",
                sid,
                contact.sender,
                contact.recipient,
                why,
            )
            return web.Response(text=channel.answers.sms_reply(None), content_type="text/xml")
    log.error(
        "incident: text %s from %s to %s could not be decided or recorded (%s); "
        "answered 503 so that Twilio uses the fallback URL",
        sid,
        contact.sender,
        contact.recipient,
        why,
    )
    return web.Response(status=503, text="the text could not be recorded; try again\n")


async def _keep_to_forward(
    channel: TwilioChannel, contact: Contact, params: Mapping[str, str], sid: str
) -> None:
    """Spool a recorded text whose forward failed, so the replay passes it on."""
    spool = channel.deps.spool
    try:
        if spool is None:
            raise RuntimeError("no spool is running")
        await spool.keep(params, message_sid=sid, received_at=contact.at)
    except Exception:
        log.exception(
            "incident: text %s is recorded but was not forwarded, and could not be kept "
            "to forward later: pass it on by hand",
            sid,
        )
    else:
        log.warning("text %s kept in the spool to be forwarded when the replay runs", sid)


def _forwarded(decision: Decision) -> bool:
    """Delivered to a named officer, or to where a class of exempt contact goes (an
    address: the appeals team...); texts delivered as addressed stay where they are."""
    return (
        decision.action is Action.DELIVER
        and decision.restricted
        and (decision.officer_id is not None or "@" in (decision.deliver_to or ""))
    )


async def _forward(channel: TwilioChannel, contact: Contact, decision: Decision, sid: str) -> None:
    """Pass a delivered text on to its officer; raises when it could not be."""
    forwarder = channel.deps.forwarder
    if forwarder is None:
        officer = decision.officer_id
        raise RuntimeError(f"text {sid} should go to officer {officer}; no forwarder is running")
    async with asyncio.timeout(FORWARD_TIMEOUT_S):
        await forwarder.forward_text(contact, decision, message_sid=sid)


async def _forward_now(
    channel: TwilioChannel, contact: Contact, decision: Decision, sid: str
) -> bool:
    """The live webhook's forward: False (and logged) when it failed."""
    try:
        await _forward(channel, contact, decision, sid)
    except Exception:
        log.exception(
            "could not forward text %s from %s to officer %s now",
            sid,
            contact.sender,
            decision.officer_id,
        )
        return False
    return True


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARS:
        return flat
    return flat[: SUMMARY_CHARS - 1] + "…"
