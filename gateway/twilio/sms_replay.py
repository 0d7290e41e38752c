"""Replaying the SMS spool: texts kept while the store was down, recorded once it is back.

``SmsReplayer`` is both halves of the spool as the Twilio channel sees it: it is the
channel's ``TextSpool`` (the webhook keeps a text it cannot record), and it is the
background worker (``gateway.spool.replay``) that replays kept texts through the same
path a live text takes (``channels.twilio.replay_text``): decided, recorded under its
MessageSid with the time it arrived, forwarded to the named officer when delivered, and
only then deleted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from functools import partial

from aiohttp import web

from channels.twilio import TwilioChannel, replay_text
from gateway.config.settings import Settings
from gateway.spool.replay import REPLAY_TIMING, ReplayTiming, SpoolReplayer, store_unavailable
from gateway.twilio.sms_spool import SmsSpool, SpooledText

log = logging.getLogger("gateway.twilio.sms_spool")


class SmsReplayer(SpoolReplayer[SpooledText]):
    """The SMS spool as the channel's ``TextSpool``, and the worker that empties it."""

    def __init__(self, spool: SmsSpool, channel: TwilioChannel, timing: ReplayTiming) -> None:
        super().__init__(spool, partial(_replay, channel), timing, logger=log.name)

    def covers(self, error: Exception) -> bool:
        """Unavailable, or too slow to answer in Twilio's time: the store will take the
        text later. Anything else is a fault to report (``503``), not to wait out."""
        return store_unavailable(error)

    async def keep(
        self, params: Mapping[str, str], *, message_sid: str, received_at: datetime
    ) -> None:
        if not await self.add(SpooledText(message_sid, received_at, dict(params))):
            log.info("SMS spool: text %s is already kept (a retry by Twilio)", message_sid)


SMS_SPOOL = web.AppKey("sms_spool", SmsReplayer)


def add_sms_spool(app: web.Application, settings: Settings, channel: TwilioChannel) -> None:
    """Keep texts the store cannot take, and replay them, for as long as ``app`` runs.

    Call after the channel's own clean-up context is added (it fills in the contact
    service). The worker starts once every clean-up context has started (a replayed
    text may be forwarded by email, and the email channel starts after this one) and
    stops when shutdown begins, before any of them is taken down.
    """

    async def spool_lifecycle(app: web.Application) -> AsyncIterator[None]:
        spool = SmsSpool(settings.spool_dir)
        if channel.config.refusal() is None:
            await spool.prepare()
        replayer = SmsReplayer(spool, channel, app.get(REPLAY_TIMING, ReplayTiming()))
        app[SMS_SPOOL] = replayer
        channel.deps.spool = replayer
        try:
            yield
        finally:
            channel.deps.spool = None
            await replayer.stop()

    async def start(app: web.Application) -> None:
        app[SMS_SPOOL].start()

    async def stop(app: web.Application) -> None:
        await app[SMS_SPOOL].stop()

    app.cleanup_ctx.append(spool_lifecycle)
    app.on_startup.append(start)
    app.on_shutdown.append(stop)


async def _replay(channel: TwilioChannel, text: SpooledText, within: float) -> str:
    handled = await replay_text(
        channel,
        text.params,
        message_sid=text.message_sid,
        received_at=text.received_at,
        within=within,
    )
    return handled.decision.action.value + ("" if handled.created else " (already recorded)")
