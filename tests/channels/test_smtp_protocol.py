"""The SMTP listener over real sockets: relay refusal, limits, hardening, fault replies.

The sink behind the listener is a small recording one, so these tests are about the
protocol; the decisions are tested through the whole gateway in tests/gateway.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from channels.smtp import (
    Disposition,
    HandlerConfig,
    InboundMessage,
    ListenerConfig,
    Outcome,
    Refusal,
    RefusalKind,
    SmtpHandler,
    SmtpListener,
    start_server,
)
from tests.gateway.mail_support import STAFF, message, transact

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@dataclass
class RecordingSink:
    accepted: list[InboundMessage] = field(default_factory=list)
    refused: list[tuple[InboundMessage, Refusal]] = field(default_factory=list)
    fail: Exception | None = None
    gate: asyncio.Event | None = None
    started: int = 0

    async def accept(self, message: InboundMessage) -> Outcome:
        self.started += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        self.accepted.append(message)
        return Outcome(Disposition.DELIVERED)

    async def refuse(self, message: InboundMessage, refusal: Refusal) -> None:
        self.refused.append((message, refusal))


@dataclass
class Listening:
    sink: RecordingSink
    handler: SmtpHandler
    listener: SmtpListener

    @property
    def port(self) -> int:
        return self.listener.port


async def listen(sink: RecordingSink, **overrides: Any) -> Listening:
    handler_config = {
        "org_domains": ("example.org",),
        "hostname": "gateway.test",
        "max_recipients": 3,
        "max_received": 5,
    }
    listener_config = {
        "host": "127.0.0.1",
        "port": 0,
        "hostname": "gateway.test",
        "max_bytes": 4096,
        "command_limit": 50,
        "session_timeout": 30.0,
    }
    for key, value in overrides.items():
        (handler_config if key in handler_config else listener_config)[key] = value
    handler = SmtpHandler(sink, HandlerConfig(**handler_config), lambda: NOW)
    listener = await start_server(handler, ListenerConfig(**listener_config))
    return Listening(sink, handler, listener)


@pytest.fixture
async def server() -> AsyncIterator[Listening]:
    running = await listen(RecordingSink())
    try:
        yield running
    finally:
        await running.listener.close(grace=5)


async def test_mail_for_the_organisation_is_taken(server: Listening) -> None:
    reply = await transact(server.port, "a@example.net", [STAFF], message("a@example.net"))
    assert reply.code == 250 and "2.0.0" in reply.text
    [taken] = server.sink.accepted
    assert taken.recipients == (STAFF,) and taken.envelope_sender == "a@example.net"


@pytest.mark.parametrize(
    "recipient",
    ["someone@elsewhere.com", "x@example.org.evil.com", "x@sub.example.org", "postmaster"],
)
async def test_no_open_relay(server: Listening, recipient: str) -> None:
    reply = await transact(server.port, "a@example.net", [recipient], message())
    assert reply.rcpt_codes[0] in (550, 553)
    assert server.sink.accepted == []


async def test_relay_refusal_says_why(server: Listening) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False) as smtp:
        await smtp.mail("a@example.net")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await smtp.rcpt("someone@elsewhere.com")
    assert refused.value.code == 550 and refused.value.message.startswith("5.7.1 Relaying denied")


async def test_too_many_recipients_gets_452(server: Listening) -> None:
    recipients = [f"r{i}@example.org" for i in range(5)]
    reply = await transact(server.port, "a@example.net", recipients, message())
    assert reply.rcpt_codes == (250, 250, 250, 452, 452)
    assert reply.code == 250
    assert server.sink.accepted[0].recipients == tuple(recipients[:3])


async def test_message_over_the_size_limit_gets_552(server: Listening) -> None:
    big = message(body="x" * 70 + "\n" * 0 + ("y" * 70 + "\n") * 100)
    reply = await transact(server.port, "a@example.net", [STAFF], big)
    assert reply.code == 552 and reply.text.startswith("5.3.4")
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False) as smtp:
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as declared:
            await smtp.mail("a@example.net", options=["SIZE=100000"])
    assert declared.value.code == 552 and declared.value.message.startswith("5.3.4")
    assert server.sink.accepted == []


async def test_a_looping_message_is_refused(server: Listening) -> None:
    hops = [("Received", f"from hop{i}.example by hop{i + 1}.example; {i}") for i in range(5)]
    reply = await transact(server.port, "a@example.net", [STAFF], message(headers=hops))
    assert reply.code == 554 and reply.text.startswith("5.4.0")
    fewer = message(headers=hops[:4], message_id="<m2@example.net>")
    assert (await transact(server.port, "a@example.net", [STAFF], fewer)).code == 250


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"just some words\r\nand no headers at all\r\n", 550, "5.6.0 Malformed message"),
        (b"From: a@example.net\r\nSubject: x\r\n\r\nnul \x00 byte\r\n", 550, "NUL"),
        (b"From: a@example.net\r\n\r\n" + b"z" * 1200 + b"\r\n", 500, "Line too long"),
    ],
    ids=["no headers", "NUL byte", "overlong line"],
)
async def test_malformed_input_gets_a_clear_5xx(
    server: Listening, data: bytes, code: int, words: str
) -> None:
    reply = await transact(server.port, "a@example.net", [STAFF], data)
    assert reply.code == code and words in reply.text
    assert server.sink.accepted == []
    # The session survives: the next message is taken as usual.
    assert (await transact(server.port, "a@example.net", [STAFF], message())).code == 250


async def test_malformed_message_is_offered_to_the_sink_for_evidence(server: Listening) -> None:
    await transact(server.port, "a@example.net", [STAFF], b"no headers here\r\n")
    [(refused, refusal)] = server.sink.refused
    assert refused.raw == b"no headers here\r\n" and "no header section" in refusal.reason


HEAD = b"From: a@example.net\r\nSubject: x\r\n\r\n"


async def test_a_line_may_have_998_octets_not_counting_the_transparency_dot(
    server: Listening,
) -> None:
    longest = HEAD + b"y" * 998 + b"\r\n" + b"." + b"w" * 997 + b"\r\n"  # the client stuffs
    assert (await transact(server.port, "a@example.net", [STAFF], longest)).code == 250
    [taken] = server.sink.accepted
    assert taken.raw == longest
    too_long = HEAD + b"y" * 999 + b"\r\n"
    reply = await transact(server.port, "a@example.net", [STAFF], too_long)
    assert reply.code == 500 and reply.text.startswith("5.6.0 Line too long")
    [(refused, refusal)] = server.sink.refused
    assert (refused.raw, refusal.kind) == (too_long, RefusalKind.LINE_TOO_LONG)
    assert refusal.reply.startswith("500 5.6.0")


async def test_a_message_over_the_size_limit_is_offered_with_what_fits(server: Listening) -> None:
    lines = HEAD + (b"t" * 70 + b"\r\n") * 100  # 7,235 bytes; the limit is 4,096
    reply = await transact(server.port, "a@example.net", [STAFF], lines)
    assert reply.code == 552 and reply.text.startswith("5.3.4")
    one_line = HEAD + b"u" * 100_000 + b"\r\n"  # nothing of the line over the limit is kept
    assert (await transact(server.port, "a@example.net", [STAFF], one_line)).code == 552
    [(first, too_big), (second, also)] = server.sink.refused
    assert {too_big.kind, also.kind} == {RefusalKind.TOO_BIG}
    assert lines.startswith(first.raw) and 4096 - 72 < len(first.raw) <= 4096
    assert first.raw.endswith(b"\r\n") and first.header_from == "a@example.net"
    assert f"{len(lines)} bytes arrived" in too_big.reason
    assert second.raw == HEAD
    assert server.sink.accepted == []


async def test_eight_bit_garbage_is_taken_not_crashed_on(server: Listening) -> None:
    garbage = (
        b"From: \xff\xfe Alex <a@example.net>\r\nSubject: \xc3\x28 bad utf-8 \x80\r\n"
        b"Content-Type: multipart/mixed\r\n\r\n\xde\xad\xbe\xef no boundary at all\r\n"
    )
    reply = await transact(server.port, "a@example.net", [STAFF], garbage)
    assert reply.code == 250
    [taken] = server.sink.accepted
    assert taken.raw == garbage
    assert taken.header_from == "a@example.net"
    assert isinstance(taken.text(), str)


async def test_addresses_that_are_not_utf8_are_refused(server: Listening) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        replies = []
        await reader.readline()
        for line in (b"EHLO c.test", b"MAIL FROM:<\xff@example.net> SMTPUTF8", b"RSET"):
            writer.write(line + b"\r\n")
            while (reply := await reader.readline())[3:4] == b"-":
                pass
            replies.append(reply)
        writer.write(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<\xfe@example.org>\r\nQUIT\r\n")
        replies += [await reader.readline() for _ in range(3)]
    finally:
        writer.close()
        await writer.wait_closed()
    assert replies[1].startswith(b"553 5.1.7")
    assert replies[3].startswith(b"250 2.1.0") and replies[4].startswith(b"553 5.1.3")
    assert server.sink.accepted == []


async def test_auth_is_never_offered(server: Listening) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False) as smtp:
        ehlo = await smtp.ehlo()
        assert "AUTH" not in ehlo.message.upper()
        response = await smtp.execute_command(b"AUTH", b"PLAIN", b"AGFAYg==")
    assert response.code == 502


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for localhost, made by openssl for this test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_stdlib_client_with_starttls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    running = await listen(RecordingSink(), tls_cert=cert, tls_key=key)
    try:

        def send() -> tuple[bool, bool]:
            context = ssl.create_default_context(cafile=str(cert))
            context.check_hostname = False
            with smtplib.SMTP("127.0.0.1", running.port, timeout=30) as client:
                client.ehlo("client.test")
                offered = client.has_extn("starttls")
                client.starttls(context=context)
                client.ehlo("client.test")
                client.sendmail("a@example.net", [STAFF], message("a@example.net"))
                return offered, client.has_extn("auth")

        offered, auth_after_tls = await asyncio.to_thread(send)
    finally:
        await running.listener.close(grace=5)
    assert offered and not auth_after_tls
    [taken] = running.sink.accepted
    assert taken.peer.tls and b"with ESMTPS id" in taken.for_delivery()


async def test_per_connection_command_limit() -> None:
    running = await listen(RecordingSink(), command_limit=10)
    try:
        async with aiosmtplib.SMTP(
            hostname="127.0.0.1", port=running.port, start_tls=False
        ) as smtp:
            codes = []
            for _ in range(11):
                try:
                    codes.append((await smtp.noop()).code)
                except aiosmtplib.SMTPResponseException as exc:
                    codes.append(exc.code)
                    break
    finally:
        await running.listener.close(grace=5)
    assert codes == [250] * 10 + [421]


async def test_session_deadline_closes_a_slow_session() -> None:
    running = await listen(RecordingSink(), session_timeout=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        try:
            async with asyncio.timeout(10):
                # The client says nothing after the banner; the deadline ends the session.
                lines = [line async for line in _lines_until_closed(reader)]
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        await running.listener.close(grace=5)
    assert lines[0].startswith(b"220 gateway.test")
    assert lines[-1].startswith(b"421 4.4.2")


async def _lines_until_closed(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while line := await reader.readline():
        yield line


async def test_a_fault_in_the_sink_answers_451_not_500(server: Listening) -> None:
    server.sink.fail = RuntimeError("the database fell over")
    reply = await transact(server.port, "a@example.net", [STAFF], message())
    assert reply.code == 451 and reply.text.startswith("4.3.0")


class FaultyHandler(SmtpHandler):
    async def handle_RCPT(self, *args: Any) -> str:
        raise RuntimeError("a bug in a hook")


async def test_a_fault_inside_the_session_answers_451_not_500() -> None:
    handler = FaultyHandler(
        RecordingSink(), HandlerConfig(("example.org",), "gw.test"), lambda: NOW
    )
    listener = await start_server(
        handler, ListenerConfig("127.0.0.1", 0, "gw.test", 4096, 50, 30.0)
    )
    try:
        reply = await transact(listener.port, "a@example.net", [STAFF], message())
    finally:
        await listener.close(grace=5)
    assert reply.rcpt_codes == (451,)


async def _raw_session(port: int, lines: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for line in lines:
        writer.write(line)
        await writer.drain()
        if not line.startswith((b"Subject", b"From", b"\r\n", b"body", b".")):
            while True:
                reply = await reader.readline()
                if reply[3:4] != b"-":
                    break
    writer.close()
    await writer.wait_closed()


ENVELOPE = [b"EHLO c.test\r\n", b"MAIL FROM:<a@example.net>\r\n", b"RCPT TO:<x@example.org>\r\n"]


async def test_client_gone_mid_data_leaves_nothing_behind(server: Listening) -> None:
    await _raw_session(server.port, [*ENVELOPE, b"DATA\r\n", b"Subject: half\r\n", b"\r\n"])
    await _until(lambda: not server.listener._sessions)
    assert server.sink.started == 0 and server.sink.accepted == []


async def test_client_gone_after_the_final_dot_is_still_processed(server: Listening) -> None:
    server.sink.gate = asyncio.Event()
    body = [b"From: a@example.net\r\n", b"\r\n", b"body\r\n", b".\r\n"]
    hang_up = asyncio.create_task(_raw_session(server.port, [*ENVELOPE, b"DATA\r\n", *body]))
    await _until(lambda: server.sink.started == 1)
    await hang_up  # the client has gone before hearing the reply
    await _until(lambda: not server.listener._sessions)
    server.sink.gate.set()
    assert await server.handler.drain(grace=5) == 1
    [taken] = server.sink.accepted
    assert taken.raw == b"From: a@example.net\r\n\r\nbody\r\n"


async def _until(condition: Any) -> None:
    for _ in range(500):  # bounded: 5 s
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the condition never came true")


async def test_a_message_taken_as_the_gateway_stops_hears_its_250_not_421() -> None:
    """Stopping must not answer 421 to a message it has already taken: the sender would
    try again and the message would be delivered twice."""
    running = await listen(RecordingSink(gate=asyncio.Event()))
    assert running.sink.gate is not None
    sending = asyncio.create_task(transact(running.port, "a@example.net", [STAFF], message()))
    await _until(lambda: running.sink.started == 1)
    closing = asyncio.create_task(running.listener.close(grace=5))
    await asyncio.sleep(0)  # close() is now waiting for the message to be taken
    running.sink.gate.set()
    await closing
    reply = await sending
    assert reply.code == 250, reply
    assert len(running.sink.accepted) == 1


@pytest.mark.parametrize("closing", ["shut_down", "_session_over"])
async def test_a_session_told_to_close_while_its_message_is_taken_answers_it_first(
    closing: str,
) -> None:
    """The session hears 250 for the message it handed over, then 421, and closes; a
    421 in place of the 250 would have the sender deliver the message a second time.
    The gateway stopping, or the session's deadline, alike."""
    running = await listen(RecordingSink(gate=asyncio.Event()))
    assert running.sink.gate is not None
    try:
        sending = asyncio.create_task(transact(running.port, "a@example.net", [STAFF], message()))
        await _until(lambda: running.sink.started == 1)
        [session] = running.listener._sessions
        getattr(session, closing)()  # as close() does to a session its drain did not wait for
        running.sink.gate.set()
        reply = await sending
        assert reply.code == 250, reply
        assert len(running.sink.accepted) == 1
        await _until(lambda: not running.listener._sessions)
    finally:
        await running.listener.close(grace=5)
