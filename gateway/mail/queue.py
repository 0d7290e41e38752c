"""The queue worker: delivers queued mail until it goes, or bounces it when time runs out.

Mail is queued when the upstream could not take it at once (it was down, slow, or said
"try later"), and for everything the gateway sends itself (auto-replies, bounces,
released held mail). The worker retries with growing gaps (30 s, 1 min, 2 min, ... at
most 30 min) until the queue lifetime (``GATEWAY_SMTP_QUEUE_LIFETIME``, five days by
default) ends; then, and for recipients the upstream refuses for good, the sender gets
a bounce — unless the sender was null, because nothing answers a bounce or a reply.

:meth:`QueueWorker.step` does one round and takes its time from the injected clock, so
tests move time on and call it instead of waiting. :meth:`QueueWorker.run` calls it
until stopped, woken early whenever something is queued.

:meth:`QueueWorker.follow` queues a message whose relay was begun before it was queued
(the upstream was slow to answer, and the sender could not be kept waiting): the row is
written claimed by this worker, so no round sends the message while the first attempt
may still be accepted, and that attempt's outcome settles it as a round's would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.common.background import Passes
from gateway.mail import compose
from gateway.mail.transport import ATTEMPT_LIMIT, DeliveryReport, MailTransport, Refusal
from gateway.ops.logs import bind
from gateway.ops.metrics import Metrics
from gateway.store import MailQueue, NewMail, QueuedMail
from gateway.store.outbox import KEEP_DONE

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_GAP = timedelta(minutes=30)
# A claim outlasts the longest attempt, so no other worker sends a message while the
# upstream may still be answering its end (transport.FINAL_REPLY_TIMEOUT).
LEASE = timedelta(seconds=ATTEMPT_LIMIT) + timedelta(minutes=5)
PRUNE_EVERY = timedelta(hours=1)
# Only mail from someone else is bounced; the gateway's own messages are dropped
# (and logged) when they fail, so a bounce can never cause another.
_BOUNCES_TO_SENDER = ("relay", "release", "letter")


def retry_gap(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling from 30 s, capped at 30 min."""
    gap: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(gap, LONGEST_GAP)


class QueueWorker:
    """Delivers the mail queue through a transport. One per gateway process."""

    def __init__(
        self,
        queue: MailQueue,
        transport: MailTransport,
        *,
        clock: Callable[[], datetime],
        hostname: str,
        lifetime: timedelta,
        batch: int = 20,
        poll_seconds: float = 5.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.queue = queue
        self._metrics = metrics
        self._transport = transport
        self._clock = clock
        self._hostname = hostname
        self._lifetime = lifetime
        self._batch = batch
        self._poll = poll_seconds
        # Who this worker claims mail as (set once the listener knows its port).
        self.instance = ""
        self._wake = asyncio.Event()
        self._next_prune: datetime | None = None
        self._rounds = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._following: set[asyncio.Task[None]] = set()

    async def enqueue(self, mail: NewMail, *, delay: timedelta = timedelta(0)) -> bool:
        """Queue ``mail`` durably (first try after ``delay``); False if already queued."""
        now = self._clock()
        added = await self.queue.enqueue(
            mail, now=now, first_attempt=now + delay, lifetime=self._lifetime
        )
        self._wake.set()
        return added

    async def follow(self, mail: NewMail, attempt: asyncio.Future[DeliveryReport]) -> bool:
        """Queue ``mail`` durably while ``attempt``, a delivery of it already under way,
        finishes; then settle it from that attempt's report. False, and the attempt is
        left to finish on its own, if ``mail`` was already queued.

        The row is claimed by this worker until the attempt must have ended, so nothing
        sends the message again while the upstream may still accept it. If this process
        stops first, the message is sent again when it restarts (or the claim runs out).
        """
        item = await self.queue.enqueue_claimed(
            mail,
            now=self._clock(),
            lease=LEASE,
            lifetime=self._lifetime,
            claimer=self.instance,
        )
        task = asyncio.create_task(self._settle_when_done(item, attempt))
        self._following.add(task)
        task.add_done_callback(self._following.discard)
        return item is not None

    async def _settle_when_done(
        self, item: QueuedMail | None, attempt: asyncio.Future[DeliveryReport]
    ) -> None:
        if item is None:  # already queued: only see the attempt to its end
            await attempt
            return
        bind(mail_id=str(item.id))
        try:
            await self._settle(item, await attempt)
        except Exception:  # the store may be down; the claim runs out and it goes again
            log.exception(
                "queued %s %s: could not record how its first attempt ended", item.kind, item.id
            )

    async def stop_following(self, grace: float) -> int:
        """Wait (up to ``grace`` s) for attempts being followed, then stop them; their
        messages stay queued and claimed, and go again when this instance restarts."""
        pending = set(self._following)
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        return len(pending)

    def wake(self) -> None:
        """Start a round now: something was queued in a transaction of another part."""
        self._wake.set()

    async def step(self) -> int:
        """Try every message that is due now, once. Returns how many were tried."""
        self._rounds += 1
        self._idle.clear()
        try:
            now = self._clock()
            if self._next_prune is None or now >= self._next_prune:
                await self.queue.forget_done(now - KEEP_DONE)
                self._next_prune = now + PRUNE_EVERY
            items = await self.queue.claim_due(
                now, lease=LEASE, limit=self._batch, claimer=self.instance
            )
            if items:
                await asyncio.gather(*(self._attempt(item) for item in items))
            return len(items)
        finally:
            self._rounds -= 1
            if not self._rounds:
                self._idle.set()

    async def settled(self) -> None:
        """Wait until no delivery round is running (the background one included) and
        no attempt is being followed."""
        while True:
            await self._idle.wait()
            if not self._following:
                return
            await asyncio.wait(set(self._following))

    async def run(self, passes: Passes) -> None:
        """Deliver until stopped (between rounds): a round whenever woken, or every
        ``poll_seconds``.

        First, mail this instance's previous run had claimed when it died is due again.
        """
        if self.instance:
            try:
                taken = await self.queue.take_back(self.instance, self._clock())
                if taken:
                    log.warning("mail queue: %d message(s) left mid-delivery are due again", taken)
            except Exception:
                log.exception("mail queue: could not take back earlier claims")
        while not passes.stopping:
            self._wake.clear()
            try:
                tried = await self.step()
            except Exception:  # the store may be down; the queue is still there later
                log.exception("mail queue: a delivery round failed; trying again shortly")
                tried = 0
            if tried >= self._batch:
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
            # cancellation that arrives as the wake-up does, and shutdown waited for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await passes.unless_stopping(self._wake.wait())

    async def _attempt(self, item: QueuedMail) -> None:
        bind(mail_id=str(item.id))  # each attempt is a task of its own (gather)
        report = await self._transport.deliver(item.mail_from, item.recipients, item.content)
        await self._settle(item, report)

    async def _settle(self, item: QueuedMail, report: DeliveryReport) -> None:
        """Record how an attempt ended: done, due again later, or bounced."""
        if self._metrics is not None and report.failure_kind is not None:
            self._metrics.relay_failures.labels(report.failure_kind).inc()
        now = self._clock()
        expired = now >= item.expires_at
        temporary = report.temporary
        failed = dict(report.permanent)
        if expired:
            failed.update(temporary)
            temporary = {}
        for recipient in report.accepted:
            log.info("queued %s %s: delivered to %s", item.kind, item.id, recipient)
        bounce = self._bounce(item, failed, now, expired) if failed else None
        if failed:
            log.warning(
                "queued %s %s: giving up on %s%s",
                item.kind,
                item.id,
                ", ".join(f"{r} ({why})" for r, why in failed.items()),
                "" if bounce else " (no bounce: null sender)",
            )
        await self.queue.settle(
            item,
            remaining=list(temporary),
            retry_at=now + retry_gap(item.attempts) if temporary else None,
            error="; ".join(f"{r}: {why}" for r, why in temporary.items()) or None,
            bounce=bounce,
            now=now,
            lifetime=self._lifetime,
        )

    def _bounce(
        self, item: QueuedMail, failed: dict[str, Refusal], now: datetime, expired: bool
    ) -> NewMail | None:
        if item.kind not in _BOUNCES_TO_SENDER or not item.mail_from:
            return None
        content = compose.bounce(
            original=item.content,
            to=item.mail_from,
            failed=failed,
            hostname=self._hostname,
            arrived=item.created_at,
            now=now,
            expired=expired,
        )
        return NewMail(
            queue_key=f"bounce:{item.queue_key}:{item.attempts}",
            kind="bounce",
            mail_from="",
            recipients=(item.mail_from,),
            content=content,
        )
