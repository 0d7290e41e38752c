"""Prometheus metrics: one registry per application, never the library's global one.

No module-level state (STYLE §1): ``Metrics()`` builds its own ``CollectorRegistry``, so
every app a test builds counts for itself. The app factory keeps one under ``METRICS``;
the parts that observe something (the contact service, the mail relay, the Twilio
channel) are handed it. Values that are cheaper to read than to track (the held queue,
the evidence chain's length) are read from the store when Prometheus scrapes.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Deciding is sub-millisecond; recording restricted contact takes milliseconds.
DECISION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


class Metrics:
    """Every metric the gateway exports, in one registry."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.contacts = Counter(
            "gateway_contacts",
            "Inbound contacts decided, by channel and decision (action).",
            ["channel", "decision"],
            registry=registry,
        )
        self.decision_seconds = Histogram(
            "gateway_decision_seconds",
            "Time to decide and record one contact, by channel.",
            ["channel"],
            buckets=DECISION_BUCKETS,
            registry=registry,
        )
        self.degraded = Counter(
            "gateway_degraded_decisions",
            "Contacts decided or put through in a degraded mode, by channel and reason "
            "(redis_unavailable: counted on local counters; no_decision: a call put through "
            "undecided; store_unavailable: an email deferred with 451, the store being down).",
            ["channel", "reason"],
            registry=registry,
        )
        self.relay_failures = Counter(
            "gateway_upstream_relay_failures",
            "Delivery attempts the upstream did not take in full, by kind (unavailable: "
            "not reached; temporary: refused for now, queued for retry; permanent: refused "
            "for good, bounced or passed on).",
            ["kind"],
            registry=registry,
        )
        self.held_queue = Gauge(
            "gateway_held_queue_depth",
            "Held contacts waiting for review (read from the store at scrape time).",
            registry=registry,
        )
        self.held_overdue = Gauge(
            "gateway_held_overdue",
            "Held contacts nobody has read past their read-by deadline (GATEWAY_HELD_READ_WITHIN "
            "working days; read from the store at scrape time).",
            registry=registry,
        )
        self.held_escalations = Counter(
            "gateway_held_escalations",
            "Escalation emails queued for held contact left unread past its deadline (each "
            "item once, by the one gateway that claimed it).",
            registry=registry,
        )
        self.evidence_chain_length = Gauge(
            "gateway_evidence_chain_length",
            "Records in the evidence chain (its head's seq, read at scrape time).",
            registry=registry,
        )
        self._decided: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self.store_up = Gauge(
            "gateway_store_up",
            "1 if the store answered this scrape's reads; 0 if not, and the gauges read "
            "from it keep their last values.",
            registry=registry,
        )

    def decided(self, channel: str, decision: str, seconds: float) -> None:
        """Count one decided contact and how long it took.

        The labelled children are kept here: ``labels()`` takes a lock and validates
        its arguments on every call, and this runs for every contact."""
        children = self._decided.get((channel, decision))
        if children is None:
            children = self._decided[(channel, decision)] = (
                self.contacts.labels(channel, decision),
                self.decision_seconds.labels(channel),
            )
        children[0].inc()
        children[1].observe(seconds)


METRICS = web.AppKey("metrics", Metrics)
