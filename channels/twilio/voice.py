"""The voice webhooks: an incoming call, the keypad menu, the end of a dial, voicemail,
and the call's status callback.

Every call is answered, whatever happens inside: the decision is bounded in time, and
if the store, the counters or anything else fails the caller is connected to the number
they dialled (the emergency line, if they had pressed 1) and the incident is logged and,
best effort, recorded. Twilio never gets a ``5xx`` from /twilio/voice, because a ``5xx``
there is a caller hearing "an application error has occurred".

A call is never dialled back to the number that was called: that is a Twilio number,
and dialling it from Twilio loops straight back here. When GATEWAY_TWILIO_ROUTES names
no line for it, the caller is told the line cannot connect the call, and given the
emergency line's number (or 999) instead; a restricted call's evidence says so.

Idempotency comes from the keys: the CallSid for the call, ``CallSid:emergency`` for the
emergency option, and ``...:dial``, ``...:status``, ``...:voicemail`` for the facts that
arrive later, so a retried webhook finds its record and changes nothing.

When the ``<Dial>`` ends, the officer's refusal at the whisper (``CallSid:whisper``, see
``channels.twilio.whisper``) outweighs DialCallStatus: the caller is told the call was
not put through, as for a dial nobody answered.
"""

from __future__ import annotations

import logging

from aiohttp import web

from channels.twilio import speech
from channels.twilio.params import UNIDENTIFIED, call_contact, call_details, is_number, seconds
from channels.twilio.ports import CallOptions, HandledContact
from channels.twilio.runtime import CHANNEL, TwilioChannel
from channels.twilio.signature import PARAMS
from channels.twilio.whisper import whisper_key
from rules.decision import Action, Contact, Decision

log = logging.getLogger("channels.twilio")

EMERGENCY_EXEMPTION = "emergency_option"
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
CONNECTED = frozenset({"completed", "answered"})


def twiml(document: str) -> web.Response:
    return web.Response(text=document, content_type="text/xml")


async def incoming_call(request: web.Request) -> web.Response:
    """A call comes in: connect it, explain and hang up, or take a voicemail."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    sid = params.get("CallSid", "")
    if not sid:
        return _no_call_sid()
    contact = call_contact(params, channel.numbers, channel.deps.clock())
    if contact.sender == UNIDENTIFIED and (await _options(channel)).withheld_emergency_only:
        return _withheld(channel)
    try:
        handled = await channel.handle(
            contact, key=sid, summary=_summary(contact), details={"twilio": call_details(params)}
        )
    except Exception as exc:
        target = _dialled(channel, contact, params)
        return _connect_anyway(channel, contact, sid, target, exc, params)
    return await _answer_call(channel, handled, contact, params, sid)


async def keypad(request: web.Request) -> web.Response:
    """A key pressed at the menu: 1 is the emergency option, anything else is offered again."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    sid = params.get("CallSid", "")
    if not sid:
        return _no_call_sid()
    after_voicemail = request.query.get("after") == "voicemail"
    if params.get("Digits", "").strip() != "1":
        return twiml(channel.answers.menu_again(after_voicemail))
    contact = call_contact(params, channel.numbers, channel.deps.clock(), emergency=True)
    emergency = channel.config.emergency_number
    if (
        emergency is not None
        and contact.sender == UNIDENTIFIED
        and (await _options(channel)).withheld_emergency_only
    ):
        # Only a withheld caller told the line does not take withheld calls is offered
        # the key (others are put through): theirs is the emergency line, as for anyone.
        return twiml(channel.answers.connect(emergency, None, False, None))
    try:
        handled = await channel.handle(
            contact,
            key=f"{sid}:emergency",
            summary="The caller chose the emergency option",
            details={"twilio": call_details(params)},
        )
    except Exception as exc:
        target = channel.config.emergency_number or _dialled(channel, contact, params)
        return _connect_anyway(channel, contact, f"{sid}:emergency", target, exc, params)
    return await _answer_call(channel, handled, contact, params, sid, refers_to=f"{sid}:emergency")


async def _options(channel: TwilioChannel) -> CallOptions:
    """The organisation's call options; today's behaviour (no whisper, withheld callers
    put through) when they cannot be read in time, so no call is stranded by them."""
    try:
        async with channel.bounded():
            return await channel.calls.call_options()
    except Exception:
        log.exception("could not read the call options; calls go on as by default")
        return CallOptions()


def _withheld(channel: TwilioChannel) -> web.Response:
    """A withheld number, where the organisation does not put them through: say so and
    offer the emergency option (or 999 when there is no emergency line)."""
    press_one = channel.config.emergency_number is not None
    return twiml(channel.answers.blocked(speech.withheld(press_one=press_one), press_one))


async def _answer_call(
    channel: TwilioChannel,
    handled: HandledContact,
    contact: Contact,
    params: dict[str, str],
    sid: str,
    *,
    refers_to: str | None = None,
) -> web.Response:
    """The decided call's TwiML, unless it would dial the number called (a loop)."""
    decision = handled.decision
    target = _target(channel, handled, contact)
    if decision.action is Action.CONNECT and _loops(target, contact, params):
        refers_to = refers_to or sid
        if decision.restricted:  # the call's evidence says it was not dialled after all
            facts: dict[str, object] = {
                "outcome": "dial",
                "call_sid": sid,
                "dial_call_status": "not_dialled",
            }
            channel.spawn(
                _add_outcome_later(channel, refers_to, f"{refers_to}:dial", facts),
                f"record that call {refers_to} was not dialled",
            )
        return _cannot_connect(channel, contact, refers_to)
    whisper = None
    if _whispered(decision) and (await _options(channel)).whisper:
        assert decision.customer_id is not None
        whisper = channel.answers.whisper_url(decision.customer_id)
    return twiml(render_call(channel, handled, contact, whisper=whisper))


def _whispered(decision: Decision) -> bool:
    """A restricted customer's call put through: the officer hears the whisper first.
    Not the emergency option's: nothing may hold up a call to the emergency line."""
    return (
        decision.action is Action.CONNECT
        and decision.customer_id is not None
        and decision.restricted
        and decision.exemption != EMERGENCY_EXEMPTION
    )


def _target(channel: TwilioChannel, handled: HandledContact, contact: Contact) -> str:
    """The number a connected call rings: the line its number is routed to."""
    return channel.config.route(handled.decision.deliver_to or contact.recipient)


def _loops(number: str, contact: Contact, params: dict[str, str]) -> bool:
    """True when ``number`` is the number that was called: Twilio would call us again."""
    return number in (contact.recipient, params.get("To"), params.get("Called"))


def _cannot_connect(channel: TwilioChannel, contact: Contact, key: str) -> web.Response:
    log.warning(
        "call %s from %s to %s not connected: it would be dialled back to the number "
        "called, which loops into this gateway; set GATEWAY_TWILIO_ROUTES to the line "
        "calls to %s should ring",
        key,
        contact.sender,
        contact.recipient,
        contact.recipient,
    )
    words = speech.cannot_connect(channel.config.emergency_number)
    return twiml(channel.answers.say_goodbye(words))


def render_call(
    channel: TwilioChannel,
    handled: HandledContact,
    contact: Contact,
    *,
    whisper: str | None = None,
) -> str:
    """The TwiML for a decided call (cached per shape by ``Answers``); ``whisper`` is the
    URL of the officer's whisper, for a restricted call put through."""
    decision = handled.decision
    answers = channel.answers
    if decision.action is Action.CONNECT:
        number = _target(channel, handled, contact)
        if not decision.restricted:
            return answers.connect(number, None, False, None)
        emergency = decision.exemption == EMERGENCY_EXEMPTION
        action = answers.emergency_dialled_url if emergency else answers.dialled_url
        return answers.connect(
            number, decision.call_time_limit, decision.record_call, action, whisper
        )
    press_one = channel.config.emergency_number is not None
    if decision.action is Action.VOICEMAIL:
        return answers.voicemail(speech.voicemail(press_one=press_one), press_one)
    press_one = press_one and decision.offer_emergency
    words = speech.blocked(handled.allowed_instead, press_one=press_one)
    return answers.blocked(words, press_one)


async def dialled(request: web.Request) -> web.Response:
    """The ``<Dial>`` ended: keep how it went and for how long, then end the call."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    emergency = request.query.get("leg") == "emergency"
    sid = params.get("CallSid", "")
    if not sid:
        return _no_call_sid()
    refers_to = f"{sid}:emergency" if emergency else sid
    status = params.get("DialCallStatus", "")
    # The emergency option is never whispered: nothing to look up.
    refused = False if emergency else await _whisper_refused(channel, sid)
    facts: dict[str, object] = {
        "outcome": "dial",
        "call_sid": sid,
        "dial_call_status": status,
        "dial_call_duration": seconds(params.get("DialCallDuration")),
        "dial_call_sid": params.get("DialCallSid"),
        **_recording(params),
    }
    if refused:
        facts["whisper_refused"] = True
    await _add_outcome(channel, refers_to, f"{refers_to}:dial", facts)
    if status in CONNECTED and not refused:
        return twiml(channel.answers.say_goodbye(None))
    sorry = speech.EMERGENCY_NOT_CONNECTED if emergency else speech.NOT_CONNECTED
    return twiml(channel.answers.say_goodbye(sorry))


async def _whisper_refused(channel: TwilioChannel, sid: str) -> bool:
    """True when the officer refused call ``sid`` at the whisper (a key other than 1, or
    none): the ``<Dial>`` may still end ``completed``, as the officer's leg was answered.
    False when there was no whisper, it was taken, or its record cannot be read in time
    (then DialCallStatus alone says what the caller hears)."""
    try:
        async with channel.bounded():
            facts = await channel.evidence.call_outcome(whisper_key(sid))
    except Exception:
        log.exception("could not read whether the whisper of call %s was refused", sid)
        return False
    return facts is not None and facts.get("accepted") is False


async def voicemail(request: web.Request) -> web.Response:
    """The ``<Record>`` action: keep the recording's reference with the held call."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    sid = params.get("CallSid", "")
    if not sid:
        return _no_call_sid()
    recording = _recording(params)
    if not recording.get("recording_url"):
        return twiml(channel.answers.say_goodbye(speech.NO_VOICEMAIL))
    try:
        async with channel.bounded():
            await channel.evidence.record_voicemail(
                refers_to=sid, key=f"{sid}:voicemail", recording={"call_sid": sid, **recording}
            )
    except Exception:
        # The reference is in the log line, so an administrator can still find the audio.
        log.exception("could not store voicemail %s for call %s", recording, sid)
    return twiml(channel.answers.say_goodbye(speech.VOICEMAIL_THANKS))


async def call_status(request: web.Request) -> web.Response:
    """The call's status callback: its outcome and duration join the evidence (204)."""
    channel = request.app[CHANNEL]
    params = request[PARAMS]
    sid = params.get("CallSid", "")
    if not sid:
        return _no_call_sid()
    status = params.get("CallStatus", "")
    if status not in ENDED:
        return web.Response(status=204)
    facts = {
        "outcome": "call",
        "call_sid": sid,
        "call_status": status,
        "call_duration": seconds(params.get("CallDuration")),
        **_recording(params),
    }
    if not await _add_outcome(channel, sid, f"{sid}:status", facts):
        return web.Response(status=503, text="the call's outcome could not be recorded\n")
    return web.Response(status=204)


async def _add_outcome(
    channel: TwilioChannel, refers_to: str, key: str, facts: dict[str, object]
) -> bool:
    """Append the outcome record; False (logged) when the store failed."""
    try:
        async with channel.bounded():
            await channel.evidence.record_call_outcome(refers_to=refers_to, key=key, facts=facts)
    except Exception:
        log.exception("could not record the outcome %s of %s", facts, refers_to)
        return False
    return True


async def _add_outcome_later(
    channel: TwilioChannel, refers_to: str, key: str, facts: dict[str, object]
) -> None:
    await channel.evidence.record_call_outcome(refers_to=refers_to, key=key, facts=facts)


def _connect_anyway(
    channel: TwilioChannel,
    contact: Contact,
    key: str,
    target: str,
    exc: Exception,
    params: dict[str, str],
) -> web.Response:
    """The fault boundary: no decision could be made, so put the call through (unless
    that means dialling the number called: then the caller is told it cannot be)."""
    connected_to = None if _loops(target, contact, params) else target
    log.error(
        "incident: call %s from %s to %s could not be decided (%s: %s); %s",
        key,
        contact.sender,
        contact.recipient,
        type(exc).__name__,
        exc,
        f"connected to {target}" if connected_to else "not connected",
    )
    evidence = channel.deps.evidence
    if evidence is not None:
        channel.spawn(
            evidence.record_incident(
                contact,
                key=f"{key}:incident",
                connected_to=connected_to,
                error=f"{type(exc).__name__}: {exc}",
            ),
            f"record the incident for call {key}",
        )
    if connected_to is None:
        return _cannot_connect(channel, contact, key)
    return twiml(channel.answers.connect(connected_to, None, False, None))


def _dialled(channel: TwilioChannel, contact: Contact, params: dict[str, str]) -> str:
    """The line the caller meant to reach (the raw To when it is not a phone number)."""
    if is_number(contact.recipient):
        return channel.config.route(contact.recipient)
    return params.get("To", "")


def _recording(params: dict[str, str]) -> dict[str, object]:
    if not params.get("RecordingUrl"):
        return {}
    return {
        "recording_sid": params.get("RecordingSid"),
        "recording_url": params.get("RecordingUrl"),
        "recording_duration": seconds(params.get("RecordingDuration")),
    }


def _no_call_sid() -> web.Response:
    # Signed, so from Twilio, but not a call: nothing to decide or to key a record on.
    return web.Response(status=400, text="CallSid is missing\n")


def _summary(contact: Contact) -> str:
    return f"Call from {contact.sender}"
