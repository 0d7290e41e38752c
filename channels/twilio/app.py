"""The /twilio/ sub-application: routes behind the signature middleware.

``build_twilio_app`` is called once by the gateway's wiring, which mounts the result at
/twilio/ and fills in its ``TwilioDeps`` when the gateway starts.
"""

from __future__ import annotations

from aiohttp import web

from channels.twilio import sms, voice, whisper
from channels.twilio.ports import TwilioDeps
from channels.twilio.runtime import CHANNEL, TwilioChannel
from channels.twilio.signature import signature_middleware


def build_twilio_app(deps: TwilioDeps) -> web.Application:
    """The sub-application to mount at /twilio/ (``app.add_subapp("/twilio/", ...)``)."""
    app = web.Application(middlewares=[signature_middleware(deps.config)])
    app[CHANNEL] = TwilioChannel(deps)
    app.router.add_post("/voice", voice.incoming_call)
    app.router.add_post("/voice/menu", voice.keypad)
    app.router.add_post("/voice/dialled", voice.dialled)
    app.router.add_post("/voice/voicemail", voice.voicemail)
    app.router.add_post("/voice/status", voice.call_status)
    app.router.add_post("/voice/whisper", whisper.whisper)
    app.router.add_post("/voice/whisper/answer", whisper.answered)
    app.router.add_post("/sms", sms.incoming_sms)
    return app
