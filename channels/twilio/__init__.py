"""The Twilio channel: signed voice and SMS webhooks in, TwiML out.

Mount ``build_twilio_app(deps)`` at /twilio/; fill in ``deps`` (the Protocols in
``channels.twilio.ports``) when the gateway starts.
"""

from channels.twilio.app import build_twilio_app
from channels.twilio.ports import (
    CallEvidence,
    CallOptions,
    CallSettings,
    ContactHandler,
    HandledContact,
    TextForwarder,
    TextSpool,
    TwilioConfig,
    TwilioDeps,
)
from channels.twilio.runtime import CHANNEL, TwilioChannel
from channels.twilio.sms import replay_text

__all__ = [
    "CHANNEL",
    "CallEvidence",
    "CallOptions",
    "CallSettings",
    "ContactHandler",
    "HandledContact",
    "TextForwarder",
    "TextSpool",
    "TwilioChannel",
    "TwilioConfig",
    "TwilioDeps",
    "build_twilio_app",
    "replay_text",
]
