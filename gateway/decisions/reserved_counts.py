"""A contact's count is a reservation until its evidence record commits.

The contact service counts a delivered contact (``consume``: check every cap, count it)
before it writes the record, so that two gateways cannot both give away a cap's last
place. Only delivered contacts on record may count (SPEC §4.6), so the count stands only
if the record commits:

* a write that fails gives its count back (``release``). The write goes on when its
  caller stops waiting (a webhook's time limit; see gateway.store.evidence_batch) and
  may still commit, so the count follows the write's own outcome, not the caller's; a
  caller that waits hears of the failure only once the count is given back, so the
  contact is answered (a 451, a spooled text) with no count standing for it;
* a retry of the contact (same Message-ID, CallSid, MessageSid; a replayed text) waits
  for its first attempt's count to be given back before it reads the usage, or it would
  read that count as another contact's;
* a retry that finds its record makes the count say what the record says. Decided
  afresh, it may have counted where the record did not, or not where the record did
  (a write reported failed although it committed, whose count was given back).

Undoing on failure, rather than only reusing the contact key on replay, is what makes
this hold: replay already reuses the key, but the count stood all the while in between
(holding other contacts as excess on every gateway) and for good when the replayed
contact was itself held (issue 16).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence

from gateway.counters.in_process import ReportingCounter
from gateway.store import EvidenceRecord, RecordResult
from rules.models import Channel
from rules.policy_index import CompiledLimit

log = logging.getLogger(__name__)


class ReservedCounts:
    """Gives back the counts of contacts whose record failed. One per contact service."""

    def __init__(self, counter: ReportingCounter) -> None:
        self._counter = counter
        # Counts being given back, by contact key.
        self._giving_back: dict[str, asyncio.Task[None]] = {}

    async def settled(self, contact_key: str) -> None:
        """Returns once no count of ``contact_key`` is being given back."""
        giving_back = self._giving_back.get(contact_key)
        if giving_back is not None:
            await asyncio.shield(giving_back)

    async def record(
        self,
        write: Awaitable[RecordResult],
        *,
        customer_id: str,
        contact_key: str,
        channel: Channel,
    ) -> RecordResult:
        """Await ``write``, the record of a contact just counted; the count is given back
        if the write fails, whether or not this caller is still waiting for it."""
        task = asyncio.ensure_future(write)

        def settle(done: asyncio.Future[RecordResult]) -> None:
            if done.cancelled() or done.exception() is not None:
                self._give_back(customer_id, contact_key, channel)

        task.add_done_callback(settle)  # called before the ``await`` below resumes
        try:
            return await asyncio.shield(task)
        except Exception:
            await self.settled(contact_key)
            raise

    async def agree(
        self,
        record: EvidenceRecord,
        *,
        counted_now: str | None,
        contact_key: str,
        limits: Sequence[CompiledLimit],
    ) -> None:
        """A retry found ``record``: count it if and only if the record counts.

        ``counted_now``: the customer this attempt counted the contact for, if it did.
        """
        channel = Channel(record.channel)
        if record.counted and counted_now is None and record.customer_id is not None:
            await self._counter.restore(
                record.customer_id, contact_key, channel, record.occurred_at, limits
            )
        elif counted_now is not None and not record.counted:
            await self._counter.release(counted_now, contact_key, channel)

    def _give_back(self, customer_id: str, contact_key: str, channel: Channel) -> None:
        """Release the count of a contact whose record failed, in the background."""

        async def release() -> None:
            try:
                await self._counter.release(customer_id, contact_key, channel)
            except Exception:
                log.exception(
                    "the count of contact %s (customer %s), whose record failed, could not "
                    "be given back: it counts toward the cap until it ages out",
                    contact_key,
                    customer_id,
                )
            finally:
                if self._giving_back.get(contact_key) is task:
                    del self._giving_back[contact_key]

        task = asyncio.get_running_loop().create_task(release())
        self._giving_back[contact_key] = task
