"""Held contact at chosen times, for the read-by and escalation tests.

The app's own store stamps a held contact's ``created_at`` with the wall clock (the app
factory opens it without the injected clock), so these tests hold contact through a
``ContactService`` of their own on the same database whose store has the test's clock:
the same ``handle`` call the SMTP sink makes, with the time under the test's control.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels.smtp.message import body_text
from gateway.app import decision_settings
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.counters.in_process import InProcessCounter
from gateway.decisions.service import ContactService
from gateway.mail.lifecycle import MailRuntime
from gateway.store import Store
from rules.decision import Contact
from rules.models import Channel, Policy
from tests.gateway.mail_support import CUSTOMER, STAFF, Upstream, policy

# Friday 28 August 2026, 14:00 in London: the next Monday is a bank holiday in England.
FRIDAY = datetime(2026, 8, 28, 13, 0, tzinfo=UTC)
# Tuesday 1 September, 23:59:59 in London: the last second it is not yet overdue.
TUESDAY_LAST_SECOND = datetime(2026, 9, 1, 22, 59, 59, tzinfo=UTC)
# Wednesday 2 September, 00:00 in London: overdue.
WEDNESDAY = datetime(2026, 9, 1, 23, 0, tzinfo=UTC)
APPEALS = "appeals@example.org"
TEAM = "duty-team@example.org"
OFFICER = "jane.smith@example.org"
RAW = (
    b"From: Alex <alex@example.net>\r\nTo: housing@example.org\r\nSubject: My boiler\r\n"
    b"Message-ID: <m1@example.net>\r\n\r\nThe boiler is making a noise again.\r\n"
)
BODY_TEXT = "The boiler is making a noise again."
# What the SMTP channel classifies: the subject and the readable body, never the header.
TEXT = f"My boiler\n{body_text(RAW)}"


def held_settings(database_url: str, upstream: Upstream, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": {"url": database_url},
        "upstream": f"smtp://127.0.0.1:{upstream.port}",
        "org_domains": ("example.org",),
        "smtp": {"host": "127.0.0.1", "port": 0, "hostname": "gateway.test"},
        "public_url": "https://gateway.example.org",
        "held": {"read_within": 1, "escalate_to": TEAM},
        "protected": {"appeals": APPEALS},
    }
    values.update(overrides)
    return Settings(**values)


def read_and_file(officers: list[dict[str, Any]] | None = None, **restriction: Any) -> Policy:
    """The rules tests' customer under a read-and-file restriction since January."""
    since = {"handling": "read_and_file", "starts": "2026-01-01T09:00:00Z"}
    return policy({**since, **restriction}, officers=officers)


@dataclass
class Holder:
    """A contact service on the test's clock, holding contact as the SMTP sink would."""

    store: Store
    service: ContactService

    async def email(self, at: datetime, key: str) -> int:
        handled = await self.service.handle(
            Contact(Channel.EMAIL, CUSTOMER, STAFF, at, text=TEXT),
            contact_key=key,
            content=RAW,
            summary="My boiler",
            details={"envelope_sender": CUSTOMER},
        )
        assert handled.held_id is not None, handled.decision
        return handled.held_id


@asynccontextmanager
async def holding(
    url: str, settings: Settings, clock: Clock, policy: Policy | None = None
) -> AsyncIterator[Holder]:
    """A :class:`Holder` on ``url``; with ``policy``, that policy is imported first."""
    store = await Store.open(url, clock=clock)
    try:
        if policy is not None:
            await store.upsert_policy(policy, actor="test")
        service = ContactService(store, InProcessCounter(), decision_settings(settings), clock)
        yield Holder(store, service)
    finally:
        await store.close()


async def drain(mails: Iterable[MailRuntime], upstream: Upstream) -> int:
    """Let every gateway's worker deliver until no queue has anything waiting."""
    runtimes = list(mails)
    for _ in range(100):  # bounded: a background round may hold a row for a moment
        for mail in runtimes:
            await mail.worker.step()
            await mail.worker.settled()
        if await runtimes[0].queue.pending() == 0:
            return len(upstream.messages)
    raise AssertionError("the mail queue never emptied")
