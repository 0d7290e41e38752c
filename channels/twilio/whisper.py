"""The officer's whisper: what the person answering a restricted customer's call hears
before it is put through, and the key they press to take it.

The caller's ``<Dial>`` names the officer's line in a ``<Number url=...>``; when the
officer answers, Twilio fetches that URL (signed like every webhook, and checked by the
same middleware) and plays its TwiML on the officer's leg only, while the caller hears
ringing. The whisper is inside a one-key ``<Gather>``: 1 ends the TwiML and the two are
connected; any other key hangs up the officer's leg, so the call is not put through and
the caller's ``<Dial>`` ends. With no key the ``<Gather>`` falls through to a
``<Redirect>`` to the same answer endpoint, without ``Digits``: a refusal too.

Whether the officer took the call is added to the call's evidence (``CallSid:whisper``,
keyed on the caller's CallSid, which Twilio sends the officer's leg as ParentCallSid).
A refusal is recorded before the officer's leg is told to hang up, so it is on record
when the caller's ``<Dial>`` action arrives (``voice.dialled`` reads it: Twilio's
DialCallStatus may well say ``completed``, as the officer's leg was answered). Taking
the call is recorded after answering, so the two are connected without waiting on it.
"""

from __future__ import annotations

import logging

from aiohttp import web

from channels.twilio.runtime import CHANNEL, TwilioChannel
from channels.twilio.signature import PARAMS
from rules.whisper import ACCEPT

log = logging.getLogger("channels.twilio")

ACCEPT_KEY = "1"
# When the flags cannot be read in time, the officer still hears that the customer is
# restricted, and may take the call.
FLAGS_UNREAD = "A call from a restricted customer. Their warning flags could not be read."


def whisper_key(call_sid: str) -> str:
    """The evidence key of the whisper's outcome for the caller's call ``call_sid``."""
    return f"{call_sid}:whisper"


def _twiml(document: str) -> web.Response:
    return web.Response(text=document, content_type="text/xml")


async def whisper(request: web.Request) -> web.Response:
    """The officer answered: who is calling, their flags' level and what to do, and the key."""
    channel = request.app[CHANNEL]
    customer_id = request.query.get("customer", "")
    if not customer_id:
        return web.Response(status=400, text="customer is missing from the URL\n")
    try:
        async with channel.bounded():
            words = await channel.calls.whisper(customer_id)
    except Exception:
        log.exception("could not read the warning flags of customer %s for a whisper", customer_id)
        words = f"{FLAGS_UNREAD} {ACCEPT}"
    return _twiml(channel.answers.whisper(words))


async def answered(request: web.Request) -> web.Response:
    """The officer's key after the whisper (none, after the ``<Redirect>``): 1 takes the
    call, anything else refuses it."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    digits = params.get("Digits", "").strip()
    accepted = digits == ACCEPT_KEY
    parent = params.get("ParentCallSid", "")
    if parent:
        facts: dict[str, object] = {
            "outcome": "whisper",
            "call_sid": parent,
            "officer_call_sid": params.get("CallSid", ""),
            "accepted": accepted,
            "key_pressed": digits or None,
        }
        if accepted:
            channel.spawn(_record(channel, parent, facts), f"record the whisper of {parent}")
        else:
            await _record_refusal(channel, parent, facts)
    return _twiml(channel.answers.whisper_answered(accepted))


async def _record_refusal(channel: TwilioChannel, parent: str, facts: dict[str, object]) -> None:
    """Record the refusal before answering (bounded), so the caller's ``<Dial>`` action
    finds it; when the store cannot take it in time, try again after answering."""
    try:
        async with channel.bounded():
            await _record(channel, parent, facts)
    except Exception:
        log.exception("could not record the refused whisper of call %s in time", parent)
        channel.spawn(_record(channel, parent, facts), f"record the whisper of {parent}")


async def _record(channel: TwilioChannel, parent: str, facts: dict[str, object]) -> None:
    await channel.evidence.record_call_outcome(
        refers_to=parent, key=whisper_key(parent), facts=facts
    )
