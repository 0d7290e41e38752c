"""Every reply the SMTP channel gives, in one table (STYLE, convention 4).

The rule that matters: ``250`` only when the message is safe, and any fault on our
side is ``451 4.3.0`` so the sending server keeps the message and retries. A ``5xx``
is given only for what retrying cannot fix: a recipient we do not serve, a message too
big or malformed, a mail loop, or the organisation's server refusing the message.
"""

from __future__ import annotations

from channels.smtp.ports import Disposition, Outcome

TRY_AGAIN = "451 4.3.0 Temporary failure on our side; please try again later"
RELAY_DENIED = "550 5.7.1 Relaying denied: {address} is not in a domain this gateway serves"
ROUTED_LOCAL_PART = (
    "550 5.7.1 Relaying denied: {address} routes onwards through its local part"
    " ('%', '!' or a quoted '@'); write to the final address instead"
)
BAD_ADDRESS = "553 5.1.3 {address} is not a valid mailbox address"
BAD_SENDER = "553 5.1.7 The sender address is not valid (it is not UTF-8)"
SENDER_OK = "250 2.1.0 Sender OK"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients; send the rest in another message"
RECIPIENT_OK = "250 2.1.5 Recipient OK"
TOO_BIG = "552 5.3.4 Message too big: the limit is {limit} bytes"
LOOP = "554 5.4.0 Too many hops ({count} Received: headers): the message appears to loop"
MALFORMED = "550 5.6.0 Malformed message: {reason}"
LINE_TOO_LONG = "500 5.6.0 Line too long: a line has more than 998 octets (RFC 5322 2.1.1)"
NO_AUTH = "502 5.5.1 AUTH is not offered here"
SESSION_OVER = "421 4.4.2 {host} Session time limit reached; closing the connection"
SHUTTING_DOWN = "421 4.3.2 {host} Shutting down; please try again later"

_ACCEPTED = {
    Disposition.DELIVERED: "250 2.0.0 Ok: delivered as {queue_id}",
    Disposition.QUEUED: "250 2.0.0 Ok: queued as {queue_id}",
    # Held mail is accepted like any other: the customer is told what is allowed
    # instead by the auto-reply (when the restriction says so), not by a bounce.
    Disposition.HELD: "250 2.0.0 Ok: accepted as {queue_id}",
}


def reply_for(outcome: Outcome, queue_id: str) -> str:
    """The reply for what the sink did with a message."""
    if outcome.disposition is Disposition.REJECTED:
        return upstream_refusal(outcome.reply_code, outcome.reply_text)
    return _ACCEPTED[outcome.disposition].format(queue_id=queue_id)


def upstream_refusal(code: int | None, text: str) -> str:
    """Pass the organisation's server's permanent refusal on, so the sender gets a bounce
    from their own server rather than from us (no backscatter)."""
    if code is None or not 500 <= code <= 599:
        code = 554
    words = " ".join(text.split())[:400] or "refused"
    enhanced = words.split(" ", 1)[0]
    if not _is_enhanced_status(enhanced, "5"):
        words = f"5.0.0 {words}"
    return f"{code} {words} (refused by the organisation's mail server)"


def _is_enhanced_status(token: str, klass: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and parts[0] == klass and all(p.isdigit() for p in parts)
