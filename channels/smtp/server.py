"""The SMTP listener: aiosmtpd's protocol on the gateway's own event loop.

aiosmtpd's ``Controller`` runs its own loop in a thread; the gateway instead creates
the server with ``loop.create_server`` so SMTP, HTTP, the store and the counters share
one loop (SPEC §2). :class:`GatewaySMTP` adds what a server facing the internet needs
and aiosmtpd leaves out: enhanced status codes for the size limit, a deadline for the
whole session (not only between commands), and no AUTH at all.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from channels.smtp import replies
from channels.smtp.handler import SmtpHandler

IDLE_TIMEOUT_S = 300.0  # RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes per command


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Where to listen and the session limits (from ``GATEWAY_SMTP_*``)."""

    host: str
    port: int
    hostname: str
    max_bytes: int
    command_limit: int
    session_timeout: float
    tls_cert: Path | None = None
    tls_key: Path | None = None


class GatewaySMTP(SMTP):
    """aiosmtpd's SMTP with a session deadline, RFC 3463 codes and AUTH switched off."""

    def __init__(
        self,
        handler: SmtpHandler,
        *,
        session_timeout: float,
        on_close: Callable[[GatewaySMTP], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._session_timeout = session_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._on_close = on_close

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._deadline is None:  # not again after STARTTLS: one deadline per session
            self._deadline = self.loop.call_later(self._session_timeout, self._session_over)

    def connection_lost(self, error: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._on_close(self)
        super().connection_lost(error)

    def _session_over(self) -> None:
        self._close_with(replies.SESSION_OVER.format(host=self.hostname))

    def shut_down(self) -> None:
        """The gateway is stopping: say so (RFC 5321 §3.8) and close."""
        self._close_with(replies.SHUTTING_DOWN.format(host=self.hostname))

    def _close_with(self, reply: str) -> None:
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
            return
        transport.write(reply.encode("ascii") + b"\r\n")
        transport.close()

    async def push(self, status: AnyStr) -> None:
        """Give aiosmtpd's size-limit replies their RFC 3463 enhanced code."""
        if isinstance(status, str) and status.startswith("552 ") and "5.3.4" not in status:
            await super().push(replies.TOO_BIG.format(limit=self.data_size_limit))
            return
        await super().push(status)

    async def smtp_AUTH(self, arg: str) -> None:
        await self.push(replies.NO_AUTH)


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """A server context for STARTTLS, or None when no certificate is configured."""
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class SmtpListener:
    """The listening server and its open sessions, so shutdown can end them cleanly."""

    def __init__(self, handler: SmtpHandler, config: ListenerConfig) -> None:
        self._handler = handler
        self._config = config
        self._sessions: set[GatewaySMTP] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        config = self._config
        context = tls_context(config.tls_cert, config.tls_key)

        def protocol() -> GatewaySMTP:
            session = GatewaySMTP(
                self._handler,
                session_timeout=config.session_timeout,
                on_close=self._sessions.discard,
                hostname=config.hostname,
                ident="ESMTP contact-gateway",
                data_size_limit=config.max_bytes,
                enable_SMTPUTF8=True,
                tls_context=context,
                timeout=IDLE_TIMEOUT_S,
                command_call_limit=config.command_limit,
                loop=loop,
            )
            self._sessions.add(session)
            return session

        self._server = await loop.create_server(protocol, host=config.host, port=config.port)

    async def close(self, grace: float) -> None:
        """Stop listening, let messages already received finish (up to ``grace`` s), then
        tell connected clients ``421`` and close their connections."""
        if self._server is not None:
            self._server.close()
        await self._handler.drain(grace)
        for session in list(self._sessions):
            session.shut_down()
        if self._server is not None:
            await self._server.wait_closed()


async def start_server(handler: SmtpHandler, config: ListenerConfig) -> SmtpListener:
    """Listen on ``config.host:config.port`` on the running loop; the caller closes it."""
    listener = SmtpListener(handler, config)
    await listener.start()
    return listener
