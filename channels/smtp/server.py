"""The SMTP listener: aiosmtpd's protocol on the gateway's own event loop.

aiosmtpd's ``Controller`` runs its own loop in a thread; the gateway instead creates
the server with ``loop.create_server`` so SMTP, HTTP, the store and the counters share
one loop (SPEC §2). :class:`GatewaySMTP` adds what a server facing the internet needs
and aiosmtpd leaves out: enhanced status codes for the size limit, a deadline for the
whole session (not only between commands), and no AUTH at all.

It also reads DATA itself (:func:`read_data`): aiosmtpd throws away a message with a
line over its limit or over the size limit, but a restricted customer's refused message
is evidence and must be kept, so the gateway reads such a message to its end, keeps
what is within the size limit, and hands it to the handler with the refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from channels.smtp import replies
from channels.smtp.handler import SmtpHandler
from channels.smtp.ports import Refusal, RefusalKind

IDLE_TIMEOUT_S = 300.0  # RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes per command
MAX_LINE = 998  # RFC 5322 §2.1.1: octets in a line, CRLF not counted


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
        self._smtp_handler = handler
        self._session_timeout = session_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._on_close = on_close
        self._closing: str | None = None  # the 421 said, or due once a message is answered
        self._answered = asyncio.Event()  # clear while a message is taken and not yet answered
        self._answered.set()

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

    async def answered(self) -> None:
        """Return once no message of this session is waiting for its reply."""
        await self._answered.wait()

    def _close_with(self, reply: str) -> None:
        """Say ``reply`` (a 421) and close. A session whose message is being taken first
        answers it (see :meth:`answered`): a ``421`` in its place would make the sender
        send a message already delivered a second time."""
        self._closing = reply
        if not self._answered.is_set():
            return  # smtp_DATA closes once the message is answered
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

    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA command, reading the message with :func:`read_data`."""
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            data = await read_data(self._reader, self.data_size_limit)
        except asyncio.CancelledError:  # the client hung up before the final "."
            self._writer.close()
            raise
        if self._closing is not None:  # told 421 already, the sender keeps it: not taken
            return
        self.envelope.content = self.envelope.original_content = data.content
        self._answered.clear()
        try:
            status = await self._smtp_handler.handle_DATA(
                self, self.session, self.envelope, data.refusal(self.data_size_limit)
            )
            self.envelope = self._create_envelope()  # aiosmtpd's post-DATA state
            await self.push(status)
        finally:
            self._answered.set()
        if self._closing is not None:
            self._close_with(self._closing)


@dataclass(frozen=True, slots=True)
class ReceivedData:
    """A message as read after DATA: what is kept, and what was wrong with it."""

    content: bytes
    size: int  # octets received, counted as aiosmtpd counts them for the size limit
    long_line: bool
    over_limit: bool

    def refusal(self, limit: int | None) -> Refusal | None:
        """The refusal due for what arrived, if any (too big before a long line)."""
        if self.over_limit:
            reason = (
                f"the message is over the limit of {limit} bytes ({self.size} bytes arrived;"
                f" the first {len(self.content)} are kept)"
            )
            return Refusal(RefusalKind.TOO_BIG, reason, replies.TOO_BIG.format(limit=limit))
        if self.long_line:
            reason = f"a line is longer than {MAX_LINE} octets (RFC 5322 §2.1.1)"
            return Refusal(RefusalKind.LINE_TOO_LONG, reason, replies.LINE_TOO_LONG)
        return None


async def read_data(reader: asyncio.StreamReader, limit: int | None) -> ReceivedData:
    """Read a message up to its final ``.`` line as aiosmtpd does (transparency dots
    removed, octets counted against ``limit`` with their CRLF and dot), but keep a
    message with a line over ``MAX_LINE`` octets, and the lines within ``limit`` of one
    that is over it. Memory stays bounded by ``limit``: past it nothing more is kept."""
    lines: list[bytes] = []
    line: list[bytes] = []  # the pieces of the current line (several when it is long)
    line_length = size = 0
    stuffed = long_line = over_limit = False
    while True:
        try:
            piece = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as exc:  # longer than the reader's buffer limit
            piece = await reader.read(exc.consumed)
        if not line_length:
            if piece == b".\r\n":
                break
            stuffed = piece.startswith(b".")  # RFC 5321 §4.5.2
        size += len(piece)
        line_length += len(piece)
        if limit and size > limit and not over_limit:
            over_limit, line = True, []  # the line under way is not kept either
        if not over_limit:
            line.append(piece)
        if not piece.endswith(b"\r\n"):
            continue  # the rest of a long line is still to come
        if line_length - 2 - int(stuffed) > MAX_LINE:
            long_line = True
        if line:
            whole = b"".join(line)
            lines.append(whole[1:] if stuffed else whole)
        line, line_length = [], 0
    return ReceivedData(b"".join(lines), size, long_line, over_limit)


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
        tell connected clients ``421`` and close their connections. A message taken in
        the meantime is answered before its session hears ``421`` (within the same
        ``grace``)."""
        deadline = asyncio.get_running_loop().time() + grace
        if self._server is not None:
            self._server.close()
        await self._handler.drain(grace)
        sessions = list(self._sessions)
        for session in sessions:
            session.shut_down()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await asyncio.gather(*(session.answered() for session in sessions))
        if self._server is not None:
            await self._server.wait_closed()


async def start_server(handler: SmtpHandler, config: ListenerConfig) -> SmtpListener:
    """Listen on ``config.host:config.port`` on the running loop; the caller closes it."""
    listener = SmtpListener(handler, config)
    await listener.start()
    return listener
