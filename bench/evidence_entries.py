"""Realistic evidence entries for the store benchmarks, built the way the gateway builds them.

Templates come from real decisions: ``bench/decide.py``'s policy (every restriction in
force) and its contact mix, keeping only contact from restricted customers (the only
contact that is recorded), each turned into an entry by ``entry_from_decision`` exactly
as the contact service does. Each benchmark record is a template with its own contact
key and instant; emails carry their message as content, texts their words, and held
contact (held mail and texts, voicemail) opens a held item with a summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from decide import build, workload

from gateway.store import EvidenceEntry, HoldEntry, entry_from_decision
from rules.decision import Action
from rules.engine import decide
from rules.models import Channel

HELD_ACTIONS = {Action.HOLD.value, Action.VOICEMAIL.value}
BODY = "I am writing again about the repairs to my flat, which nobody has done.\n"


@dataclass(frozen=True, slots=True)
class Template:
    entry: EvidenceEntry
    text: str


@dataclass(frozen=True, slots=True)
class Append:
    """One ``record_contact`` call: the entry and what goes with it."""

    entry: EvidenceEntry
    content: bytes | None
    hold: HoldEntry | None


def templates(
    count: int = 2000, *, customers: int = 2000, restrictions: int = 400
) -> list[Template]:
    """Entries for ``count`` decided contacts from restricted customers."""
    index = build(customers, restrictions)
    out: list[Template] = []
    for contact, usage, at in workload(index, count * 6, seed=23):
        decision = decide(contact, index, usage, at)
        if not decision.restricted:
            continue
        entry = entry_from_decision(decision, contact, contact_key="template", policy_version=7)
        out.append(Template(entry, contact.text))
        if len(out) == count:
            break
    return out


def clone(entry: EvidenceEntry, **changes: Any) -> EvidenceEntry:
    """``entry`` with ``changes`` (a key, an instant, a digest), already in normal form.

    ``dataclasses.replace`` would run ``__post_init__`` again (three JSON round trips),
    which would make generating a million records take minutes; the new values here are
    already what it would make of them (strings, aware UTC datetimes).
    """
    fields = getattr(entry, "__dict__", None)
    if fields is None:  # a slotted dataclass: take the slow, safe way
        return dataclasses.replace(entry, **changes)
    new = object.__new__(type(entry))
    new.__dict__.update(fields, **changes)
    return new


def appends(pool: list[Template], count: int, start: datetime, tag: str) -> Iterator[Append]:
    """``count`` appends cycling through ``pool``, each with its own key and instant."""
    for n in range(count):
        template = pool[n % len(pool)]
        key = f"<{tag}-{n}@customers.example>"
        entry = clone(template.entry, contact_key=key, occurred_at=start + timedelta(seconds=n))
        content = content_of(template, entry, key, n)
        hold = None
        if entry.action in HELD_ACTIONS:
            hold = HoldEntry(summary=f"Message {n} about my tenancy")
        yield Append(entry, content, hold)


def content_of(template: Template, entry: EvidenceEntry, key: str, n: int) -> bytes | None:
    """What the gateway stores for the ``n``th contact: an email's message (2-20 KB, its
    own for every record), a text's words; a call has none."""
    if entry.channel == Channel.EMAIL.value:
        return _email(entry, key, n)
    if entry.channel == Channel.SMS.value:
        return (template.text or f"Text number {n}").encode()
    return None


def _email(entry: EvidenceEntry, key: str, n: int) -> bytes:
    """A plain message of 2-20 KB, different for every record (so every one is stored)."""
    lines = 30 + (n * 37) % 250
    head = (
        f"From: {entry.sender}\r\nTo: {entry.recipient}\r\nMessage-ID: {key}\r\n"
        f"Subject: Message {n} about my tenancy\r\n\r\n"
    )
    return (head + BODY * lines).encode()
