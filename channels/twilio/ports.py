"""What the Twilio channel needs from the rest of the gateway, as narrow Protocols.

The channel never imports ``gateway`` (STYLE: imports run gateway -> channels -> rules):
it says here what it needs, and ``gateway/twilio/wiring.py`` provides it. Each Protocol
is one job the webhooks cannot do from the request alone: decide and record a contact,
remember a STOP, add a later fact about a call to the evidence (and read one back), pass
a text on, keep a text on local disk while the store cannot take it, read the
organisation's call options and the whisper's words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rules.decision import Contact, Decision


class HandledContact(Protocol):
    """The outcome of one contact, as the channel renders it.

    On a retry (``created`` False) ``decision`` is the decision first recorded, so the
    answer Twilio gets the second time is the answer it got the first time.
    """

    @property
    def decision(self) -> Decision: ...

    @property
    def created(self) -> bool: ...

    @property
    def notify(self) -> bool: ...

    @property
    def notice(self) -> str | None:
        """What to tell the customer now: None unless ``notify`` (once a day, not after STOP)."""
        ...

    @property
    def allowed_instead(self) -> str | None:
        """What is allowed instead, whether or not the customer is to be told now.

        A blocked caller is on the line and must hear something, so calls use this;
        replies that we send (texts) use ``notice``.
        """
        ...


class ContactHandler(Protocol):
    """Decides, counts and records one contact; idempotent on ``contact_key``."""

    async def handle(
        self,
        contact: Contact,
        *,
        contact_key: str,
        content: bytes | None = None,
        summary: str = "",
        details: dict[str, Any] | None = None,
        notify_allowed: bool = True,
    ) -> HandledContact:
        """``notify_allowed=False`` when the contact is answered in full anyway (a call):
        the day's one notice is then left for a text or an email that needs it."""
        ...

    def untouched(self, contact: Contact) -> HandledContact | None:
        """The outcome, without any I/O, when the sender is nobody in the policy (passed
        on untouched, nothing recorded); None when ``handle`` must decide."""
        ...

    async def set_sms_opt_out(self, number: str, opted_out: bool) -> None: ...


class CallEvidence(Protocol):
    """Facts that arrive after a call was decided, appended as new evidence records.

    Evidence is append-only, so a call's duration or its voicemail is a record that
    refers to the call's first record. Each ``record_`` method is idempotent on ``key``
    and returns False when there is nothing to refer to (the caller had no restriction).
    ``call_outcome`` reads one back (the whisper's, when the caller's ``<Dial>`` ends).
    """

    async def record_call_outcome(
        self, *, refers_to: str, key: str, facts: Mapping[str, Any]
    ) -> bool: ...

    async def call_outcome(self, key: str) -> Mapping[str, Any] | None:
        """The facts of the later record kept under ``key`` (e.g. ``CallSid:whisper``),
        or None when there is none."""
        ...

    async def record_voicemail(
        self, *, refers_to: str, key: str, recording: Mapping[str, Any]
    ) -> bool: ...

    async def record_incident(
        self, contact: Contact, *, key: str, connected_to: str | None, error: str
    ) -> None:
        """A call put through undecided; ``connected_to`` None: it could not be put
        through (only the number called was there to dial), and was told so."""
        ...


@dataclass(frozen=True, slots=True)
class CallOptions:
    """The organisation's run-time choices about calls (set by an administrator).

    ``whisper``: the officer hears who a restricted customer is, and their warning
    flags' level and control measure, and presses 1 before the call is put through.
    ``withheld_emergency_only``: a caller from a withheld number is told the line does not
    take withheld calls and offered the emergency option, instead of being put through.
    """

    whisper: bool = False
    withheld_emergency_only: bool = False


class CallSettings(Protocol):
    """The organisation's call options, and the whisper's words for one customer."""

    async def call_options(self) -> CallOptions: ...

    async def whisper(self, customer_id: str) -> str:
        """What the officer hears before ``customer_id``'s call is put through: never
        a flag's reason (``rules.whisper``)."""
        ...


class TextForwarder(Protocol):
    """Passes a delivered text to the named officer (email, and SMS where set up)."""

    async def forward_text(self, contact: Contact, decision: Decision, *, message_sid: str) -> None:
        """Raise on failure; the channel logs it and still answers Twilio."""
        ...


class TextSpool(Protocol):
    """Keeps a text durably on local disk when the store cannot record it now.

    Twilio is then answered ``200`` with an empty ``<Response/>``, and the gateway
    replays the kept text (``channels.twilio.sms.replay_text``) once the store answers.
    """

    def covers(self, error: Exception) -> bool:
        """True when ``error`` means the store cannot record now but will later (it is
        unavailable, or did not answer within the time limit): then the text is kept."""
        ...

    async def keep(
        self, params: Mapping[str, str], *, message_sid: str, received_at: datetime
    ) -> None:
        """Return only once the text is safe on disk; idempotent on ``message_sid``.
        Raise when it could not be kept (the channel then answers ``503``)."""
        ...


Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    """The channel's settings as plain values (the gateway reads them from Settings).

    ``routes`` maps a Twilio number to the line its calls really ring, because dialling
    the Twilio number itself would loop back into this gateway. ``auth_token`` empty
    means the webhooks answer 503: an unsigned webhook is never accepted.
    """

    auth_token: str
    public_url: str
    region: str = "GB"
    emergency_number: str | None = None
    routes: Mapping[str, str] = field(default_factory=dict)
    voice: str = "Polly.Amy"
    language: str = "en-GB"
    answer_timeout: float = 3.0
    voicemail_max_seconds: int = 180

    def route(self, number: str) -> str:
        """Where a call for ``number`` really rings."""
        return self.routes.get(number, number)

    def url(self, path: str) -> str:
        """An absolute callback URL, as Twilio will call it (and sign it)."""
        return self.public_url + path

    def refusal(self) -> str | None:
        """Why the webhooks cannot be served, or None when they can."""
        if not self.auth_token:
            return (
                "GATEWAY_TWILIO_AUTH_TOKEN is not set, so the gateway cannot check that "
                "webhooks come from Twilio and refuses them"
            )
        if not self.public_url:
            return (
                "GATEWAY_PUBLIC_URL is not set, so the gateway cannot check Twilio's "
                "signatures (they cover the URL Twilio called)"
            )
        return None


@dataclass(slots=True)
class TwilioDeps:
    """Everything the webhook handlers use; filled in when the gateway starts."""

    config: TwilioConfig
    clock: Clock
    contacts: ContactHandler | None = None
    evidence: CallEvidence | None = None
    forwarder: TextForwarder | None = None
    spool: TextSpool | None = None
    calls: CallSettings | None = None
