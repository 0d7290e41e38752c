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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.clock import Clock
from gateway.counters import UsageCounter
from gateway.store import EvidenceRecord, HoldEntry, Store, entry_from_decision
from rules.decision import Contact, Decision, Usage
from rules.engine import decide
from rules.models import Channel
from rules.policy_index import DecisionSettings, Match, PolicyIndex

_CONSUME_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Handled:
    """What ``handle`` did: the decision, and the evidence and hold it wrote (if any)."""

    decision: Decision
    record: EvidenceRecord | None
    created: bool
    held_id: int | None
    notify: bool = False

    @property
    def notice(self) -> str | None:
        """The words to send the customer now, or None when they are not to be told."""
        return self.decision.notice if self.notify else None


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

    async def policy(self) -> PolicyIndex:
        """The current policy; reloaded from the store when its version has moved on."""
        version = await self._store.policy_version()
        if self._index is not None and self._index.version == version:
            return self._index
        async with self._reload:
            if self._index is None or self._index.version != version:
                policy = await self._store.load_policy()
                self._index = PolicyIndex(policy, self._decision_settings, version=version)
        return self._index

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
    ) -> Handled:
        """Decide and record one contact. Idempotent on ``contact_key``.

        A retried contact (same Message-ID and content, CallSid or MessageSid) finds its
        evidence record and gets the same outcome without being counted or recorded again.
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
        return Handled(
            decision=decision,
            record=result.record,
            created=result.created,
            held_id=result.held_id,
            notify=await self._may_notify(contact, decision, contact_key, now),
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
