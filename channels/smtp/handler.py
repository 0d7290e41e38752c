"""The aiosmtpd handler: envelope checks at RCPT, then one message at a time to the sink.

Policy lives in the sink; this object only enforces the protocol's rules (no open
relay, no recipients routed onwards, a recipient cap, a hop limit, well-formed messages)
and turns outcomes into replies. Two things matter for never losing mail:

* aiosmtpd cancels the handler when the client hangs up. Processing therefore runs in
  its own task, shielded: a message whose final ``.`` arrived is processed to the end
  (delivered, queued or held) even if nobody is left to hear the ``250``; one whose
  client left before the ``.`` never reaches the handler at all.
* aiosmtpd answers an exception with ``500``. :meth:`handle_exception` answers ``451``.

Every refusal given once the message has arrived (malformed, looping, a line too long,
too big) goes through the sink's ``refuse`` before the reply, so a restricted sender's
refused message is kept as evidence like any other contact of theirs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.smtp import replies
from channels.smtp.message import InboundMessage, Peer, read_message
from channels.smtp.ports import MailSink, Refusal, RefusalKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    """The protocol limits the handler enforces (from ``GATEWAY_SMTP_*``)."""

    org_domains: Collection[str]
    hostname: str
    max_recipients: int = 100
    max_received: int = 30
    trusted_authserv_id: str = ""


class SmtpHandler:
    """aiosmtpd hooks: ``handle_EHLO``, ``handle_RCPT``, ``handle_DATA``, ``handle_exception``."""

    def __init__(
        self, sink: MailSink, config: HandlerConfig, clock: Callable[[], datetime]
    ) -> None:
        self._sink = sink
        self._config = config
        self._domains = frozenset(d.lower() for d in config.org_domains)
        self._clock = clock
        self._in_flight: set[asyncio.Task[str]] = set()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """Advertise everything aiosmtpd does except AUTH: nobody logs in to a relay."""
        session.host_name = hostname
        return [r for r in responses if not r[4:].upper().startswith("AUTH")]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not _valid_utf8(address):
            return replies.BAD_SENDER
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return replies.SENDER_OK

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain or not _valid_utf8(address):
            return replies.BAD_ADDRESS.format(address=ascii(address).strip("'"))
        if domain.lower().rstrip(".") not in self._domains:
            return replies.RELAY_DENIED.format(address=address)
        if _routes_onwards(local):
            return replies.ROUTED_LOCAL_PART.format(address=address)
        if len(envelope.rcpt_tos) >= self._config.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return replies.RECIPIENT_OK

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any, refusal: Refusal | None = None
    ) -> str:
        """Process the message to the end and return the reply. ``refusal`` is set when the
        listener has already refused it while reading (a line too long, too big)."""
        peer = Peer(
            address=_peer_address(session.peer),
            helo=str(session.host_name or ""),
            tls=session.ssl is not None,
        )
        raw = bytes(envelope.original_content or b"")
        # aiosmtpd gives the null reverse-path as "<>"; everywhere else it is "".
        mail_from = str(envelope.mail_from or "").strip()
        mail_from = "" if mail_from == "<>" else mail_from
        task = asyncio.create_task(
            self._process(raw, peer, mail_from, list(envelope.rcpt_tos), envelope, refusal)
        )
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        # Shielded: a client hanging up cancels us, not the processing of its message.
        return await asyncio.shield(task)

    async def handle_exception(self, error: Exception) -> str:
        """Any fault inside the session: 451, so the sender keeps the message and retries."""
        log.error("SMTP session fault", exc_info=error)
        return replies.TRY_AGAIN

    async def drain(self, grace: float) -> int:
        """Wait (up to ``grace`` s) for messages still being processed; return how many."""
        pending = set(self._in_flight)
        if pending:
            await asyncio.wait(pending, timeout=grace)
        return len(pending)

    async def _process(
        self,
        raw: bytes,
        peer: Peer,
        mail_from: str,
        recipients: list[str],
        envelope: Any,
        refusal: Refusal | None,
    ) -> str:
        queue_id = secrets.token_hex(6).upper()
        try:
            message = read_message(
                raw,
                queue_id=queue_id,
                received_at=self._clock(),
                peer=peer,
                envelope_sender=mail_from,
                recipients=recipients,
                mail_options=list(envelope.mail_options or ()),
                trusted_authserv_id=self._config.trusted_authserv_id,
                hostname=self._config.hostname,
            )
            return await self._answer(message, refusal or self._refusal(message))
        except Exception:
            log.exception("message %s from %s: fault while processing", queue_id, peer.address)
            return replies.TRY_AGAIN

    def _refusal(self, message: InboundMessage) -> Refusal | None:
        """Why a message that arrived whole is refused, if it is."""
        count = message.received_count
        if count >= self._config.max_received:
            reason = f"{count} Received: header fields; the message appears to loop"
            return Refusal(RefusalKind.MAIL_LOOP, reason, replies.LOOP.format(count=count))
        if message.malformed is not None:
            reply = replies.MALFORMED.format(reason=message.malformed)
            return Refusal(RefusalKind.MALFORMED, message.malformed, reply)
        return None

    async def _answer(self, message: InboundMessage, refusal: Refusal | None) -> str:
        if refusal is not None:
            log.warning("message %s refused: %s", message.queue_id, refusal.reason)
            await self._sink.refuse(message, refusal)
            return refusal.reply
        outcome = await self._sink.accept(message)
        return replies.reply_for(outcome, message.queue_id)


# Old relaying conventions a mailbox server may still honour: "user%host@relay" (the
# percent hack), "host!user@relay" (UUCP bang paths) and a quoted local part holding
# another address. Passed on, they would make the organisation's server, which trusts
# the gateway, relay the message to somewhere outside the organisation.
_ROUTING_CHARACTERS = frozenset("%!@")


def _routes_onwards(local: str) -> bool:
    """Whether a recipient's local part asks the next server to route it on."""
    return not _ROUTING_CHARACTERS.isdisjoint(local)


def _valid_utf8(address: str) -> bool:
    """aiosmtpd keeps bytes that are not UTF-8 as surrogates; such an address is refused."""
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _peer_address(peer: Any) -> str:
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "unknown")
