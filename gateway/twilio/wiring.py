"""The Twilio channel wired into the gateway: adapters for its Protocols, and its lifecycle.

``setup_twilio`` is the one call ``create_app`` makes. It mounts the channel's routes at
/twilio/ and adds a clean-up context that, once the store and the contact service are
open, gives the channel what it needs (the contact service, the call evidence, the text
forwarder and its Twilio REST client) and takes it all away again on shutdown. Texts
the store cannot take are kept in the SMS spool and replayed (``gateway.twilio.sms_replay``);
so is the incident record of a call put through undecided (``gateway.twilio.incident_spool``).

Evidence is append-only: what Twilio tells us after a call was decided (its duration,
how the dial went, a voicemail) is a new record pointing at the call's first record.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from aiohttp import web
from twilio.rest import Client

from channels.twilio import (
    CHANNEL,
    TwilioChannel,
    TwilioConfig,
    TwilioDeps,
    build_twilio_app,
)
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.decisions.staff_notes import StaffNotes
from gateway.mail.lifecycle import MAIL
from gateway.matching.matcher import MATCHER, Matcher, Seen
from gateway.ops.metrics import METRICS, Metrics
from gateway.spool.replay import store_unavailable
from gateway.store import EvidenceEntry, EvidenceRecord, NewMail, Store
from gateway.twilio.call_settings import OrgCallSettings
from gateway.twilio.forward import (
    EmailSender,
    NoEmailUpstream,
    OfficerForwarder,
    TwilioHttpClient,
)
from gateway.twilio.incident_spool import INCIDENT_SPOOL, IncidentReplayer, add_incident_spool
from gateway.twilio.sms_replay import add_sms_spool
from rules.decision import Action, Contact, Decision
from rules.models import Channel

log = logging.getLogger("gateway.twilio")

# How long an incident waits for the store before it is kept in the spool instead: well
# inside the channel's 10 s bound on background work, leaving the rest for the disk.
INCIDENT_STORE_TIMEOUT_S = 5.0


class HttpClientFactory(Protocol):
    """Makes the REST client's HTTP client (tests give one that talks to loopback)."""

    def __call__(self) -> TwilioHttpClient: ...


TWILIO_HTTP_CLIENT = web.AppKey("twilio_http_client", HttpClientFactory)
TWILIO = web.AppKey("twilio", TwilioChannel)


def twilio_config(settings: Settings) -> TwilioConfig:
    twilio = settings.twilio
    return TwilioConfig(
        auth_token=twilio.auth_token.get_secret_value(),
        public_url=settings.public_url,
        region=settings.default_region,
        emergency_number=settings.emergency_number or None,
        routes=twilio.route_map,
        voice=twilio.voice,
        answer_timeout=twilio.answer_timeout,
    )


def setup_twilio(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    service_key: web.AppKey[ContactService],
    store_key: web.AppKey[Store],
) -> None:
    """Mount /twilio/ on ``app``; call after the store's clean-up context is added."""
    config = twilio_config(settings)
    deps = TwilioDeps(config=config, clock=clock)
    sub = build_twilio_app(deps)
    app.add_subapp("/twilio/", sub)
    channel = app[TWILIO] = sub[CHANNEL]
    # Incidents the store cannot take wait on disk; the spool outlives the calls'
    # background work (drained below) on shutdown.
    add_incident_spool(app, settings, store_key=store_key, prepare=config.refusal() is None)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        refusal = config.refusal()
        if refusal:
            log.warning("the /twilio/ webhooks answer 503: %s", refusal)
        elif config.emergency_number is None:
            log.warning(
                "GATEWAY_EMERGENCY_NUMBER is not set: blocked callers cannot be offered "
                "the emergency option, and are told to call 999 in danger"
            )
        if refusal is None and not config.routes:
            log.warning(
                "GATEWAY_TWILIO_ROUTES is not set: a call that would go to the number "
                "dialled (an unknown caller, a restricted call with no named officer) "
                "cannot be put through, because dialling a Twilio number from Twilio "
                "loops back here; such callers are told the line cannot connect them. "
                "Set it to TWILIO_NUMBER=LINE pairs"
            )
        service, store = app[service_key], app[store_key]
        http = rest = None
        if settings.twilio.forward_sms:
            # The REST client's HTTP session must be made inside the running loop.
            http = app.get(TWILIO_HTTP_CLIENT, TwilioHttpClient)()
            rest = Client(
                settings.twilio.account_sid,
                settings.twilio.auth_token.get_secret_value(),
                http_client=http,
            )
        deps.contacts = ServiceContacts(service, lambda: app.get(MATCHER))
        deps.calls = OrgCallSettings(service, store)
        deps.evidence = StoreCallEvidence(
            store, clock, metrics=app.get(METRICS), incidents=app[INCIDENT_SPOOL]
        )
        deps.forwarder = OfficerForwarder(
            service,
            rest=rest,
            from_number=settings.twilio.from_number or None,
            send_email=_mail_queue(app),
            mail_from=f"Text messages via contact-gateway <no-reply@{settings.org_domains[0]}>",
            notes=StaffNotes(store),
        )
        try:
            yield
        finally:
            deps.contacts = deps.evidence = deps.forwarder = deps.calls = None
            await channel.drain()
            if http is not None:
                await http.close()

    app.cleanup_ctx.append(lifecycle)
    # Texts the store cannot take now wait on disk (after the contacts are filled in).
    add_sms_spool(app, settings, channel)


def _mail_queue(app: web.Application) -> EmailSender:
    """Queue an email on the email channel's durable queue (looked up when used: the
    email channel starts after this one)."""

    async def send(message: EmailMessage, *, key: str) -> None:
        mail = app.get(MAIL)
        if mail is None:
            raise NoEmailUpstream("the email channel is not running")
        await mail.worker.enqueue(
            NewMail(
                queue_key=key,
                kind="forward",
                mail_from="",  # null sender: nothing answers it, nothing bounces to it
                recipients=(str(message["To"]),),
                content=message.as_bytes(),
            )
        )

    return send


@dataclass(frozen=True, slots=True)
class TwilioHandled:
    """A handled contact as the channel renders it (see ``channels.twilio.HandledContact``)."""

    decision: Decision
    created: bool
    notify: bool
    allowed_instead: str | None

    @property
    def notice(self) -> str | None:
        return self.allowed_instead if self.notify else None


class ServiceContacts:
    """The contact service, answering a retry with the decision first recorded.

    ``ContactService.handle`` decides afresh every time, and a retry can decide
    differently (the first attempt used the last place under a cap), so a retry is
    rendered from its evidence record: Twilio gets the same answer twice.
    """

    def __init__(
        self, service: ContactService, matcher: Callable[[], Matcher | None] = lambda: None
    ) -> None:
        self._service = service
        self._matcher = matcher

    async def handle(
        self,
        contact: Contact,
        *,
        contact_key: str,
        content: bytes | None = None,
        summary: str = "",
        details: dict[str, Any] | None = None,
        notify_allowed: bool = True,
    ) -> TwilioHandled:
        handled = await self._service.handle(
            contact,
            contact_key=contact_key,
            content=content,
            summary=summary,
            details=details,
            notify_allowed=notify_allowed,
        )
        record = handled.record
        if record is None:
            if (await self._service.policy()).resolve(contact.sender) is None:
                self._offer_match(contact, contact_key)
            return TwilioHandled(handled.decision, handled.created, handled.notify, None)
        if handled.created and handled.decision.restricted and handled.decision.customer_id:
            # The customer's own text: the matcher keeps only its fingerprint, so that the
            # same text later from a number nobody has points to them.
            self._offer_match(contact, contact_key, customer_id=handled.decision.customer_id)
        # On a retry the service already answers with the decision first recorded
        # (gateway.decisions.replay); the words are the recorded ones, spoken on every call.
        notice = record.details.get("notice")
        return TwilioHandled(handled.decision, handled.created, handled.notify, notice)

    def untouched(self, contact: Contact) -> TwilioHandled | None:
        decision = self._service.decide_unknown(contact)
        if decision is None:
            return None
        self._offer_match(contact, None)
        return TwilioHandled(decision, False, False, None)

    def _offer_match(
        self, contact: Contact, contact_key: str | None, *, customer_id: str | None = None
    ) -> None:
        """A text goes to the matcher: from a number nobody in the policy has, to be
        compared (a name signed at the end, a restricted customer's address or other
        number in it, the same text as theirs); or, with ``customer_id``, a restricted
        customer's own, of which only the fingerprint is kept. A text decided without a
        record has no key: one is made of its sender and time (here, not for every call)."""
        matcher = self._matcher()
        if matcher is None or contact.channel is not Channel.SMS or not contact.text:
            return
        if contact_key is None:
            contact_key = f"sms:{contact.sender}:{contact.at.isoformat()}"
        text = contact.text
        matcher.offer(
            Seen(
                channel=Channel.SMS.value,
                identity=contact.sender,
                summary="" if customer_id else text[:200],
                contact_key=contact_key,
                read=lambda: ("", text),
                customer_id=customer_id,
            )
        )

    async def set_sms_opt_out(self, number: str, opted_out: bool) -> None:
        await self._service.set_sms_opt_out(number, opted_out)


class StoreCallEvidence:
    """Later facts about a call, as records that refer to the call's first record, and
    the incident of a call put through undecided (kept on disk while the store is down)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        metrics: Metrics | None = None,
        incidents: IncidentReplayer | None = None,
        store_timeout: float = INCIDENT_STORE_TIMEOUT_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics
        self._incidents = incidents
        self._store_timeout = store_timeout

    async def record_call_outcome(
        self, *, refers_to: str, key: str, facts: Mapping[str, Any]
    ) -> bool:
        original = await self._store.find_evidence(refers_to)
        if original is None:
            return False
        await self._store.append_evidence(self._follow_up(original, "call_outcome", key, facts))
        return True

    async def call_outcome(self, key: str) -> Mapping[str, Any] | None:
        """The facts of the call outcome recorded under ``key``, if there is one."""
        record = await self._store.find_evidence(key)
        if record is None or record.kind != "call_outcome":
            return None
        return record.details

    async def record_voicemail(
        self, *, refers_to: str, key: str, recording: Mapping[str, Any]
    ) -> bool:
        """The recording's reference is stored as content, and attached to the held call."""
        original = await self._store.find_evidence(refers_to)
        if original is None:
            return False
        content = json.dumps(dict(recording), sort_keys=True).encode("utf-8")
        entry = self._follow_up(original, "voicemail", key, recording)
        result = await self._store.record_contact(entry, content=content)
        sha = result.record.content_sha256
        assert sha is not None
        seconds = recording.get("recording_duration")
        length = f", {seconds} s" if seconds is not None else ""
        await self._store.attach_held_content(
            original.seq,
            content_sha256=sha,
            summary=f"Voicemail from {original.sender}{length}: {recording.get('recording_url')}",
        )
        return True

    async def record_incident(
        self, contact: Contact, *, key: str, connected_to: str | None, error: str
    ) -> None:
        """A call put through without a decision, marked degraded, for the record
        (``connected_to`` None: not put through, as that meant dialling the number called).

        The store that could not decide may well not record it either: then the entry
        is kept in the incident spool, dated when the call arrived, and appended when
        the store returns. Counted once per call whatever becomes of the record (even
        when it could not be kept either), but not again for a retried webhook.
        """
        entry = EvidenceEntry(
            kind="incident",
            contact_key=key,
            occurred_at=contact.at,
            channel=contact.channel.value,
            sender=contact.sender,
            recipient=contact.recipient,
            action=(Action.MESSAGE if connected_to is None else Action.CONNECT).value,
            deliver_to=connected_to,
            degraded=True,
            reasons=[
                {
                    "code": "degraded.no_decision",
                    "text": "No decision could be made, so the call was put through to "
                    "the number dialled rather than leave the caller stranded."
                    if connected_to is not None
                    else "No decision could be made, and the only number to put the call "
                    "through to was the one called (GATEWAY_TWILIO_ROUTES names no line "
                    "for it), so the caller was told the call cannot be connected.",
                    "restriction_id": None,
                    "clause": None,
                }
            ],
            details={"error": error, "emergency_requested": contact.emergency_requested},
        )
        first = True
        try:
            first = await self._record_or_keep(entry, key)
        finally:
            if first and self._metrics is not None:
                self._metrics.degraded.labels(contact.channel.value, "no_decision").inc()

    async def _record_or_keep(self, entry: EvidenceEntry, key: str) -> bool:
        """Append the incident, or keep it when the store cannot take it now; False when
        it was on record or kept already (a retry of the same call)."""
        incidents = self._incidents
        if incidents is not None and await self._kept_already(incidents, key):
            incidents.wake()
            return False  # the first attempt's entry, dated at its arrival, waits on disk
        try:
            async with asyncio.timeout(self._store_timeout):
                return (await self._store.append_evidence(entry)).created
        except Exception as exc:
            if incidents is None or not store_unavailable(exc):
                raise
            why = f"{type(exc).__name__}: {exc}"
        try:
            kept = await incidents.keep(entry)
        except Exception as exc:
            log.error(
                "incident: call %s from %s to %s at %s, connected to %s, could not be "
                "recorded (%s) nor kept in the incident spool (%s: %s); this line is its "
                "only record",
                key,
                entry.sender,
                entry.recipient,
                entry.occurred_at.isoformat(),
                entry.deliver_to,
                why,
                type(exc).__name__,
                exc,
            )
            return True
        if kept:
            log.warning(
                "incident: call %s could not be recorded now (%s); kept in the incident "
                "spool until the store returns",
                key,
                why,
            )
        return kept

    @staticmethod
    async def _kept_already(incidents: IncidentReplayer, key: str) -> bool:
        try:
            return await incidents.holds(key)
        except OSError:
            return False  # the spool is unreadable: try the store, and keeping it, anyway

    def _follow_up(
        self, original: EvidenceRecord, kind: str, key: str, facts: Mapping[str, Any]
    ) -> EvidenceEntry:
        return EvidenceEntry(
            kind=kind,
            contact_key=key,
            occurred_at=self._clock(),
            channel=original.channel,
            sender=original.sender,
            recipient=original.recipient,
            customer_id=original.customer_id,
            restriction_id=original.restriction_id,
            action=original.action,
            deliver_to=original.deliver_to,
            exemption=original.exemption,
            policy_version=original.policy_version,
            details={
                "refers_to_seq": original.seq,
                "refers_to_key": original.contact_key,
                **facts,
            },
        )
