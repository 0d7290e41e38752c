"""The background task that compares unknown senders' contact with restricted customers.

Channels offer it contact from senders the policy does not know, once the contact has
been decided and passed on (``offer`` only puts a reference on a bounded queue: no
parsing, no I/O, so unrestricted contact pays next to nothing). The task reads the
contact's clues (``gateway.matching.clues``) and lists what points to a restricted
customer (``gateway.store.casework.matches``). When the queue is full, contact is not
compared (counted in ``dropped`` and logged): a possible match is a help to staff, never
a condition of delivery, so it never holds anything up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.common import background
from gateway.common.background import Passes
from gateway.common.plain_words import plain_time
from gateway.decisions.service import ContactService
from gateway.matching.clues import SAME_TEXT, Clue, Restricted, find, fingerprint
from gateway.store.casework.matches import notice_match, remember_text, who_sent_text
from gateway.store.engine import write_transaction
from gateway.store.store import Store
from rules.policy_index import PolicyIndex

log = logging.getLogger(__name__)

CAPACITY = 1000
# Restrictions start and end with time as well as with policy changes.
_RESTRICTED_FOR = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Seen:
    """Contact from an unknown sender. ``read`` gives (display name, text) when called:
    in the background, so that parsing a message's body costs the sender nothing."""

    channel: str
    identity: str
    summary: str
    contact_key: str
    read: Callable[[], tuple[str, str]]
    # A restricted customer's own contact: only its text's fingerprint is kept, so that
    # the same text from an unknown sender later can be matched to them.
    customer_id: str | None = None
    # What was written, for the fingerprint (a mail's body without its subject); None:
    # the text ``read`` gives.
    read_body: Callable[[], str] | None = None


class Matcher:
    """A bounded queue of contact to compare, and the task that compares it."""

    def __init__(
        self,
        service: ContactService,
        store: Store,
        clock: Callable[[], datetime],
        *,
        capacity: int = CAPACITY,
        zone: ZoneInfo | None = None,
    ) -> None:
        self._zone = zone or ZoneInfo("Europe/London")
        self._service = service
        self._store = store
        self._clock = clock
        self._queue: asyncio.Queue[Seen] = asyncio.Queue(capacity)
        self._restricted: tuple[int, datetime, Restricted] | None = None
        self.dropped = 0
        self.listed = 0

    def offer(self, seen: Seen) -> bool:
        """Queue ``seen`` for comparing; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(seen)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("possible-match queue full: %s not compared", seen.contact_key)
            return False
        return True

    async def idle(self) -> None:
        """Wait until everything offered so far has been compared (tests, shutdown)."""
        await self._queue.join()

    async def run(self, passes: Passes) -> None:
        """Compare what is offered until stopped, between two comparisons (what is
        still queued then is not compared)."""
        while (seen := await passes.unless_stopping(self._queue.get())) is not None:
            try:
                await self.compare(seen)
            except Exception:  # one bad message must not stop the comparing
                log.exception("possible match: comparing %s failed", seen.contact_key)
            finally:
                self._queue.task_done()

    async def compare(self, seen: Seen) -> int:
        """List the restricted customers ``seen`` points to; returns how many."""
        index = await self._service.policy()
        now = self._clock()
        restricted = self._restricted_now(index, now)
        if not restricted:
            return 0
        display_name, text = seen.read()
        printed = fingerprint(text if seen.read_body is None else seen.read_body())
        if seen.customer_id is not None:
            if printed is not None:
                async with write_transaction(self._store.engine, "remembering a text") as conn:
                    await remember_text(
                        conn,
                        customer_id=seen.customer_id,
                        fingerprint=printed,
                        channel=seen.channel,
                        now=now,
                    )
            return 0
        found = find(restricted, display_name=display_name, text=text, sender=seen.identity)
        if printed is not None:
            await self._same_text(found, printed, restricted, now)
        if not found:
            return 0
        async with write_transaction(self._store.engine, "listing a possible match") as conn:
            for customer_id, clues in found.items():
                await notice_match(
                    conn,
                    customer_id=customer_id,
                    identity=seen.identity,
                    channel=seen.channel,
                    clues=[c.as_json() for c in clues],
                    summary=seen.summary,
                    contact_key=seen.contact_key,
                    now=now,
                )
        self.listed += len(found)
        log.info("possible match: %s looks like %s", seen.identity, ", ".join(sorted(found)))
        return len(found)

    async def _same_text(
        self, found: dict[str, list[Clue]], printed: str, restricted: Restricted, now: datetime
    ) -> None:
        """Add the clue "the same text as a restricted customer sent" to ``found``."""
        async with write_transaction(self._store.engine, "comparing a text") as conn:
            earlier = await who_sent_text(conn, printed, now)
        for customer_id, channel, at in earlier:
            if customer_id not in restricted.customers:
                continue  # no longer restricted
            words = f"the same text as their {channel} of {plain_time(at, self._zone)}"
            clues = found.setdefault(customer_id, [])
            if all(c.kind != SAME_TEXT for c in clues):
                clues.append(Clue(SAME_TEXT, words))

    def _restricted_now(self, index: PolicyIndex, now: datetime) -> Restricted:
        cached = self._restricted
        if cached is None or cached[0] != index.version or abs(now - cached[1]) > _RESTRICTED_FOR:
            cached = (index.version, now, Restricted.of(index, now))
            self._restricted = cached
        return cached[2]


MATCHER = web.AppKey("matcher", Matcher)


@contextlib.asynccontextmanager
async def running(matcher: Matcher) -> AsyncIterator[None]:
    """Run ``matcher``'s task for as long as the context lasts; then stop it between
    two comparisons."""
    async with background.running(matcher.run, "possible-matches"):
        yield
