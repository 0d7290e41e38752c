"""Exempt texts through a signed Twilio webhook reach where their class belongs.

Twilio's requests are signed with twilio's own RequestValidator (tests.channels.
twilio_kit); the gateway forwards by email through its mail queue to a real aiosmtpd
upstream on loopback.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.mail.lifecycle import MAIL
from tests.channels.twilio_kit import FakeClock, policy, settings, start
from tests.gateway.mail_support import Upstream, upstream_server

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
APPEALS = "appeals@example.org"
NO_CONTACT = {"channels": [], "handling": "no_contact", "notify_customer": False}


async def test_an_appeal_by_text_goes_to_the_appeals_address(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    async with upstream_server() as upstream:
        gateway = await start(
            aiohttp_client,
            settings(
                database_url,
                tmp_path,
                upstream=f"smtp://127.0.0.1:{upstream.port}",
                protected={"appeals": APPEALS},
            ),
            FakeClock(NOW),
        )
        await gateway.load(policy(NO_CONTACT))
        _, sid = await gateway.text("who do i appeal to about this no contact thing, its unfair")
        await _until_delivered(gateway.app, upstream)
        [mail] = upstream.messages
        assert mail.rcpt_tos == [APPEALS]
        assert mail.header("X-Twilio-MessageSid") == sid
        assert "(exempt: appeal)" in (mail.header("Subject") or "")
        [record] = await gateway.evidence()
        assert (record.action, record.exemption, record.deliver_to) == (
            "deliver",
            "appeal",
            APPEALS,
        )


async def test_a_welsh_gas_leak_text_is_forwarded_to_the_named_officer(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    async with upstream_server() as upstream:
        gateway = await start(
            aiohttp_client,
            settings(database_url, tmp_path, upstream=f"smtp://127.0.0.1:{upstream.port}"),
            FakeClock(NOW),
        )
        await gateway.load(policy(NO_CONTACT))
        await gateway.text("ogla nwy cryf yn y gegin, plis helpwch")
        await _until_delivered(gateway.app, upstream)
        [mail] = upstream.messages
        assert mail.rcpt_tos == ["jane.smith@example.org"]
        [record] = await gateway.evidence()
        assert record.exemption == "emergency_repair" and record.action == "deliver"


async def test_an_ordinary_text_stays_held(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    gateway = await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(NOW))
    await gateway.load(policy(NO_CONTACT))
    await gateway.text("when is my rent review? thanks for fixing the gate last week")
    [record] = await gateway.evidence()
    assert record.action == "hold" and record.exemption is None


async def _until_delivered(app: Any, upstream: Upstream) -> None:
    """Let the mail queue run (bounded) until the upstream has a message."""
    async with asyncio.timeout(10):
        while not upstream.messages:
            await app[MAIL].worker.step()
            await asyncio.sleep(0.02)
