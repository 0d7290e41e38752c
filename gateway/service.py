"""The contact service: identify, decide, count, record. Channels call ``handle``.

Every channel turns its protocol into a ``Contact`` and awaits ``handle``; the service
loads the policy (reloading it when its version changes, so a rules change reaches the
very next contact), reads the customer's usage, calls the pure ``rules.decide``, records
a delivered contact against the caps atomically, and writes the evidence record, the
stored content and any held contact in one transaction before the channel answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.clock import Clock
from gateway.counters import UsageCounter
from gateway.replay import decision_from_record
from gateway.store import EvidenceRecord, HoldEntry, Store, entry_from_decision
from gateway.store.casework import decision_settings_with_org
from rules.decision import EMPTY_USAGE, Contact, Decision, Usage
from rules.engine import decide
from rules.models import Channel
from rules.policy_index import DecisionSettings, Match, PolicyIndex

_CONSUME_ATTEMPTS = 3
# How stale the policy may be when another gateway changed it (SPEC §2: within a second).
POLICY_RECHECK_S = 0.25


@dataclass(frozen=True, slots=True)
class Handled:
    """What ``handle`` did: the decision, and the evidence and hold it wrote (if any)."""

    decision: Decision
    record: EvidenceRecord | None
    created: bool
    held_id: int | None
    notify: bool = False
    recorded_notice: str | None = None
    # Decided on this process's own counters because the shared ones (Redis) failed.
    degraded: bool = False

    @property
    def notice(self) -> str | None:
        """The words to send the customer now, or None when they are not to be told."""
        if not self.notify:
            return None
        return self.recorded_notice or self.decision.notice


class ContactService:
    """Applies the policy to inbound contact. One per process, built by the app factory."""

    def __init__(
        self,
        store: Store,
        counter: UsageCounter,
        decision_settings: DecisionSettings,
        clock: Clock,
    ) -> None:
        self._store = store
        self._counter = counter
        self._decision_settings = decision_settings
        self._clock = clock
        self._index: PolicyIndex | None = None
        self._reload = asyncio.Lock()
        self._generation = -1
        self._fresh_until = 0.0
        self._checking = False

    async def policy(self) -> PolicyIndex:
        """The current policy; reloaded from the store when its version has moved on.

        Reading the version for every contact would cost more than deciding it, so it
        is read again only when this process has changed the policy (the store counts
        that without a query), or when the last read is older than POLICY_RECHECK_S,
        which bounds how long a change made by another gateway takes to arrive.
        """
        generation = self._store.policy_generation
        fresh = self._fresh_index()
        if fresh is not None:
            return fresh
        self._checking = True
        try:
            version = await self._store.policy_version()
        finally:
            self._checking = False
        self._generation, self._fresh_until = generation, time.monotonic() + POLICY_RECHECK_S
        if self._index is not None and self._index.version == version:
            return self._index
        async with self._reload:
            if self._index is None or self._index.version != version:
                policy = await self._store.load_policy()
                settings = await decision_settings_with_org(self._store, self._decision_settings)
                self._index = PolicyIndex(policy, settings, version=version)
        return self._index

    def _fresh_index(self) -> PolicyIndex | None:
        """The loaded policy when it needs no re-reading yet (see ``policy``)."""
        if (
            self._index is not None
            and self._store.policy_generation == self._generation
            and (self._checking or time.monotonic() < self._fresh_until)
        ):
            # One contact at a time re-reads a version that is merely old; the rest
            # carry on with the policy as it was a moment ago.
            return self._index
        return None

    def decide_unknown(self, contact: Contact) -> Decision | None:
        """The decision for a contact from a sender who is nobody in the policy, when
        the loaded policy is fresh: such contact is passed on untouched and nothing is
        recorded or counted, so no I/O is needed. None means: call ``handle``.

        Channels that answer in real time (calls) use it to skip the time limit they
        put around ``handle``, for the great majority of contact.
        """
        index = self._fresh_index()
        if index is None or index.resolve(contact.sender) is not None:
            return None
        return decide(contact, index, EMPTY_USAGE, self._clock())

    async def rebuild_usage(self) -> int:
        """Seed the counters from the evidence log (start-up, or after Redis lost them)."""
        index = await self.policy()
        since = self._clock() - index.longest_period
        counted = await self._store.counted_since(since)
        return await self._counter.load(
            (c.customer_id, c.channel, c.occurred_at, c.contact_key or f"seq:{i}")
            for i, c in enumerate(counted)
        )

    async def explain(self, contact: Contact) -> Decision:
        """The decision ``contact`` would get now, without recording or counting anything."""
        index = await self.policy()
        usage = await self._usage(index, contact, contact.at)
        return decide(contact, index, usage, contact.at)

    async def handle(
        self,
        contact: Contact,
        *,
        contact_key: str,
        content: bytes | None = None,
        summary: str = "",
        details: dict[str, Any] | None = None,
        notify_allowed: bool = True,
    ) -> Handled:
        """Decide and record one contact. Idempotent on ``contact_key``.

        A retried contact (same Message-ID and content, CallSid or MessageSid) finds its
        evidence record and gets the same outcome without being counted or recorded again.
        ``notify_allowed=False`` (an email no one may auto-reply to: a bounce, list mail,
        an unauthenticated sender) leaves the day's one notice for a contact that can
        be answered, instead of using it up on one that cannot.
        """
        index = await self.policy()
        now = self._clock()
        decision = await self._decide_and_count(index, contact, contact_key, now)
        if not decision.restricted:
            return Handled(decision=decision, record=None, created=False, held_id=None)
        sha = hashlib.sha256(content).hexdigest() if content is not None else None
        entry = entry_from_decision(
            decision,
            contact,
            contact_key=contact_key,
            policy_version=index.version,
            content_sha256=sha,
            details=details,
        )
        hold = HoldEntry(summary=summary) if decision.held else None
        result = await self._store.record_contact(entry, content=content, hold=hold)
        if not result.created:
            # A retry: answer as the first time, and never claim a new notice for it.
            notice = result.record.details.get("notice")
            return Handled(
                decision=decision_from_record(result.record),
                record=result.record,
                created=False,
                held_id=result.held_id,
                notify=notice is not None and await self._store.notice_claimed_by(contact_key),
                recorded_notice=notice,
            )
        return Handled(
            decision=decision,
            record=result.record,
            created=result.created,
            held_id=result.held_id,
            notify=notify_allowed and await self._may_notify(contact, decision, contact_key, now),
        )

    async def _may_notify(
        self, contact: Contact, decision: Decision, contact_key: str, now: datetime
    ) -> bool:
        """At most one notice per customer per channel per local day, never after STOP."""
        if decision.notice_facts is None or decision.customer_id is None:
            return False
        if contact.channel is Channel.SMS and await self._store.sms_opted_out(contact.sender):
            return False
        return await self._store.claim_notice(
            customer_id=decision.customer_id,
            channel=contact.channel.value,
            day=now.astimezone(self._decision_settings.zone).date(),
            contact_key=contact_key,
        )

    async def set_sms_opt_out(self, number: str, opted_out: bool) -> None:
        """A STOP (True) or START (False) texted from ``number``: no replies after STOP."""
        await self._store.set_sms_opt_out(number, opted_out)

    async def _decide_and_count(
        self, index: PolicyIndex, contact: Contact, contact_key: str, now: datetime
    ) -> Decision:
        for _ in range(_CONSUME_ATTEMPTS):
            usage = await self._usage(index, contact, now)
            decision = decide(contact, index, usage, now)
            if not decision.counted or decision.customer_id is None:
                return decision
            limits = [
                cl for r in index.active_restrictions(decision.customer_id, now) for cl in r.limits
            ]
            if await self._counter.consume(
                decision.customer_id, contact_key, contact.channel, now, limits
            ):
                return decision
        # Someone else took the last place between our read and our write each time:
        # decide once more on fresh usage; whatever it says now is final.
        usage = await self._usage(index, contact, now)
        return decide(contact, index, usage, now)

    async def _usage(self, index: PolicyIndex, contact: Contact, now: datetime) -> Usage:
        match = index.resolve(contact.sender)
        if not isinstance(match, Match) or index.longest_period.total_seconds() == 0:
            return Usage()
        return await self._counter.usage(match.customer_id, now, index.longest_period)
