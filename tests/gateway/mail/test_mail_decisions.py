"""Every email decision of SPEC §4, through SMTP, the real gateway and a real upstream.

Each test sends with aiosmtplib to the gateway's listener; the gateway relays to an
aiosmtpd upstream on another free port, and the store is SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiosmtplib
import pytest

from tests.gateway.mail_support import (
    CUSTOMER,
    DEPUTY,
    OFFICER,
    REPRESENTATIVE,
    STAFF,
    FakeClock,
    Gateway,
    Upstream,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)
from tests.rules.factories import OFFICERS


@dataclass
class Env:
    gateway: Gateway
    upstream: Upstream
    clock: FakeClock

    async def use(self, *restrictions: dict[str, Any], **kwargs: Any) -> None:
        quiet = [{"notify_customer": False, **r} for r in restrictions]
        await self.gateway.store.upsert_policy(policy(*quiet, **kwargs), actor="test")


@asynccontextmanager
async def start(database_url: str, **smtp: Any) -> AsyncIterator[Env]:
    clock = FakeClock()
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}", **smtp)
        async with running_gateway(settings, clock) as gateway:
            yield Env(gateway, upstream, clock)


@pytest.fixture
async def env(sqlite_database_url: str) -> AsyncIterator[Env]:
    """A gateway on SQLite, for what is about the protocol more than the store."""
    async with start(sqlite_database_url) as running:
        yield running


@pytest.fixture
async def stored(database_url: str) -> AsyncIterator[Env]:
    """A gateway on SQLite and on PostgreSQL, for what must hold on both stores."""
    async with start(database_url) as running:
        yield running


DELIVER_CASES = [
    pytest.param({}, CUSTOMER, "", OFFICER, None, id="named officer"),
    pytest.param({"named_officer": None}, CUSTOMER, "", STAFF, None, id="as addressed"),
    pytest.param(
        {"handling": "no_contact"},
        CUSTOMER,
        "There is a gas leak in my kitchen",
        OFFICER,
        "emergency_repair",
        id="exemption beats no contact",
    ),
    pytest.param(
        {"handling": "representative_only"},
        REPRESENTATIVE,
        "",
        OFFICER,
        None,
        id="representative for the customer",
    ),
]


@pytest.mark.parametrize(("overrides", "sender", "text", "to", "exemption"), DELIVER_CASES)
async def test_delivered(
    env: Env, overrides: dict[str, Any], sender: str, text: str, to: str, exemption: str | None
) -> None:
    await env.use(overrides)
    sent = message(sender, body=text or "Please call me.")
    reply = await transact(env.gateway.port, sender, [STAFF], sent)
    assert reply.code == 250 and "delivered" in reply.text
    [delivered] = env.upstream.messages
    assert delivered.rcpt_tos == [to] and delivered.mail_from == sender
    assert delivered.content.endswith(sent), "the message itself is passed on unchanged"
    assert delivered.header("X-Contact-Gateway-Restriction") == "R-1"
    assert delivered.header("X-Contact-Gateway-Exemption") == exemption
    [record] = await env.gateway.store.list_evidence()
    assert (record.action, record.deliver_to, record.exemption) == ("deliver", to, exemption)
    assert record.details["original_recipients"] == [STAFF]
    assert await env.gateway.store.list_held() == []


HOLD_CASES = [
    pytest.param({"handling": "no_contact"}, CUSTOMER, "no_contact", id="no contact"),
    pytest.param(
        {"handling": "representative_only"},
        CUSTOMER,
        "representative_only",
        id="representative only, from the customer",
    ),
    pytest.param({"channels": ["voice"]}, CUSTOMER, "channel_not_allowed", id="channel"),
    pytest.param({"handling": "read_and_file"}, CUSTOMER, "read_and_file", id="read and file"),
]


@pytest.mark.parametrize(("overrides", "sender", "hold_reason"), HOLD_CASES)
async def test_held(stored: Env, overrides: dict[str, Any], sender: str, hold_reason: str) -> None:
    await stored.use(overrides)
    sent = message(sender, subject="My rent account")
    reply = await transact(stored.gateway.port, sender, [STAFF], sent)
    assert reply.code == 250
    assert stored.upstream.messages == []
    [held] = await stored.gateway.store.list_held()
    assert (held.hold_reason, held.summary, held.sender) == (hold_reason, "My rent account", sender)
    assert await stored.gateway.store.get_content(str(held.content_sha256)) == sent
    record = await stored.gateway.store.get_evidence(held.evidence_seq)
    assert record is not None and record.action == "hold" and record.hold_reason == hold_reason


async def test_unrestricted_sender_passes_untouched_and_leaves_no_evidence(env: Env) -> None:
    await env.use({})
    sent = message("stranger@example.com", to=[STAFF, "repairs@example.org"])
    reply = await transact(
        env.gateway.port, "stranger@example.com", [STAFF, "repairs@example.org"], sent
    )
    assert reply.code == 250
    [delivered] = env.upstream.messages
    assert delivered.rcpt_tos == [STAFF, "repairs@example.org"]
    assert delivered.content.endswith(sent)
    assert delivered.content.startswith(
        b"Received: from client.test ([127.0.0.1])\r\n\tby gateway.test"
    )
    assert delivered.header("X-Contact-Gateway-Restriction") is None
    assert await env.gateway.store.list_evidence() == []


ROUTED = [
    "x%evil.example@example.org",
    '"x@evil.example"@example.org',
    "x!evil.example@example.org",
]


async def test_recipients_routed_onwards_by_their_local_part_are_refused(env: Env) -> None:
    """The percent hack, a quoted address and a bang path, each in a domain the gateway
    serves: the mailbox server that trusts the gateway might relay them outside."""
    stranger = "stranger@example.com"
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=env.gateway.port, start_tls=False, timeout=30
    ) as client:
        await client.mail(stranger)
        for address in ROUTED:
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
                await client.rcpt(address)
            assert refused.value.code == 550, address
            assert refused.value.message.startswith("5.7.1 Relaying denied"), address
            assert "routes onwards through its local part" in refused.value.message
        assert (await client.rcpt(STAFF)).code == 250
        assert (await client.data(message(stranger))).code == 250
    [delivered] = env.upstream.messages
    assert delivered.rcpt_tos == [STAFF]
    # With none of its recipients taken, nothing is relayed at all.
    reply = await transact(env.gateway.port, stranger, ROUTED, message(stranger))
    assert reply.rcpt_codes == (550, 550, 550)
    assert len(env.upstream.messages) == 1


async def test_redirect_rewrites_the_envelope_once_and_says_why(env: Env) -> None:
    await env.use({})
    staff = [STAFF, "repairs@example.org", "director@example.org"]
    sent = message(to=staff, message_id="<many@example.net>")
    assert (await transact(env.gateway.port, CUSTOMER, staff, sent)).code == 250
    [delivered] = env.upstream.messages
    assert delivered.rcpt_tos == [OFFICER]
    assert delivered.header("To") == ", ".join(staff), "the content keeps its own To"
    assert delivered.header("X-Contact-Gateway-Original-Recipients") == ", ".join(staff)
    assert delivered.header("X-Contact-Gateway-Redirected-To") == OFFICER
    assert "named officer Jane Smith" in str(delivered.header("X-Contact-Gateway-Reason"))
    [record] = await env.gateway.store.list_evidence()
    assert record.details["original_recipients"] == staff
    assert record.details["message_id"] == "many@example.net"


async def test_absent_officer_sends_to_the_deputy(env: Env) -> None:
    officers = [{**o, "absent": o["id"] == "jsmith"} for o in OFFICERS]
    await env.use({}, officers=officers)
    assert (await transact(env.gateway.port, CUSTOMER, [STAFF], message())).code == 250
    [delivered] = env.upstream.messages
    assert delivered.rcpt_tos == [DEPUTY]
    assert "deputy Ali Khan" in str(delivered.header("X-Contact-Gateway-Reason"))


async def test_excess_is_held_and_does_not_count(stored: Env) -> None:
    await stored.use({"limits": [{"channel": "email", "max": 2, "per": "P1D"}]})
    replies = [
        await transact(stored.gateway.port, CUSTOMER, [STAFF], message(message_id=f"<n{i}@x>"))
        for i in range(4)
    ]
    assert [r.code for r in replies] == [250] * 4
    assert len(stored.upstream.messages) == 2
    held = await stored.gateway.store.list_held()
    assert [h.hold_reason for h in held] == ["excess", "excess"]
    records = await stored.gateway.store.list_evidence()
    assert sorted(r.counted for r in records) == [False, False, True, True]


async def test_customer_is_known_by_header_from_whatever_the_envelope(env: Env) -> None:
    await env.use({"handling": "read_and_file"})
    sent = message(CUSTOMER)
    assert (
        await transact(env.gateway.port, "bounces+77@mailer.example", [STAFF], sent)
    ).code == 250
    [held] = await env.gateway.store.list_held()
    assert held.sender == CUSTOMER
    record = await env.gateway.store.get_evidence(held.evidence_seq)
    assert record is not None and record.details["envelope_sender"] == "bounces+77@mailer.example"


async def test_customer_is_known_by_envelope_sender_whatever_the_from(env: Env) -> None:
    await env.use({"handling": "read_and_file"})
    sent = message("Someone Else <other@example.com>")
    assert (await transact(env.gateway.port, CUSTOMER, [STAFF], sent)).code == 250
    [held] = await env.gateway.store.list_held()
    assert held.sender == CUSTOMER


async def test_a_retried_message_is_recorded_once(stored: Env) -> None:
    await stored.use({"handling": "read_and_file"})
    sent = message(message_id="<retry@example.net>")
    for _ in range(3):
        assert (await transact(stored.gateway.port, CUSTOMER, [STAFF], sent)).code == 250
    assert len(await stored.gateway.store.list_evidence()) == 1
    assert len(await stored.gateway.store.list_held()) == 1
    # The same Message-ID with other content is another message.
    edited = message(message_id="<retry@example.net>", body="A different text.")
    assert (await transact(stored.gateway.port, CUSTOMER, [STAFF], edited)).code == 250
    assert len(await stored.gateway.store.list_evidence()) == 2


async def test_eight_bit_garbage_from_a_restricted_sender_is_stored_whole(env: Env) -> None:
    await env.use({"handling": "read_and_file"})
    garbage = (
        f"From: {CUSTOMER}\r\nSubject: \xc3\x28 \x80\x81\r\n".encode("latin-1")
        + b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n!!! not base64 \xff\xfe\r\n"
    )
    assert (await transact(env.gateway.port, CUSTOMER, [STAFF], garbage)).code == 250
    [held] = await env.gateway.store.list_held()
    assert await env.gateway.store.get_content(str(held.content_sha256)) == garbage


async def test_malformed_message_from_a_restricted_sender_is_refused_and_kept(env: Env) -> None:
    await env.use({})
    broken = b"this is not a header\r\nnor is this\r\n"
    reply = await transact(env.gateway.port, CUSTOMER, [STAFF], broken)
    assert reply.code == 550 and "no header section" in reply.text
    assert env.upstream.messages == []
    [held] = await env.gateway.store.list_held()
    assert held.hold_reason == "malformed"
    assert await env.gateway.store.get_content(str(held.content_sha256)) == broken
    record = await env.gateway.store.get_evidence(held.evidence_seq)
    assert record is not None and record.action == "refused" and not record.counted
    # From someone without a restriction it is refused and nothing is kept.
    assert (await transact(env.gateway.port, "x@example.com", [STAFF], broken)).code == 550
    assert len(await env.gateway.store.list_evidence()) == 1


SMALL_LIMIT = 4096
_HOPS = [("Received", f"from hop{i}.example by hop{i + 1}.example; {i}") for i in range(30)]


def _looping(sender: str) -> bytes:
    return message(sender, headers=_HOPS, message_id="<loop@example.net>")


def _long_line(sender: str) -> bytes:
    return message(sender, body="LONG", message_id="<long@example.net>").replace(
        b"LONG", b"z" * 1200
    )


def _too_big(sender: str) -> bytes:
    return message(sender, body="A line of ordinary text.\n" * 400, message_id="<big@x.net>")


REFUSED_CASES = [
    pytest.param(_looping, 554, "5.4.0 Too many hops", "mail_loop", id="a mail loop"),
    pytest.param(
        _long_line, 500, "5.6.0 Line too long", "line_too_long", id="a line over 998 octets"
    ),
    pytest.param(_too_big, 552, "5.3.4 Message too big", "too_big", id="over the size limit"),
]


@pytest.fixture
async def small(database_url: str) -> AsyncIterator[Env]:
    """On SQLite and PostgreSQL, with a small size limit (the smallest allowed is 1 KiB)."""
    async with start(database_url, max_bytes=SMALL_LIMIT) as running:
        yield running


@pytest.mark.parametrize(("write", "code", "words", "kind"), REFUSED_CASES)
async def test_every_refusal_of_a_restricted_senders_mail_is_kept(
    small: Env, write: Callable[[str], bytes], code: int, words: str, kind: str
) -> None:
    """Not only NUL bytes and a missing header section: whatever the channel refuses
    after the message arrived is held for reading and recorded, from a restricted sender."""
    await small.use({})
    sent = write(CUSTOMER)
    reply = await transact(small.gateway.port, CUSTOMER, [STAFF], sent)
    assert (reply.code, reply.text.startswith(words)) == (code, True), reply
    assert small.upstream.messages == []
    [held] = await small.gateway.store.list_held()
    assert (held.hold_reason, held.sender) == (kind, CUSTOMER)
    assert held.summary == f"Refused ({kind.replace('_', ' ')}): About my repair"
    kept = await small.gateway.store.get_content(str(held.content_sha256))
    assert kept is not None
    if kind == "too_big":  # the part within the limit, whole lines, header section first
        assert sent.startswith(kept) and 0 < len(kept) <= SMALL_LIMIT < len(sent)
        assert kept.endswith(b"\r\n") and b"Subject: About my repair\r\n" in kept
    else:
        assert kept == sent
    record = await small.gateway.store.get_evidence(held.evidence_seq)
    assert record is not None
    assert (record.action, record.hold_reason, record.counted) == ("refused", kind, False)
    assert record.details["refused"]
    assert (await small.gateway.store.verify_evidence()).ok
    # From someone without a restriction the same message is refused and nothing kept.
    stranger = "stranger@example.com"
    assert (await transact(small.gateway.port, stranger, [STAFF], write(stranger))).code == code
    assert len(await small.gateway.store.list_evidence()) == 1


async def test_evidence_chain_verifies_after_mail(stored: Env) -> None:
    await stored.use({"limits": [{"channel": "email", "max": 1, "per": "P1D"}]})
    for i in range(3):
        await transact(stored.gateway.port, CUSTOMER, [STAFF], message(message_id=f"<c{i}@x>"))
    result = await stored.gateway.store.verify_evidence()
    assert result.ok and result.records_checked == 3
