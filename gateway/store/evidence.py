"""Evidence values: what one record says, and how it is built from a decision.

An evidence record is the replayable account of one contact (STYLE, convention 5): the
contact, the counts that applied, the policy version and the decision with its reasons,
so ``decide`` can be re-run on any logged case and a court can read why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple

from gateway.chain.canonical_json import exact_json
from gateway.chain.links import JSONText, json_safe_noting_floats
from rules.decision import Contact, Decision

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, kw_only=True)
class EvidenceEntry:
    """One record to append: every field below is covered by the record's hash.

    ``contact_key`` makes recording idempotent: a channel uses something the sender
    repeats on retry (Twilio's MessageSid or CallSid, an email's Message-ID) so a retried
    webhook or re-sent message is recorded once. ``counted`` is true when the contact was
    delivered and counts toward limits; usage is rebuilt from these records.
    """

    kind: str = "contact"
    contact_key: str | None
    occurred_at: datetime
    channel: str
    sender: str
    recipient: str
    customer_id: str | None = None
    restriction_id: str | None = None
    action: str
    deliver_to: str | None = None
    hold_reason: str | None = None
    exemption: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    counted: bool = False
    content_sha256: str | None = None
    content_ref: str | None = None
    policy_version: int = 0
    degraded: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise once, so the values hashed are the values the database returns.
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        set_ = object.__setattr__
        set_(self, "occurred_at", self.occurred_at.astimezone(UTC))
        for name in ("kind", "channel", "sender", "recipient", "action"):
            set_(self, name, str(getattr(self, name)))
        for name in (
            "contact_key",
            "customer_id",
            "restriction_id",
            "deliver_to",
            "hold_reason",
            "exemption",
            "content_ref",
        ):
            value = getattr(self, name)
            set_(self, name, None if value is None else str(value))
        if self.content_sha256 is not None:
            digest = self.content_sha256.lower()
            if not _SHA256.match(digest):
                raise ValueError(f"content_sha256 '{self.content_sha256}' is not a SHA-256 hex")
            set_(self, "content_sha256", digest)
        # One JSON round trip for the three (it is on every restricted contact's path).
        (reasons, counts, details), floats = json_safe_noting_floats(
            [list(self.reasons), list(self.counts), dict(self.details)]
        )
        set_(self, "reasons", reasons)
        set_(self, "counts", counts)
        set_(self, "details", details)
        set_(self, "_json_texts", None if floats else _texts(reasons, counts, details))
        set_(self, "counted", bool(self.counted))
        set_(self, "degraded", bool(self.degraded))
        set_(self, "policy_version", int(self.policy_version))

    def entry_fields(self) -> dict[str, Any]:
        """The entry's own fields by name (no seq or hash)."""
        return {name: getattr(self, name) for name in ENTRY_FIELDS}

    @property
    def json_texts(self) -> tuple[JSONText, JSONText, JSONText] | None:
        """``reasons``, ``counts`` and ``details`` in canonical JSON, written once for
        the hash and the columns alike; None when a float is among them (then only the
        standard library writes them as the hash needs)."""
        texts: tuple[JSONText, JSONText, JSONText] | None = self.__dict__.get("_json_texts")
        return texts

    def with_content_ref(self, content_sha256: str, content_ref: str) -> EvidenceEntry:
        """This entry pointing at its content: ``content_sha256`` (lower-case SHA-256
        hex, as ``with_content`` makes it) and ``content_ref``. A copy of the normalised
        entry, since nothing else changes, rather than a new one normalised again."""
        if not _SHA256.match(content_sha256):
            raise ValueError(f"content_sha256 '{content_sha256}' is not a SHA-256 hex")
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__["content_sha256"] = content_sha256
        copy.__dict__["content_ref"] = str(content_ref)
        return copy


def _texts(*values: Any) -> tuple[JSONText, ...] | None:
    written = [exact_json(value) for value in values]
    if any(text is None for text in written):
        return None
    return tuple(JSONText(text.decode()) for text in written if text is not None)


ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(EvidenceEntry))


@dataclass(frozen=True, kw_only=True)
class EvidenceRecord(EvidenceEntry):
    """An entry once appended: its place in the chain and the hash that seals it."""

    seq: int
    recorded_at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def from_normalised(cls, fields: dict[str, Any]) -> EvidenceRecord:
        """A record from every field, taken from an entry that is already normalised
        (``seal``): normalising again would change nothing, and costs three JSON round
        trips per record, on the path every restricted contact takes."""
        if fields.keys() != _RECORD_FIELD_NAMES:
            raise ValueError(f"a record needs exactly the fields {sorted(_RECORD_FIELD_NAMES)}")
        record = object.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(record, name, value)
        return record

    def hashed_fields(self) -> dict[str, Any]:
        """Everything the hash covers: the entry fields plus seq, recorded_at, prev_hash."""
        out = self.entry_fields()
        out["seq"] = self.seq
        out["recorded_at"] = self.recorded_at
        out["prev_hash"] = self.prev_hash
        return out


HASHED_FIELDS: tuple[str, ...] = ("seq", "recorded_at", "prev_hash", *ENTRY_FIELDS)
_RECORD_FIELD_NAMES = frozenset((*HASHED_FIELDS, "hash"))


@dataclass(frozen=True, kw_only=True)
class HoldEntry:
    """Ask ``record_contact`` to open a held contact for review with the record.

    The held row takes channel, sender, customer and restriction from the evidence
    entry; ``summary`` is what a reviewing officer sees in a list (a subject line, the
    first words of a text).
    """

    summary: str = ""


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The record as stored; ``created`` is False when ``contact_key`` was seen before."""

    record: EvidenceRecord
    created: bool
    held_id: int | None


class CountedContact(NamedTuple):
    """A delivered contact that counts toward limits, for rebuilding usage after restart."""

    customer_id: str
    channel: str
    occurred_at: datetime
    contact_key: str | None


def entry_from_decision(
    decision: Decision,
    contact: Contact,
    *,
    contact_key: str | None,
    policy_version: int,
    content_sha256: str | None = None,
    content_ref: str | None = None,
    degraded: bool = False,
    details: dict[str, Any] | None = None,
    kind: str = "contact",
) -> EvidenceEntry:
    """Build the evidence for a decided contact, keeping everything needed to replay it.

    Facts of the decision that have no column of their own (the officer chosen, the
    representative it came through, call settings, the notice sent) go in ``details``;
    the caller's ``details`` are added last and win.
    """
    extra: dict[str, Any] = {
        "officer_id": decision.officer_id,
        "via_representative": decision.via_representative,
        "emergency_requested": contact.emergency_requested,
        "offer_emergency": decision.offer_emergency,
        "call_time_limit": decision.call_time_limit,
        "record_call": decision.record_call,
        "notice": decision.notice,
        "next_window": None
        if decision.next_window is None
        else {
            "day": decision.next_window.day,
            "words": decision.next_window.words,
            "starts_at": _iso(decision.next_window.starts_at),
            "ends_at": _iso(decision.next_window.ends_at),
        },
    }
    extra.update(details or {})
    return EvidenceEntry(
        kind=kind,
        contact_key=contact_key,
        occurred_at=contact.at,
        channel=contact.channel.value,
        sender=contact.sender,
        recipient=contact.recipient,
        customer_id=decision.customer_id,
        restriction_id=decision.restriction_id,
        action=decision.action.value,
        deliver_to=decision.deliver_to,
        hold_reason=None if decision.hold_reason is None else decision.hold_reason.value,
        exemption=decision.exemption,
        reasons=[_flat(reason) for reason in decision.reasons],
        counts=[_flat(count) for count in decision.counts],
        counted=decision.counted,
        content_sha256=content_sha256,
        content_ref=content_ref,
        policy_version=policy_version,
        degraded=degraded,
        details=extra,
    )


def _flat(value: Any) -> dict[str, Any]:
    """A flat dataclass (a Reason, a LimitCount: text and numbers) as a dict; what
    ``asdict`` gives, without its deep copy of every value."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
