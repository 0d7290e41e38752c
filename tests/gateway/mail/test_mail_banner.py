"""The staff banner goes into a message's text in every shape mail comes in, and changes
nothing else: not the header section, other parts, attachments or any charset's bytes."""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP

import pytest

from gateway.mail.banner import with_banner

LINE = "Contact gateway: customer C-1 - warning flag: RED physical violence."


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=SMTP).parsebytes(raw)


def head(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def single(content_type: str, cte: str, body: bytes) -> bytes:
    return (
        b"From: a@example.net\r\nTo: housing@example.org\r\nSubject: x\r\n"
        + f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + body
    )


def test_html_only_mail_gets_the_banner_just_inside_body() -> None:
    raw = single(
        "text/html; charset=utf-8", "8bit", "<html><BODY class='x'>Hi ✓</BODY></html>\r\n".encode()
    )
    out = with_banner(raw, LINE)
    assert head(out) == head(raw)
    html = parse(out).get_content()
    assert html.startswith("<html><BODY class='x'><div role=\"note\"")
    assert LINE in html and html.endswith("Hi ✓</BODY></html>\r\n")


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "koi8-r", "shift_jis"])
def test_eight_bit_text_in_any_ascii_charset_keeps_its_bytes(charset: str) -> None:
    text = {"koi8-r": "Привет", "shift_jis": "こんにちは"}.get(charset, "Café über")
    body = text.encode(charset) + b"\r\n"
    raw = single(f"text/plain; charset={charset}", "8bit", body)
    out = with_banner(raw, LINE)
    assert out == head(raw) + b"\r\n\r\n" + LINE.encode() + b"\r\n\r\n" + body


def test_base64_and_quoted_printable_are_decoded_banner_added_and_encoded_again() -> None:
    text = "Wet walls, café, £40 = too much.\r\n".encode()
    for cte, encoded in (
        ("base64", base64.encodebytes(text).replace(b"\n", b"\r\n")),
        ("quoted-printable", quopri.encodestring(text.replace(b"\r", b"")).replace(b"\n", b"\r\n")),
    ):
        raw = single("text/plain; charset=utf-8", cte, encoded)
        out = with_banner(raw, LINE)
        assert head(out) == head(raw)
        part = parse(out)
        assert part["Content-Transfer-Encoding"] == cte
        assert part.get_payload(decode=True) == LINE.encode() + b"\r\n\r\n" + text


@pytest.mark.parametrize(
    ("content_type", "cte", "body"),
    [
        # UTF-16 cannot carry the banner's ASCII as ASCII.
        ("text/plain; charset=utf-16", "base64", base64.encodebytes("hé".encode("utf-16"))),
        # A charset nobody knows: its bytes might mean anything.
        ("text/plain; charset=x-unheard-of", "8bit", b"\xe9\xe9\r\n"),
        # Base64 that does not decode strictly.
        ("text/plain; charset=utf-8", "base64", b"not*base64!\r\n"),
        # Not text at all.
        ("application/pdf", "base64", base64.encodebytes(b"%PDF")),
    ],
)
def test_a_body_it_cannot_change_safely_goes_as_sent(
    content_type: str, cte: str, body: bytes
) -> None:
    raw = single(content_type, cte, body)
    assert with_banner(raw, LINE) == raw


def test_attachments_and_the_other_parts_are_untouched() -> None:
    mail = EmailMessage(policy=SMTP)
    mail["From"], mail["Subject"] = "a@example.net", "Report"
    mail.set_content("See attached.\n")
    mail.add_attachment("Not the body.\n", filename="notes.txt")
    mail.add_attachment(bytes(range(256)), maintype="application", subtype="octet-stream")
    raw = mail.as_bytes()
    out = parse(with_banner(raw, LINE))
    body = out.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == f"{LINE}\n\nSee attached.\n"
    text, data = out.iter_attachments()
    assert text.get_content() == "Not the body.\r\n"
    assert data.get_content() == bytes(range(256))
    originals = list(parse(raw).iter_attachments())
    assert [p.as_bytes() for p in originals] == [text.as_bytes(), data.as_bytes()]


def test_a_message_email_cannot_write_back_exactly_is_left_alone() -> None:
    # A multipart whose closing boundary never comes: written back, email would add one.
    raw = (
        b"From: a@example.net\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    )
    assert with_banner(raw, LINE) == raw


def test_line_ending_of_the_message_is_kept() -> None:
    raw = b"From: a@example.net\nSubject: x\n\nhello\n"
    assert (
        with_banner(raw, LINE)
        == b"From: a@example.net\nSubject: x\n\n" + LINE.encode() + b"\n\nhello\n"
    )
