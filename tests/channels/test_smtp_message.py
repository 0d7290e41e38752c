"""Reading a received message: identity, idempotency key, authenticity, reply rules."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest

from channels.smtp import InboundMessage, Peer, read_message
from channels.smtp.message import _parsed_header, _strip_html, body_text
from channels.smtp.replies import upstream_refusal
from tests.gateway.mail_support import message

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
EDGE = "mx.example.org"
EDGE_TRACE = ("Received", "from mail.example.net by mx.example.org; Tue, 24 Nov 2026")


def read(
    raw: bytes,
    *,
    sender: str = "alex@example.net",
    trusted: str = "",
    peer: str = "192.0.2.1",
    recipients: tuple[str, ...] = ("housing@example.org",),
) -> InboundMessage:
    return read_message(
        raw,
        queue_id="Q1",
        received_at=NOW,
        peer=Peer(peer, "mail.example.net", tls=False),
        envelope_sender=sender,
        recipients=recipients,
        trusted_authserv_id=trusted,
        hostname="gateway.test",
    )


def test_contact_key_is_stable_for_a_resent_message_and_changes_with_content() -> None:
    first, again = read(message()), read(message())
    assert first.contact_key == again.contact_key
    assert first.contact_key.startswith("email:m1@example.net:")
    assert read(message(body="Other words.")).contact_key != first.contact_key
    assert (
        read(message(message_id=None)).contact_key
        == f"email:{read(message(message_id=None)).content_sha256}"
    )


def test_delivery_copy_is_the_original_bytes_under_our_trace() -> None:
    raw = message(headers=[("X-Contact-Gateway-Redirected-To", "forged@example.org")])
    inbound = read(raw)
    copy = inbound.for_delivery([("X-Contact-Gateway-Restriction", "R-1")])
    assert copy.startswith(b"Received: from mail.example.net ([192.0.2.1])\r\n\tby gateway.test")
    assert b"X-Contact-Gateway-Restriction: R-1\r\n" in copy
    assert b"forged@example.org" not in copy, "incoming gateway fields are dropped"
    assert copy.endswith(raw.split(b"\r\n", 1)[1]), "everything after them is untouched"


def test_received_field_for_ipv6_and_several_recipients() -> None:
    inbound = read(message(), peer="2001:db8::1", recipients=("a@example.org", "b@example.org"))
    trace = inbound.received_field()
    assert b"([IPv6:2001:db8::1])" in trace and b" for <" not in trace


AUTH_CASES = [
    pytest.param(
        [("Authentication-Results", f"{EDGE}; dmarc=pass"), EDGE_TRACE],
        "",
        None,
        0,
        id="not configured",
    ),
    pytest.param(
        [("Authentication-Results", f"{EDGE}; dmarc=pass"), EDGE_TRACE],
        EDGE,
        True,
        0,
        id="dmarc pass",
    ),
    pytest.param(
        [("Authentication-Results", f"{EDGE}; dkim=pass header.d=example.net"), EDGE_TRACE],
        EDGE,
        True,
        0,
        id="aligned dkim",
    ),
    pytest.param(
        [("Authentication-Results", f"{EDGE}; dkim=pass header.d=bulk.example"), EDGE_TRACE],
        EDGE,
        False,
        0,
        id="unaligned dkim",
    ),
    pytest.param(
        [
            ("Authentication-Results", f"{EDGE}; spf=pass smtp.mailfrom=alex@example.net"),
            EDGE_TRACE,
        ],
        EDGE,
        True,
        0,
        id="spf for the envelope domain",
    ),
    pytest.param(
        [EDGE_TRACE, ("Authentication-Results", f"{EDGE}; dmarc=pass")],
        EDGE,
        False,
        1,
        id="forged below the trace",
    ),
    pytest.param(
        [EDGE_TRACE, ("Authentication-Results", f"{EDGE} ;;; garbage =")],
        EDGE,
        False,
        1,
        id="garbled forgery",
    ),
    pytest.param(
        [("Authentication-Results", "other.example; dmarc=pass"), EDGE_TRACE],
        EDGE,
        False,
        0,
        id="someone else's id",
    ),
]


@pytest.mark.parametrize(("headers", "trusted", "authenticated", "stripped"), AUTH_CASES)
def test_authentication(
    headers: list[tuple[str, str]], trusted: str, authenticated: bool | None, stripped: int
) -> None:
    inbound = read(message(headers=headers), trusted=trusted)
    assert inbound.authentication.authenticated is authenticated
    assert inbound.authentication.stripped == stripped
    assert inbound.for_delivery().count(b"Authentication-Results") == 1 - stripped
    assert (inbound.auto_reply_block is None) is (authenticated is not False)


def test_spf_for_another_domain_does_not_vouch_for_the_envelope() -> None:
    headers = [
        ("Authentication-Results", f"{EDGE}; spf=pass smtp.mailfrom=x@bulk.example"),
        EDGE_TRACE,
    ]
    assert read(message(headers=headers), trusted=EDGE).authentication.authenticated is False


@pytest.mark.parametrize(
    ("sender", "headers", "blocked"),
    [
        ("alex@example.net", [], None),
        ("", [], "null"),
        ("MAILER-DAEMON@example.net", [], "mail system"),
        ("list-request@example.net", [], "mail system"),
        ("alex@example.net", [("Auto-Submitted", "auto-generated; by=x")], "Auto-Submitted"),
        ("alex@example.net", [("Auto-Submitted", "no")], None),
        ("alex@example.net", [("Precedence", "Bulk")], "Precedence: bulk"),
        ("alex@example.net", [("Precedence", "first-class")], None),
        ("alex@example.net", [("List-Post", "<mailto:l@example.net>")], "List-Post"),
    ],
)
def test_auto_reply_rules(sender: str, headers: list[tuple[str, str]], blocked: str | None) -> None:
    reason = read(message(headers=headers), sender=sender).auto_reply_block
    if blocked is None:
        assert reason is None
    else:
        assert reason is not None and blocked in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"From: a@example.net\r\nSubject: Leak\r\nContent-Type: text/html\r\n\r\n"
            b"<p>There is a <b>gas leak</b></p><script>var x='no';</script>",
            "Leak\nThere is a gas leak",
        ),
        (
            b"From: a@example.net\r\nSubject: s\r\nContent-Type: text/plain; charset=x-none\r\n\r\n"
            b"plain words \xff",
            "s\nplain words",
        ),
        (
            b"From: a@example.net\r\nContent-Type: text/plain\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
            "",
        ),
    ],
    ids=["html", "unknown charset", "broken base64"],
)
def test_body_text_never_fails(raw: bytes, expected: str) -> None:
    assert read(raw).text().startswith(expected)


@pytest.mark.parametrize(
    "from_field",
    [b"From: <<<@@>>>", b"From: =?utf-8?q?=FF=FE?= <\xff@example.net>", b'From: ,,,;;;"', b"From:"],
)
def test_hostile_from_does_not_crash(from_field: bytes) -> None:
    inbound = read(from_field + b"\r\nSubject: x\r\n\r\nbody\r\n")
    assert inbound.malformed is None
    assert inbound.header_from is None or "@" in inbound.header_from


def test_upstream_refusal_keeps_its_words_and_code() -> None:
    assert upstream_refusal(550, "5.1.1 No such user").startswith("550 5.1.1 No such user")
    assert upstream_refusal(550, "no such user").startswith("550 5.0.0 no such user")
    assert upstream_refusal(None, "").startswith("554 5.0.0 refused")


def _modern_body_text(raw: bytes) -> str:
    """What ``body_text`` finds, the long way: the modern policy's own objects."""
    part = BytesParser(policy=default).parsebytes(raw).get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return _strip_html(content) if part.get_content_subtype() == "html" else content


def _body_corpus() -> dict[str, bytes]:
    def mail(**headers: str) -> EmailMessage:
        out = EmailMessage()
        out["From"] = "a@example.net"
        for name, value in headers.items():
            out[name.replace("_", "-")] = value
        return out

    qp = mail(Subject="qp")
    qp.set_content("Caf\u00e9 = gas leak " * 30, cte="quoted-printable")
    b64 = mail(Subject="b64")
    b64.set_content("no hot water\n" * 20, cte="base64")
    latin = mail(Subject="latin")
    latin.set_content("d\u00e9j\u00e0 vu, the boiler", charset="iso-8859-1", cte="8bit")
    html = mail(Subject="html")
    html.set_content("<p>There is a <b>gas leak</b></p><style>p{}</style>", subtype="html")
    alternative = mail(Subject="alternative")
    alternative.set_content("plain words")
    alternative.add_alternative("<p>html words</p>", subtype="html")
    mixed = mail(Subject="mixed")
    mixed.set_content("the body")
    mixed.add_attachment("an attached note", filename="note.txt")
    mixed.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    related = mail(Subject="related")
    related.set_content("<p>see the picture</p>", subtype="html")
    related.add_related(b"GIF89a", maintype="image", subtype="gif", cid="<pic@x>")
    only_attachment = mail(Subject="attachment only")
    only_attachment.add_attachment("text kept as a file", filename="kept.txt")
    calendar = mail(Subject="calendar")
    calendar.set_content("BEGIN:VCALENDAR", subtype="calendar")
    messages = {
        name: m.as_bytes()
        for name, m in [
            ("quoted-printable", qp),
            ("base64", b64),
            ("latin-1 8bit", latin),
            ("html", html),
            ("alternative", alternative),
            ("mixed with attachments", mixed),
            ("related", related),
            ("attachment only", only_attachment),
            ("calendar", calendar),
        ]
    }
    messages["rfc 2231 charset"] = (
        b"From: a@example.net\r\nContent-Type: text/plain; charset*=utf-8''utf-8\r\n\r\n"
        b"words \xc3\xa9\r\n"
    )
    messages["no content type"] = b"From: a@example.net\r\n\r\njust text\r\n"
    return messages


@pytest.mark.parametrize(("raw"), _body_corpus().values(), ids=_body_corpus().keys())
def test_body_text_matches_the_modern_parser(raw: bytes) -> None:
    """The body is found with compat32 headers for speed; the text is what the modern
    policy's ``get_body``/``get_content`` give."""
    assert body_text(raw) == _modern_body_text(raw)


def test_a_long_content_type_is_read_but_not_kept() -> None:
    """Fields are parsed once and kept for the next look, but only short ones: a
    hostile message cannot fill memory with them."""
    long_type = "text/plain; charset=utf-8; x-padding=" + "a" * 5000
    raw = f"From: a@example.net\r\nContent-Type: {long_type}\r\n\r\ngas leak\r\n".encode()
    before = _parsed_header.cache_info().currsize
    assert body_text(raw) == _modern_body_text(raw) == "gas leak\r\n"
    assert _parsed_header.cache_info().currsize == before
