"""The running Twilio channel: its dependencies, TwiML cache and background work.

The handlers' dependencies (the contact service and friends) do not exist until the
gateway has started, so they live in a ``TwilioDeps`` that the wiring fills in at
start-up; until then ``contacts`` raises ``NotStarted`` and a call is answered as though
the store had failed (connected, never stranded).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from channels.twilio.params import NumberReader
from channels.twilio.ports import (
    CallEvidence,
    CallSettings,
    ContactHandler,
    HandledContact,
    TwilioDeps,
)
from channels.twilio.twiml import Answers
from rules.decision import Contact
from rules.models import Channel

log = logging.getLogger("channels.twilio")


class NotStarted(RuntimeError):
    """A webhook arrived before the gateway finished starting (or after it stopped)."""


class TwilioChannel:
    """One running Twilio channel: its dependencies, TwiML cache and background work."""

    def __init__(self, deps: TwilioDeps) -> None:
        self.deps = deps
        self.config = deps.config
        self.answers = Answers(deps.config)
        self.numbers = NumberReader(deps.config.region)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def contacts(self) -> ContactHandler:
        if self.deps.contacts is None:
            raise NotStarted("the contact service is not running")
        return self.deps.contacts

    @property
    def evidence(self) -> CallEvidence:
        if self.deps.evidence is None:
            raise NotStarted("the evidence store is not running")
        return self.deps.evidence

    @property
    def calls(self) -> CallSettings:
        if self.deps.calls is None:
            raise NotStarted("the call settings are not available")
        return self.deps.calls

    def bounded(self, within: float | None = None) -> asyncio.Timeout:
        """A time limit for store work: Twilio's answer time unless ``within`` is given."""
        return asyncio.timeout(self.config.answer_timeout if within is None else within)

    async def handle(
        self,
        contact: Contact,
        *,
        key: str,
        content: bytes | None = None,
        summary: str = "",
        details: dict[str, Any] | None = None,
        notify_allowed: bool | None = None,
        within: float | None = None,
    ) -> HandledContact:
        """Decide and record, bounded in time so Twilio always gets an answer promptly.

        A caller hears what is allowed instead on every blocked call, so calls do not
        use up the day's one notice (``notify_allowed``); texts do, unless they can no
        longer be answered (a text replayed from the spool).
        """
        if notify_allowed is None:
            notify_allowed = contact.channel is not Channel.VOICE
        contacts = self.contacts
        quick = contacts.untouched(contact)
        if quick is not None:
            return quick  # nobody in the policy: nothing to wait for
        async with self.bounded(within):
            return await contacts.handle(
                contact,
                contact_key=key,
                content=content,
                summary=summary,
                details=details,
                notify_allowed=notify_allowed,
            )

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run best-effort work after answering (e.g. recording an incident)."""

        async def guarded() -> None:
            try:
                async with asyncio.timeout(10):
                    await work
            except Exception:
                log.exception("could not %s", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, within: float = 5.0) -> None:
        """Let background work finish (bounded) before the store closes."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=within)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


CHANNEL = web.AppKey("twilio_channel", TwilioChannel)
