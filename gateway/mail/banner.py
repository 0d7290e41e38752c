"""A one-line banner at the top of a message's text, for the staff who read it.

Used for warning flags and restrictions (``gateway.decisions.staff_notes``). The banner
goes into the message's body text: the first ``text/plain`` part and the first
``text/html`` part that are not attachments (both alternatives of a
``multipart/alternative``, the body of a ``multipart/mixed``), so that every mail
client shows it. Nothing else changes: the top-level header section is kept byte for
byte (``channels.smtp.headers``), as are every other part and every part's header
fields, the MIME structure, preamble and epilogue.

It is written in the bytes of the part as they are encoded, never by decoding the text
and encoding it again, so text in any charset survives as sent, however odd:

* ``7bit``/``8bit``/``binary``: the banner's ASCII bytes go in front of the part's
  bytes (in HTML, just after the ``<body>`` tag);
* ``base64`` and ``quoted-printable``: the part's bytes are decoded, the banner put in
  front, and encoded again (the same bytes come out of the decoding afterwards).

A part is left alone when its charset cannot carry ASCII as ASCII (UTF-16, UTF-32),
when its charset is unknown, or when its base64 does not decode strictly. The whole
message is left alone when ``email`` cannot write it back exactly as received (a
malformed structure): then the header fields alone carry the note.

The body changes, so a DKIM signature over it no longer verifies after the gateway:
the mailbox server should trust the organisation's edge (its Authentication-Results,
which the gateway passes on), as it must already for redirected mail.
"""

from __future__ import annotations

import binascii
import html
import io
import logging
import re
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.quoprimime import body_encode as qp_encode

from channels.smtp.headers import assemble, split_header

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=compat32)
_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_HTML_STYLE = (
    "border:2px solid #a00;background:#fff4f4;color:#600;padding:6px 10px;"
    "margin:0 0 12px 0;font:bold 14px/1.4 sans-serif"
)


def with_banner(content: bytes, line: str) -> bytes:
    """``content`` with ``line`` (ASCII) at the top of its body text; ``content`` itself
    when nothing could be changed safely. Never raises."""
    try:
        return _with_banner(content, line)
    except Exception:  # a banner must never be why a message is not delivered
        log.exception("the banner could not be added; the message goes without it")
        return content


def _with_banner(content: bytes, line: str) -> bytes:
    line = line.encode("ascii", "replace").decode("ascii")
    fields, body = split_header(content)
    linesep = "\r\n" if b"\r\n" in content or not content else "\n"
    message = _PARSER.parsebytes(content)
    if _body_of(message, linesep) != body:
        log.info("the message is not written back exactly by email; no banner")
        return content
    changed = False
    for part, subtype in _text_parts(message):
        changed = _add(part, subtype, line) or changed
    if not changed:
        return content
    return assemble([], fields, _body_of(message, linesep))


def _body_of(message: Message, linesep: str) -> bytes:
    out = io.BytesIO()
    policy = compat32.clone(linesep=linesep, max_line_length=0)
    BytesGenerator(out, mangle_from_=False, policy=policy).flatten(message)
    return split_header(out.getvalue())[1]


def _text_parts(message: Message) -> list[tuple[Message, str]]:
    """The first plain and the first HTML part that are the message's text."""
    found: dict[str, Message] = {}

    def visit(part: Message) -> None:
        maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
        if maintype == "multipart":
            payload = part.get_payload()
            children = (
                [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []
            )
            # In multipart/mixed and /related the text is the first part; in
            # /alternative every part is the same text (look at all of them).
            for child in children if subtype == "alternative" else children[:1]:
                visit(child)
            return
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        if maintype == "text" and subtype in ("plain", "html") and disposition != "attachment":
            found.setdefault(subtype, part)

    visit(message)
    return [(part, subtype) for subtype, part in found.items()]


def _ascii_safe(part: Message, line: str) -> bool:
    charset = part.get_content_charset() or "us-ascii"
    try:
        return line.encode(charset) == line.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def _add(part: Message, subtype: str, line: str) -> bool:
    if not _ascii_safe(part, line):
        return False
    cte = str(part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    if cte in ("7bit", "8bit", "binary"):
        raw = part.get_payload(decode=True)  # the bytes as sent, for these encodings
        if not isinstance(raw, bytes):
            return False
        part.set_payload(_prefixed(raw, subtype, line).decode("ascii", "surrogateescape"))
        return True
    payload = part.get_payload()
    if not isinstance(payload, str) or not payload.isascii():
        return False  # base64 or quoted-printable with 8-bit bytes in it: malformed
    if cte == "base64":
        try:
            data = binascii.a2b_base64("".join(payload.split()), strict_mode=True)
        except binascii.Error:
            return False
        new = binascii.b2a_base64(_prefixed(data, subtype, line), newline=False).decode("ascii")
        part.set_payload("\n".join(new[i : i + 76] for i in range(0, len(new), 76)) + "\n")
        return True
    if cte == "quoted-printable":
        data = _prefixed(binascii.a2b_qp(payload.encode("ascii")), subtype, line)
        part.set_payload(qp_encode(data.decode("latin-1"), eol="\n"))
        return True
    return False  # an encoding no standard names: leave it as sent


def _prefixed(data: bytes, subtype: str, line: str) -> bytes:
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    if subtype == "plain":
        return line.encode("ascii") + eol + eol + data
    banner = f'<div role="note" style="{_HTML_STYLE}">{html.escape(line)}</div>'.encode("ascii")
    tag = _BODY_TAG.search(data)
    at = tag.end() if tag else 0
    return data[:at] + banner + data[at:]
