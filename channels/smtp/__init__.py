"""The SMTP channel: an aiosmtpd server that hands each message to a ``MailSink``.

``message`` reads a received message, ``handler`` holds the aiosmtpd hooks, ``server``
listens on the gateway's event loop, ``replies`` is every reply code in one table, and
``ports`` declares what the channel needs from the gateway.
"""

from channels.smtp.authresults import Authentication
from channels.smtp.handler import HandlerConfig, SmtpHandler
from channels.smtp.message import InboundMessage, Peer, read_message
from channels.smtp.ports import Disposition, MailSink, Outcome, Refusal, RefusalKind
from channels.smtp.server import ListenerConfig, SmtpListener, start_server

__all__ = [
    "Authentication",
    "Disposition",
    "HandlerConfig",
    "InboundMessage",
    "ListenerConfig",
    "MailSink",
    "Outcome",
    "Peer",
    "Refusal",
    "RefusalKind",
    "SmtpHandler",
    "SmtpListener",
    "read_message",
    "start_server",
]
