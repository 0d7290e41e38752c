"""One received message, read once: who sent it, where to, and what the gateway may do.

Built from the SMTP envelope and the raw bytes by :func:`read_message`. Only the header
section is parsed up front (with ``email``): that is all an unrestricted
sender's mail needs, and most mail is from unrestricted senders. The body is parsed
only when :meth:`InboundMessage.text` is asked for, which the gateway does for senders
with a restriction (to look for exemptions such as a gas leak).

Reading never raises on bad input: the ``email`` package records defects instead, and
the few things that make a message unusable (NUL bytes, no header section) are named
in ``malformed`` for the handler to answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import SMTP, EmailPolicy, compat32
from email.utils import format_datetime, getaddresses
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from channels.smtp.authresults import Authentication, assess
from channels.smtp.headers import assemble, field_name, fold, split_header
from rules.identity import IdentityError, normalise_email

# Header fields the gateway writes. Any that arrive from outside are removed, so nobody
# can make a message look as if the gateway had redirected or vouched for it.
GATEWAY_FIELD_PREFIX = "x-contact-gateway-"
_TEXT_LIMIT = 100_000
# The header section is read with compat32: plain strings, no header objects, several
# times faster, and every message pays for it. Values are then read with the stdlib's
# own helpers (getaddresses, decode_header). The body, read only when it matters, gets
# the full modern parser, with one change (``_ParseOnce``).
_HEADER_PARSER = BytesHeaderParser(policy=compat32)


# Only short fields are kept, so the cache stays small whatever arrives.
_CACHED_FIELD_CHARS = 1000


@lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    return SMTP.header_fetch_parse(name, value)


if TYPE_CHECKING:  # generic in typeshed only
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy


class _ParseOnce(_EmailPolicy):
    """The SMTP policy, but a header field is parsed into its object once, not on every
    look: finding the text of a one-part message looks at Content-Type nine times, and
    parsing it again each time cost five times as much as all the rest. The objects are
    immutable and depend only on the field's name and value, so they can be shared."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > _CACHED_FIELD_CHARS:
            return SMTP.header_fetch_parse(name, value)
        return _parsed_header(name, value)


_PARSER: BytesParser[EmailMessage] = BytesParser(EmailMessage, policy=_ParseOnce(linesep="\r\n"))
_NOT_A_LIST = ("no",)
_BULK = ("bulk", "list", "junk")


@dataclass(frozen=True, slots=True)
class Peer:
    """The SMTP client: its address, what it called itself, and whether TLS was on."""

    address: str
    helo: str
    tls: bool


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message as the gateway decides on it. ``raw`` is exactly what was received."""

    queue_id: str
    received_at: datetime
    peer: Peer
    envelope_sender: str
    recipients: tuple[str, ...]
    mail_options: tuple[str, ...]
    raw: bytes
    content_sha256: str
    header_from: str | None
    message_id: str | None
    received_count: int
    auto_reply_block: str | None
    authentication: Authentication
    malformed: str | None
    defects: tuple[str, ...]
    hostname: str
    _fields: tuple[bytes, ...] = field(repr=False)
    _body: bytes = field(repr=False)
    _subject: str = field(default="", repr=False)

    @property
    def subject(self) -> str:
        """The Subject, RFC 2047 words decoded (only worked out when someone asks)."""
        return _decoded(self._subject)[:500]

    @property
    def contact_key(self) -> str:
        """Idempotency key: a re-sent message (same Message-ID, same bytes) has the same one."""
        if self.message_id:
            return f"email:{self.message_id}:{self.content_sha256}"
        return f"email:{self.content_sha256}"

    @property
    def sender_address(self) -> str | None:
        """The envelope sender normalised, or None for the null sender and oddities."""
        return _address(self.envelope_sender)

    @property
    def may_auto_reply(self) -> bool:
        return self.auto_reply_block is None

    def text(self) -> str:
        """Subject and readable body text, for the exemption check. Never raises."""
        return f"{self.subject}\n{body_text(self.raw)}".strip()

    def for_delivery(self, extra: Sequence[tuple[str, str]] = ()) -> bytes:
        """What to pass on: the gateway's trace and ``extra`` fields, then the message.

        Forged authentication results and any incoming gateway fields are left out; the
        rest of the header section and the whole body are the bytes received.
        """
        linesep = b"\r\n" if self.raw.find(b"\r\n") != -1 or not self.raw else b"\n"
        new = [self.received_field(), *(fold(name, value) for name, value in extra)]
        if linesep != b"\r\n":
            new = [f.replace(b"\r\n", linesep) for f in new]
        return assemble(new, self._fields, self._body, linesep=linesep)

    def received_field(self) -> bytes:
        """This hop's ``Received:`` trace field (RFC 5321 §4.4).

        Written directly rather than folded by ``email``: every message gets one, all
        of it is ASCII we produce (the HELO name is cleaned), and the folding points
        are fixed, so the library's general folder would only cost time.
        """
        helo = re.sub(r"[^\x21-\x7e]", "?", self.peer.helo)[:255] or "unknown"
        protocol = "ESMTPS" if self.peer.tls else "ESMTP"
        literal = f"IPv6:{self.peer.address}" if ":" in self.peer.address else self.peer.address
        target = ""
        if len(self.recipients) == 1:
            target = "\r\n\tfor <" + re.sub(r"[^\x21-\x7e]", "?", self.recipients[0]) + ">"
        return (
            f"Received: from {helo} ([{literal}])\r\n\tby {self.hostname} (contact-gateway) "
            f"with {protocol} id {self.queue_id}{target};\r\n\t"
            f"{format_datetime(self.received_at)}\r\n"
        ).encode("ascii", "replace")

    def evidence_details(self) -> dict[str, Any]:
        """The facts of the message that go into its evidence record."""
        return {
            "queue_id": self.queue_id,
            "envelope_sender": self.envelope_sender,
            "header_from": self.header_from,
            "original_recipients": list(self.recipients),
            "message_id": self.message_id,
            "subject": self.subject,
            "size": len(self.raw),
            "peer": self.peer.address,
            "tls": self.peer.tls,
            "authenticated": self.authentication.authenticated,
            "authentication": self.authentication.as_details(),
            "auto_reply_suppressed": self.auto_reply_block,
            "defects": list(self.defects),
        }


def read_message(
    raw: bytes,
    *,
    queue_id: str,
    received_at: datetime,
    peer: Peer,
    envelope_sender: str,
    recipients: Sequence[str],
    mail_options: Sequence[str] = (),
    trusted_authserv_id: str = "",
    hostname: str,
) -> InboundMessage:
    """Read the envelope and header section of ``raw``; see the module docstring."""
    fields, body = split_header(raw)
    fields = [f for f in fields if not field_name(f).startswith(GATEWAY_FIELD_PREFIX)]
    headers = _HEADER_PARSER.parsebytes(b"".join(fields) + b"\r\n")
    defects = [type(d).__name__ for d in headers.defects]
    header_from = _header_address(headers, "From", defects)
    sender = _address(envelope_sender)
    authentication, fields = assess(
        fields,
        trusted_authserv_id,
        from_domain=_domain(header_from),
        envelope_domain=_domain(sender),
    )
    return InboundMessage(
        queue_id=queue_id,
        received_at=received_at,
        peer=peer,
        envelope_sender=envelope_sender,
        recipients=tuple(recipients),
        mail_options=tuple(mail_options),
        raw=raw,
        content_sha256=hashlib.sha256(raw).hexdigest(),
        header_from=header_from,
        message_id=_message_id(headers, defects),
        _subject=_header_text(headers, "Subject", defects),
        received_count=sum(1 for f in fields if field_name(f) == "received"),
        auto_reply_block=_auto_reply_block(headers, envelope_sender, authentication, defects),
        authentication=authentication,
        malformed=_malformed(raw, fields),
        defects=tuple(defects),
        hostname=hostname,
        _fields=tuple(fields),
        _body=body,
    )


def _malformed(raw: bytes, fields: Sequence[bytes]) -> str | None:
    if b"\x00" in raw:
        return "the message contains NUL bytes, which RFC 5322 does not allow"
    if not fields:
        return "the message has no header section (RFC 5322 needs at least From and Date)"
    return None


def _auto_reply_block(
    headers: Message,
    envelope_sender: str,
    authentication: Authentication,
    defects: list[str],
) -> str | None:
    """Why RFC 3834 (or backscatter) forbids an automatic reply to this message, if so."""
    if not envelope_sender.strip("<> "):
        return "the envelope sender is null (a bounce or notification)"
    submitted = _header_text(headers, "Auto-Submitted", defects).split(";")[0].strip().lower()
    if submitted and submitted not in _NOT_A_LIST:
        return f"Auto-Submitted: {submitted}"
    precedence = _header_text(headers, "Precedence", defects).strip().lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    listed = sorted({k for k in headers if k.lower().startswith("list-")})
    if listed:
        return f"mailing list mail ({listed[0]})"
    local = envelope_sender.strip("<> ").rpartition("@")[0].lower()
    if local == "mailer-daemon" or local.startswith("owner-") or local.endswith("-request"):
        return f"the envelope sender {envelope_sender} is a mail system or list address"
    if authentication.authenticated is False:
        return "the organisation's edge did not authenticate the sender (no DMARC/DKIM/SPF pass)"
    return None


def _header_text(headers: Message, name: str, defects: list[str]) -> str:
    try:
        value = headers.get(name)
        return "" if value is None else " ".join(str(value).split())
    except Exception as exc:  # the header parser has bugs on hostile input; never crash
        defects.append(f"unreadable {name}: {type(exc).__name__}")
        return ""


def _header_address(headers: Message, name: str, defects: list[str]) -> str | None:
    try:
        values = [str(v) for v in headers.get_all(name, [])]
        for _, address in getaddresses(values):
            found = _address(address)
            if found is not None:
                return found
        return None
    except Exception as exc:  # a hostile From must not stop the message
        defects.append(f"unreadable {name}: {type(exc).__name__}")
        return None


def _decoded(value: str) -> str:
    """RFC 2047 encoded words decoded; the raw text when they cannot be."""
    try:
        return " ".join(str(make_header(decode_header(value))).split())
    except Exception:  # unknown charsets and broken words are common in spam
        return value


def _message_id(headers: Message, defects: list[str]) -> str | None:
    text = _header_text(headers, "Message-ID", defects).strip().strip("<>")
    text = re.sub(r"[^\x21-\x7e]", "", text)[:200]
    return text or None


def _address(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalise_email(raw)
    except IdentityError:
        return None


def _domain(address: str | None) -> str | None:
    return address.rpartition("@")[2] if address else None


def body_text(raw: bytes) -> str:
    """The readable text of a message body (plain, else HTML without tags). Never raises."""
    try:
        message = _PARSER.parsebytes(raw)
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, ValueError, AssertionError):
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if not isinstance(content, str):
            return ""
        if part.get_content_subtype() == "html":
            content = _strip_html(content)
        return content[:_TEXT_LIMIT]
    except Exception:  # an exemption check must never be why a message is lost
        return raw[:_TEXT_LIMIT].decode("utf-8", "replace")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _strip_html(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
