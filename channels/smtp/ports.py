"""What the SMTP channel needs from the rest of the gateway, and what it gets back.

The channel parses and answers; it never decides, stores or relays. It hands each
message to a :class:`MailSink` (implemented in ``gateway.mail``) and turns the
:class:`Outcome` into a reply. Anything the sink raises is a fault on our side and is
answered ``451`` (the sending server keeps the message and tries again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from channels.smtp.message import InboundMessage


class Disposition(StrEnum):
    """What became of a message the sink took."""

    DELIVERED = "delivered"  # the upstream accepted it for every recipient
    QUEUED = "queued"  # stored durably; the queue delivers it (or bounces it) later
    HELD = "held"  # stored whole for review, not delivered
    REJECTED = "rejected"  # the upstream refused it permanently; nothing was kept


@dataclass(frozen=True, slots=True)
class Outcome:
    """The sink's answer. ``reply`` carries the upstream's words for a rejection."""

    disposition: Disposition
    reply_code: int | None = None
    reply_text: str = ""


class RefusalKind(StrEnum):
    """Why the channel refused a message that had arrived (kept as the held reason)."""

    MALFORMED = "malformed"  # NUL bytes, or no header section
    MAIL_LOOP = "mail_loop"  # too many Received: fields
    LINE_TOO_LONG = "line_too_long"  # a line over 998 octets (RFC 5322 §2.1.1)
    TOO_BIG = "too_big"  # over the size limit; only the part within the limit is kept


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal given after the message's final ``.``: what kind, why in words (for the
    evidence), and the reply the client is given."""

    kind: RefusalKind
    reason: str
    reply: str


class MailSink(Protocol):
    """Takes a received message and makes it safe before the client is told ``250``."""

    async def accept(self, message: InboundMessage) -> Outcome:
        """Decide, then deliver, queue or hold. Returns only once the message is safe."""
        ...

    async def refuse(self, message: InboundMessage, refusal: Refusal) -> None:
        """Keep a message the channel is refusing, if evidence is due (its sender is
        restricted). Returns once it is safe; the client is then given the refusal."""
        ...
