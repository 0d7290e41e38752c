"""Where delivered mail goes: the organisation's mail server, or Maildirs on this machine.

``GATEWAY_UPSTREAM`` is ``smtp://host:port`` (relay with aiosmtplib; ``smtps://`` or
``smtp+starttls://`` for an encrypted connection, with a login if the upstream asks for
one) or ``maildir:PATH``
(the embedded default: one Maildir per recipient under PATH, and mail for anyone
outside the organisation — auto-replies, bounces — in ``PATH/outbox``). Either way a
delivery returns a :class:`DeliveryReport` saying, per recipient, whether the message
was taken, refused for now (try again later) or refused for good, so the caller can
queue or bounce exactly the recipients that need it. Transports never raise for a
delivery that failed: failures are data.

Once the end of the message (the final ``.``) is sent, the upstream's reply is its
acceptance, and RFC 5321 §4.5.3.2.6 gives it 10 minutes: a server that commits the
message and then answers slowly has it, and a sender that gives up sooner and tries
again delivers it twice (RFC 1047). So only the commands before that use the relay
timeout; the reply to the end of the message is waited for :data:`FINAL_REPLY_TIMEOUT`,
and a delivery whose reply never came is reported as in doubt (sent again later: at
least once, possibly twice, never lost).
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import os
import ssl
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import aiosmtplib
from aiosmtplib import SMTPResponse

log = logging.getLogger(__name__)

OUTBOX = "outbox"
FINAL_REPLY_TIMEOUT = 600.0  # RFC 5321 §4.5.3.2.6: "DATA Termination: 10 minutes"
# A whole attempt, however slowly the upstream answers each command before the end of
# the message; a queue worker's claim on a message outlasts it (queue.LEASE).
ATTEMPT_LIMIT = FINAL_REPLY_TIMEOUT + 300.0


# How the connection to the upstream is encrypted: not at all, by STARTTLS, or from the
# first byte (SMTPS, port 465).
Tls = Literal["starttls", "implicit"] | None


@dataclass(frozen=True, slots=True)
class UpstreamLogin:
    """The user name and password the upstream asks for (sent over TLS only)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An upstream's answer for a recipient it did not take."""

    code: int
    text: str
    # Nothing answered (no connection, a timeout, a disk that cannot be written):
    # not the upstream's word, only ours, so it is always temporary.
    unreachable: bool = False

    @property
    def permanent(self) -> bool:
        return 500 <= self.code <= 599

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The outcome of one delivery attempt, recipient by recipient."""

    accepted: tuple[str, ...] = ()
    refused: dict[str, Refusal] = field(default_factory=dict)

    @property
    def temporary(self) -> dict[str, Refusal]:
        return {r: why for r, why in self.refused.items() if not why.permanent}

    @property
    def permanent(self) -> dict[str, Refusal]:
        return {r: why for r, why in self.refused.items() if why.permanent}

    @property
    def failure_kind(self) -> str | None:
        """How the attempt failed, worst first, for the relay-failure metric: ``unavailable``
        (not reached), ``temporary`` (4xx), ``permanent`` (5xx); None if all went."""
        if not self.refused:
            return None
        if any(why.unreachable for why in self.refused.values()):
            return "unavailable"
        return "temporary" if self.temporary else "permanent"

    @classmethod
    def all_refused(cls, recipients: Sequence[str], why: Refusal) -> DeliveryReport:
        return cls(refused=dict.fromkeys(recipients, why))


class MailTransport(Protocol):
    """Hands a message to the next hop."""

    async def deliver(
        self,
        mail_from: str,
        recipients: Sequence[str],
        content: bytes,
        mail_options: Sequence[str] = (),
    ) -> DeliveryReport: ...

    async def close(self) -> None: ...


class _RelayClient(aiosmtplib.SMTP):
    """aiosmtplib's client, noting when the message itself starts to go (DATA), and
    waiting for the reply to its end as long as RFC 5321 allows rather than the relay
    timeout the commands before it use."""

    sending = False

    # sendmail passes its own timeout to data(); this one replaces it.
    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: Any = None,  # noqa: ASYNC109
    ) -> SMTPResponse:
        self.sending = True
        return await super().data(message, timeout=FINAL_REPLY_TIMEOUT)


class SmtpTransport:
    """Relays to the organisation's mail server with aiosmtplib.

    Connections are kept open and reused, as Postfix's connection cache does: a fresh
    connection costs a TCP handshake, a banner, EHLO and QUIT — more than relaying a
    typical message — and keeps the organisation's server busy. A connection is
    reused only after it answers RSET, so a connection the server has since closed
    never costs a message its first attempt; and at most ``keep`` idle connections
    are kept, each for ``idle_seconds`` and ``uses`` messages.

    ``local_hostname`` is passed explicitly: left out, aiosmtplib looks the machine's
    FQDN up (a DNS query) for every connection.

    ``timeout`` bounds connecting and each command before the message is sent; the
    reply to the end of the message gets :data:`FINAL_REPLY_TIMEOUT`, and a whole
    attempt :data:`ATTEMPT_LIMIT`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        local_hostname: str,
        timeout: float,
        keep: int = 8,
        idle_seconds: float = 30.0,
        uses: int = 100,
        tls: Tls = None,
        tls_context: ssl.SSLContext | None = None,
        login: UpstreamLogin | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._tls = tls
        self._tls_context = tls_context
        self._login = login
        self._local_hostname = local_hostname
        self._timeout = timeout
        self._keep = keep
        self._idle_seconds = idle_seconds
        self._uses = uses
        self._idle: list[tuple[_RelayClient, float, int]] = []

    async def deliver(
        self,
        mail_from: str,
        recipients: Sequence[str],
        content: bytes,
        mail_options: Sequence[str] = (),
    ) -> DeliveryReport:
        client: _RelayClient | None = None
        used, reusable = 0, False
        try:
            async with asyncio.timeout(ATTEMPT_LIMIT):
                client, used = await self._connection()
                client.sending = False
                # sendmail, not aiosmtplib.send: send refuses the null sender, which every
                # bounce and auto-reply must use.
                errors, _ = await client.sendmail(
                    mail_from,
                    list(recipients),
                    content,
                    mail_options=[o for o in mail_options if _passed_on(o)],
                )
            reusable = True
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reusable = True  # sendmail has reset the envelope
            return DeliveryReport(
                refused={r.recipient: Refusal(r.code, r.message) for r in exc.recipients}
            )
        except aiosmtplib.SMTPResponseException as exc:
            return DeliveryReport.all_refused(recipients, Refusal(exc.code, exc.message))
        except aiosmtplib.SMTPNotSupported as exc:  # SMTPUTF8 mail, upstream without it
            return DeliveryReport.all_refused(recipients, Refusal(554, f"5.6.7 {exc}"))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            where = f"the organisation's mail server at {self.host}:{self.port}"
            said = str(exc) or type(exc).__name__
            if client is not None and client.sending:
                # It may have the message; still temporary (sent again), as RFC 5321
                # §6.1 prefers a message twice to a message lost.
                why = f"{where} did not answer the end of the message"
                log.warning("%s (%s): it may have the message, which is sent again", why, said)
                return DeliveryReport.all_refused(
                    recipients, Refusal(451, f"4.4.2 {why} ({said})", unreachable=True)
                )
            why = f"{where} is unavailable"
            log.warning("%s: %s", why, said)
            return DeliveryReport.all_refused(
                recipients, Refusal(451, f"4.4.1 {why} ({said})", unreachable=True)
            )
        except ValueError as exc:  # an address aiosmtplib cannot put on a command line
            # (After OSError: a certificate that does not verify is both, and is the
            # upstream's fault for now, not the message's for good.)
            return DeliveryReport.all_refused(recipients, Refusal(553, f"5.1.3 {exc}"))
        finally:
            if client is not None:
                await self._release(client, used + 1 if reusable else None)
        refused = {r: Refusal(resp.code, resp.message) for r, resp in errors.items()}
        accepted = tuple(r for r in recipients if r not in refused)
        return DeliveryReport(accepted=accepted, refused=refused)

    async def _connection(self) -> tuple[_RelayClient, int]:
        """An idle connection that still answers, or a new one."""
        now = time.monotonic()
        while self._idle:
            client, since, used = self._idle.pop()
            if client.is_connected and now - since < self._idle_seconds:
                try:
                    await client.rset()
                    return client, used
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    pass
            await _close(client)
        login = self._login
        client = _RelayClient(
            hostname=self.host,
            port=self.port,
            local_hostname=self._local_hostname,
            timeout=self._timeout,
            use_tls=self._tls == "implicit",
            start_tls=self._tls == "starttls",  # required: refused if not offered
            tls_context=self._tls_context,
            username=login.username if login else None,
            password=login.password if login else None,
        )
        await client.connect()
        return client, 0

    async def _release(self, client: _RelayClient, used: int | None) -> None:
        keep = used is not None and used < self._uses and len(self._idle) < self._keep
        if keep and client.is_connected:
            self._idle.append((client, time.monotonic(), used or 0))
            return
        await _close(client)

    async def close(self) -> None:
        """Say goodbye on every idle connection (at shutdown)."""
        idle, self._idle = self._idle, []
        for client, _, _ in idle:
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely when the connection still works; otherwise just drop it."""
    try:
        if client.is_connected:
            await client.quit(timeout=5)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        client.close()


class MaildirTransport:
    """Writes each recipient's copy into a Maildir and makes it durable before returning.

    ``mailbox.Maildir`` writes to ``tmp/`` and renames into ``new/`` (so a reader never
    sees half a message) but does not fsync; the file and the ``new/`` directory are
    synced here, because "delivered" must survive a power cut.
    """

    def __init__(self, root: Path, org_domains: Collection[str]) -> None:
        self.root = root
        self._domains = frozenset(d.lower() for d in org_domains)

    def folder_for(self, recipient: str) -> Path:
        """The Maildir a recipient's mail goes to (``outbox`` for anyone outside)."""
        domain = recipient.rpartition("@")[2].lower()
        if domain not in self._domains:
            return self.root / OUTBOX
        return self.root / quote(recipient.lower(), safe="@._+-=")

    async def deliver(
        self,
        mail_from: str,
        recipients: Sequence[str],
        content: bytes,
        mail_options: Sequence[str] = (),
    ) -> DeliveryReport:
        return await asyncio.to_thread(self._deliver, mail_from, list(recipients), content)

    async def close(self) -> None:
        """Nothing stays open between deliveries."""

    def _deliver(self, mail_from: str, recipients: list[str], content: bytes) -> DeliveryReport:
        accepted: list[str] = []
        refused: dict[str, Refusal] = {}
        for recipient in recipients:
            trace = f"Return-Path: <{mail_from}>\r\nDelivered-To: {recipient}\r\n".encode()
            try:
                self._write(self.folder_for(recipient), trace + content)
                accepted.append(recipient)
            except OSError as exc:  # a full disk or a permission problem: try again later
                log.error("cannot write to the Maildir for %s: %s", recipient, exc)
                refused[recipient] = Refusal(
                    451, f"4.3.0 cannot write to the Maildir ({exc})", unreachable=True
                )
        return DeliveryReport(accepted=tuple(accepted), refused=refused)

    @staticmethod
    def _write(folder: Path, data: bytes) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)  # Maildir creates one level only
        box = mailbox.Maildir(folder, create=True)
        key = box.add(data)
        new = folder / "new"
        descriptor = os.open(new / key, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        directory = os.open(new, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _passed_on(option: str) -> bool:
    """MAIL FROM parameters worth passing on: the body type and SMTPUTF8."""
    upper = option.upper()
    return upper.startswith("BODY=") or upper == "SMTPUTF8"


def transport_for(
    upstream: str,
    *,
    org_domains: Collection[str],
    local_hostname: str,
    timeout: float,
    login: UpstreamLogin | None = None,
    ca_file: Path | None = None,
) -> SmtpTransport | MaildirTransport:
    """The transport ``GATEWAY_UPSTREAM`` names (already validated by Settings):
    ``smtps://`` is TLS from the first byte, ``smtp+starttls://`` requires STARTTLS (a
    server that does not offer it is not sent anything), ``smtp://`` is plain."""
    if upstream.startswith("maildir:"):
        return MaildirTransport(Path(upstream.removeprefix("maildir:")), org_domains)
    parts = urlsplit(upstream)
    tls = _TLS_BY_SCHEME[parts.scheme]
    return SmtpTransport(
        parts.hostname or "",
        parts.port or 25,
        local_hostname=local_hostname,
        timeout=timeout,
        tls=tls,
        tls_context=ssl.create_default_context(cafile=ca_file) if tls else None,
        login=login,
    )


_TLS_BY_SCHEME: dict[str, Tls] = {"smtp": None, "smtp+starttls": "starttls", "smtps": "implicit"}
