"""Real peers on loopback for the email tests: an aiosmtpd upstream, a running gateway,
and an SMTP client that reports every reply code. Ports are chosen free at run time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

import aiosmtplib
from aiohttp import web
from aiosmtpd.smtp import SMTP

from gateway.app import STORE, create_app
from gateway.config.settings import Settings
from gateway.mail.lifecycle import MAIL, MailRuntime
from gateway.store import Store
from rules.models import Policy
from tests.rules.factories import OFFICERS, customer, restriction

START = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # a Tuesday, GMT
CUSTOMER = "alex@example.net"
REPRESENTATIVE = "worker@charity.example"
STAFF = "housing@example.org"
OFFICER = "jane.smith@example.org"
DEPUTY = "ali.khan@example.org"


class FakeClock:
    """Time as a value the test moves (STYLE §3: tests never sleep)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def header(self, name: str) -> str | None:
        from email.parser import BytesParser

        value = BytesParser(policy=SMTP_POLICY).parsebytes(self.content).get(name)
        return None if value is None else str(value).strip()

    def text(self) -> str:
        """The plain-text body, decoded, with lines joined (for phrase checks)."""
        from email.parser import BytesParser

        parsed = BytesParser(policy=SMTP_POLICY).parsebytes(self.content)
        body = parsed.get_body(preferencelist=("plain",))
        return " ".join(str(body.get_content() if body else "").split())


@dataclass
class Upstream:
    """An aiosmtpd server standing in for the organisation's mail server.

    ``data_reply`` (e.g. ``"451 4.3.0 busy"``) is answered after DATA instead of 250;
    ``refuse`` maps recipients to a RCPT reply.
    """

    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    data_reply: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _sessions: set[Any] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 2.0.0 Ok: stored"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            session = SMTP(self, hostname="upstream.test", loop=loop)
            self._sessions.add(session)
            return session

        self._server = await loop.create_server(protocol, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                if session.transport is not None:
                    session.transport.close()
            await self._server.wait_closed()
            self._server = None
        self._sessions.clear()
        await asyncio.sleep(0)

    def to(self, recipient: str) -> list[Received]:
        return [m for m in self.messages if recipient in m.rcpt_tos]


@asynccontextmanager
async def upstream_server(**kwargs: Any) -> AsyncIterator[Upstream]:
    upstream = Upstream(**kwargs)
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.stop()


def gateway_settings(database_url: str, upstream: str, **smtp: Any) -> Settings:
    return Settings(
        database={"url": database_url},
        upstream=upstream,
        org_domains=("example.org",),
        smtp={"host": "127.0.0.1", "port": 0, "hostname": "gateway.test", **smtp},
    )


@dataclass
class Gateway:
    app: web.Application

    @property
    def mail(self) -> MailRuntime:
        return self.app[MAIL]

    @property
    def store(self) -> Store:
        return self.app[STORE]

    @property
    def port(self) -> int:
        return self.mail.listener.port


@asynccontextmanager
async def running_gateway(
    settings: Settings, clock: FakeClock, policy: Policy | None = None
) -> AsyncIterator[Gateway]:
    runner = web.AppRunner(create_app(settings, clock=clock))
    await runner.setup()
    try:
        gateway = Gateway(runner.app)
        if policy is not None:
            await gateway.store.upsert_policy(policy, actor="test")
        yield gateway
    finally:
        await runner.cleanup()


def policy(*restrictions: dict[str, Any], officers: list[dict[str, Any]] | None = None) -> Policy:
    """The rules tests' customer (with a representative) under ``restrictions``."""
    return Policy.model_validate(
        {
            "officers": OFFICERS if officers is None else officers,
            "customers": [customer()],
            "restrictions": [restriction(**r) for r in restrictions],
        }
    )


def message(
    sender: str = CUSTOMER,
    to: Sequence[str] = (STAFF,),
    subject: str = "About my repair",
    body: str = "Please call me about the repair.",
    *,
    message_id: str | None = "<m1@example.net>",
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    mail = EmailMessage(policy=SMTP_POLICY)
    for name, value in headers:
        mail[name] = value
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(START)
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail.as_bytes()


@dataclass(frozen=True)
class Reply:
    code: int
    text: str
    rcpt_codes: tuple[int, ...] = ()


async def transact(
    port: int,
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    client: aiosmtplib.SMTP | None = None,
) -> Reply:
    """One SMTP transaction; returns the final reply (whatever stage it came from)."""
    own = client is None
    smtp = client or aiosmtplib.SMTP(
        hostname="127.0.0.1", port=port, timeout=30, start_tls=False, local_hostname="client.test"
    )
    try:
        if own:
            await smtp.connect()
        await smtp.ehlo()
        mail = await smtp.mail(mail_from)
        codes = []
        for recipient in recipients:
            try:
                codes.append((await smtp.rcpt(recipient)).code)
            except aiosmtplib.SMTPRecipientRefused as exc:
                codes.append(exc.code)
        if not any(200 <= c < 300 for c in codes):
            await smtp.rset()
            return Reply(codes[-1] if codes else mail.code, "no recipient", tuple(codes))
        response = await smtp.data(data)
        return Reply(response.code, response.message, tuple(codes))
    except aiosmtplib.SMTPResponseException as exc:
        return Reply(exc.code, exc.message)
    finally:
        if own:
            smtp.close()
