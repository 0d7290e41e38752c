"""The contact service: identify, decide, count, record. Channels call ``handle``.

Every channel turns its protocol into a ``Contact`` and awaits ``handle``; the service
loads the policy (reloading it when its version changes, so a rules change reaches the
very next contact), reads the customer's usage, calls the pure ``rules.decide``, records
a delivered contact against the caps atomically, and writes the evidence record, the
stored content and any held contact in one transaction before the channel answers. The
count stands only if that record commits (gateway.decisions.reserved_counts).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.common.clock import Clock
from gateway.config.org_settings import OrgSettings, org_settings_from
from gateway.counters.in_process import ReportingCounter, UsageCounter, reporting
from gateway.decisions.org_decisions import read_org_values, with_org
from gateway.decisions.replay import decision_from_record
from gateway.decisions.reserved_counts import ReservedCounts
from gateway.ops.metrics import Metrics
from gateway.store import EvidenceRecord, HoldEntry, Store, entry_from_decision
from gateway.store.evidence_db import content_ref
from rules.decision import EMPTY_USAGE, Contact, Decision, Usage
from rules.engine import decide
from rules.models import Channel
from rules.policy_index import CompiledLimit, DecisionSettings, Match, PolicyIndex

_CONSUME_ATTEMPTS = 3
# How stale the policy may be when another gateway changed it (SPEC §2: within a second).
POLICY_RECHECK_S = 0.25
# The same, while the Redis fan-out (gateway.policy.fanout) is subscribed and announces
# every change at once: the periodic check is then only a safety net.
POLICY_RECHECK_SUBSCRIBED_S = 5.0


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
        counter: UsageCounter | ReportingCounter,
        decision_settings: DecisionSettings,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._counter = reporting(counter)
        self._reserved = ReservedCounts(self._counter)
        self._decision_settings = decision_settings
        self._clock = clock
        self._index: PolicyIndex | None = None
        self._org = OrgSettings()
        # The local year the loaded bank holidays were placed around (see ``policy``).
        self._year = 0
        self._reload = asyncio.Lock()
        self._generation = -1
        self._fresh_until = 0.0
        self._recheck_s = POLICY_RECHECK_S
        self._checking = False

    async def policy(self) -> PolicyIndex:
        """The current policy; reloaded from the store when its version has moved on.

        Reading the version for every contact would cost more than deciding it, so it
        is read again only when this process has changed the policy (the store counts
        that without a query), when another gateway announced a change (Redis fan-out,
        ``policy_changed_elsewhere``), or when the last read is older than
        POLICY_RECHECK_S (POLICY_RECHECK_SUBSCRIBED_S while the fan-out is subscribed),
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
        self._generation, self._fresh_until = generation, time.monotonic() + self._recheck_s
        today = self._clock().astimezone(self._decision_settings.zone).date()
        if self._loaded(version, today.year):
            assert self._index is not None
            return self._index
        async with self._reload:
            if not self._loaded(version, today.year):
                # Customers in a compact directory, not a model each: memory (issue 7).
                lean = await self._store.load_lean_policy()
                values = await read_org_values(self._store)
                settings = with_org(values, self._decision_settings, today=today)
                self._index = PolicyIndex.from_directory(
                    lean.officers, lean.customers, lean.restrictions, settings, version=version
                )
                self._org, self._year = org_settings_from(values), today.year
        assert self._index is not None
        return self._index

    def _loaded(self, version: int, year: int) -> bool:
        """True when the loaded policy is ``version`` and its bank holidays were placed
        this year (they reach three years on, so a new year is reason enough to reload)."""
        return self._index is not None and self._index.version == version and self._year == year

    async def org_settings(self) -> OrgSettings:
        """The organisation's settings as loaded with the current policy (a change to
        them moves the policy version, so they are as fresh as the policy is)."""
        await self.policy()
        return self._org

    @property
    def counter(self) -> ReportingCounter:
        """The usage counter (the app's Redis tasks look after a shared one)."""
        return self._counter

    def policy_changed_elsewhere(self) -> None:
        """Another gateway changed the policy: re-read its version at the next contact."""
        self._fresh_until = 0.0

    def set_policy_recheck(self, seconds: float) -> None:
        """How old a policy may get before its version is read again (the fan-out sets
        it long while subscribed, short while not); re-reads at the next contact."""
        self._recheck_s = seconds
        self._fresh_until = 0.0

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
        started = time.perf_counter()
        decision = decide(contact, index, EMPTY_USAGE, self._clock())
        self._observe(contact, decision, started, degraded=False)
        return decision

    async def rebuild_usage(self) -> int:
        """Seed the counters from the evidence log (start-up, or after Redis lost them)."""
        return await self._counter.load(await self.counted_entries())

    async def counted_entries(self) -> list[tuple[str, str, datetime, str]]:
        """Counted contacts inside the longest limit period, from the evidence log: what
        every counter is rebuilt from. A contact without a key gets one made of what
        it is, so rebuilding twice (two gateways at once) never counts it twice."""
        index = await self.policy()
        since = self._clock() - index.longest_period
        return [
            (
                c.customer_id,
                c.channel,
                c.occurred_at,
                c.contact_key or f"evidence:{c.channel}:{c.occurred_at.isoformat()}",
            )
            for c in await self._store.counted_since(since)
        ]

    async def explain(self, contact: Contact) -> Decision:
        """The decision ``contact`` would get now, without recording or counting anything."""
        index = await self.policy()
        usage, _ = await self._usage(index, contact, contact.at)
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
        record_unrestricted: bool = False,
    ) -> Handled:
        """Decide and record one contact (``_decide_and_record``), counted and timed.

        ``record_unrestricted``: write the evidence record even when no restriction
        applies (a known customer's contact that an officer recorded is evidence of what
        happened, before any restriction: ``POST /contacts``). Contact passing through
        the gateway for unrestricted senders is never recorded.
        """
        started = time.perf_counter()
        handled = await self._decide_and_record(
            contact,
            contact_key=contact_key,
            content=content,
            summary=summary,
            details=details,
            notify_allowed=notify_allowed,
            record_unrestricted=record_unrestricted,
        )
        self._observe(contact, handled.decision, started, degraded=handled.degraded)
        return handled

    def _observe(
        self, contact: Contact, decision: Decision, started: float, *, degraded: bool
    ) -> None:
        """Count a decided contact, by channel and action, and how long it took."""
        if self._metrics is None:
            return
        channel = contact.channel.value
        self._metrics.decided(channel, decision.action.value, time.perf_counter() - started)
        if degraded:
            self._metrics.degraded.labels(channel, "redis_unavailable").inc()

    async def _decide_and_record(
        self,
        contact: Contact,
        *,
        contact_key: str,
        content: bytes | None = None,
        summary: str = "",
        details: dict[str, Any] | None = None,
        notify_allowed: bool = True,
        record_unrestricted: bool = False,
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
        decision, degraded = await self._decide_and_count(index, contact, contact_key, now)
        if not decision.restricted and not (record_unrestricted and decision.customer_id):
            return Handled(
                decision=decision, record=None, created=False, held_id=None, degraded=degraded
            )
        sha = hashlib.sha256(content).hexdigest() if content is not None else None
        entry = entry_from_decision(
            decision,
            contact,
            contact_key=contact_key,
            policy_version=index.version,
            content_sha256=sha,
            content_ref=None if sha is None else content_ref(sha),
            details=details,
            degraded=degraded,
        )
        hold = HoldEntry(summary=summary) if decision.held else None
        write = self._store.record_contact(entry, content=content, hold=hold)
        counted_for = decision.customer_id if decision.counted else None
        if counted_for is None:
            result = await write
        else:  # the count is given back if the record fails
            result = await self._reserved.record(
                write, customer_id=counted_for, contact_key=contact_key, channel=contact.channel
            )
        if not result.created:
            await self._reserved.agree(
                result.record,
                counted_now=counted_for,
                contact_key=contact_key,
                limits=self._limits(index, result.record.customer_id, now),
            )
            # A retry: answer as the first time, and never claim a new notice for it.
            notice = result.record.details.get("notice")
            return Handled(
                decision=decision_from_record(result.record),
                record=result.record,
                created=False,
                held_id=result.held_id,
                notify=notice is not None and await self._store.notice_claimed_by(contact_key),
                recorded_notice=notice,
                degraded=degraded,
            )
        return Handled(
            decision=decision,
            record=result.record,
            created=result.created,
            held_id=result.held_id,
            notify=notify_allowed and await self._may_notify(contact, decision, contact_key, now),
            recorded_notice=entry.details.get("notice"),  # worded once, for the evidence
            degraded=degraded,
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
    ) -> tuple[Decision, bool]:
        """The decision, and whether any count behind it came from this process's own
        counters (the shared ones failed): the evidence record must say so."""
        # A retry waits until its first attempt's count, if that failed, is given back.
        await self._reserved.settled(contact_key)
        degraded = False
        for _ in range(_CONSUME_ATTEMPTS):
            usage, read_locally = await self._usage(index, contact, now)
            degraded = degraded or read_locally
            decision = decide(contact, index, usage, now)
            if not decision.counted or decision.customer_id is None:
                return decision, degraded
            limits = self._limits(index, decision.customer_id, now)
            consumed = await self._counter.consume_reply(
                decision.customer_id, contact_key, contact.channel, now, limits
            )
            degraded = degraded or consumed.degraded
            if consumed.value:
                return decision, degraded
        # Someone else took the last place between our read and our write each time:
        # decide once more on fresh usage; whatever it says now is final.
        usage, read_locally = await self._usage(index, contact, now)
        return decide(contact, index, usage, now), degraded or read_locally

    @staticmethod
    def _limits(index: PolicyIndex, customer_id: str | None, now: datetime) -> list[CompiledLimit]:
        """The caps in force for ``customer_id`` (none for nobody)."""
        if customer_id is None:
            return []
        return [cl for r in index.active_restrictions(customer_id, now) for cl in r.limits]

    async def _usage(
        self, index: PolicyIndex, contact: Contact, now: datetime
    ) -> tuple[Usage, bool]:
        """The customer's usage as far back as their own longest cap reaches. A customer
        with no cap in force needs none (``decide`` reads usage only for caps), so most
        restricted contact (email only, read-and-file, call windows) never waits on the
        counter."""
        match = index.resolve(contact.sender)
        if not isinstance(match, Match):
            return Usage(), False
        active = index.active_restrictions(match.customer_id, now)
        horizon = max((cl.period for r in active for cl in r.limits), default=timedelta(0))
        if horizon.total_seconds() <= 0:
            return Usage(), False
        reply = await self._counter.usage_reply(match.customer_id, now, horizon)
        return reply.value, reply.degraded
