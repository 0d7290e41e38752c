"""The messages the gateway writes itself: auto-replies to customers, and bounces.

Both are built with the ``email`` package and sent with the null envelope sender, so
that nothing ever answers them (RFC 3834 §3.3, RFC 5321 §4.5.5). Auto-replies carry
``Auto-Submitted: auto-replied`` and an ``Auto:`` subject (RFC 3834 §3.1); bounces are
RFC 3464 delivery status notifications a sending mail system can read.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from channels.smtp.headers import field_value, split_header
from gateway.mail.transport import Refusal

_SUBJECT_LIMIT = 200


def auto_reply(
    *,
    notice: str,
    to: str,
    written_to: str,
    subject: str,
    message_id: str | None,
    hostname: str,
    now: datetime,
) -> bytes:
    """The reply telling a customer what is allowed instead (the decision's notice).

    It comes from the address the customer wrote to, so it reads as an answer to
    their message, and refers to it with In-Reply-To.
    """
    reply = EmailMessage(policy=SMTP)
    reply["From"] = written_to
    reply["To"] = to
    reply["Subject"] = f"Auto: {subject or 'your email'}"[:_SUBJECT_LIMIT]
    reply["Date"] = format_datetime(now)
    reply["Message-ID"] = make_msgid(domain=hostname)
    if message_id:
        reply["In-Reply-To"] = f"<{message_id}>"
        reply["References"] = f"<{message_id}>"
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"  # Exchange and Outlook: do not answer this
    paragraphs = [
        f"This is an automatic reply to your email to {written_to}.",
        notice,
        "Please do not reply to this message: it was sent automatically.",
    ]
    # Wrapped, so the text goes as plain 7-bit lines rather than quoted-printable.
    reply.set_content("\n\n".join(textwrap.fill(p, 72) for p in paragraphs) + "\n")
    return reply.as_bytes()


def bounce(
    *,
    original: bytes,
    to: str,
    failed: Mapping[str, Refusal],
    hostname: str,
    arrived: datetime,
    now: datetime,
    expired: bool,
) -> bytes:
    """A delivery status notification (RFC 3464) for the recipients in ``failed``."""
    report = EmailMessage(policy=SMTP)
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{hostname}>"
    report["To"] = to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(now)
    report["Message-ID"] = make_msgid(domain=hostname)
    report["Auto-Submitted"] = "auto-replied"
    fields, _ = split_header(original)
    subject = next((field_value(f) for f in fields if f.lower().startswith(b"subject:")), "")
    why = (
        "could not be delivered before the time limit for retrying ran out"
        if expired
        else "was refused by the receiving mail server"
    )
    lines = [
        f"This is the mail system at {hostname}.",
        "",
        f'Your message "{subject}" {why}, for these recipients:',
        "",
        *(f"  <{rcpt}>: {refusal}" for rcpt, refusal in failed.items()),
        "",
        "The headers of your message are attached.",
    ]
    report.set_content("\n".join(lines) + "\n")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    report.attach(_status_part(failed, hostname, arrived))
    headers = EmailMessage(policy=SMTP)
    headers.set_content(
        b"".join(fields).decode("utf-8", "replace").replace("\r\n", "\n"),
        subtype="rfc822-headers",
    )
    report.attach(headers)
    return report.as_bytes()


def _status_part(failed: Mapping[str, Refusal], hostname: str, arrived: datetime) -> EmailMessage:
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {hostname}"
    per_message["Arrival-Date"] = format_datetime(arrived)
    blocks: list[Message | str] = [per_message]
    for recipient, refusal in failed.items():
        block = Message()
        block["Final-Recipient"] = f"rfc822; {recipient}"
        block["Action"] = "failed"
        block["Status"] = _status_code(refusal)
        block["Diagnostic-Code"] = f"smtp; {refusal}"
        blocks.append(block)
    part = EmailMessage(policy=SMTP)
    part["Content-Type"] = "message/delivery-status"
    part.set_payload(blocks)
    return part


def _status_code(refusal: Refusal) -> str:
    """The enhanced status code (RFC 3463) for a failed recipient: ``5.x.y`` always."""
    token = refusal.text.split(" ", 1)[0]
    parts = token.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return "5." + ".".join(parts[1:])
    return "5.0.0"
