"""Statutory contact gets through a real SMTP gateway to where it belongs.

A customer under no contact writes; aiosmtplib sends to the gateway, which relays to an
aiosmtpd upstream. The appeals, complaints and data-protection addresses are protected
routes; the repairs team is not (emergency repairs go to the named officer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from gateway.config.settings import Settings
from tests.conftest import sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    FakeClock,
    Gateway,
    Upstream,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)

APPEALS = "appeals@example.org"
COMPLAINTS = "complaints@example.org"


@asynccontextmanager
async def no_contact(database_url: str) -> AsyncIterator[tuple[Gateway, Upstream]]:
    async with upstream_server() as upstream:
        settings = Settings(
            database={"url": database_url},
            upstream=f"smtp://127.0.0.1:{upstream.port}",
            org_domains=("example.org",),
            smtp={"host": "127.0.0.1", "port": 0, "hostname": "gateway.test"},
            protected={"appeals": APPEALS, "complaints": COMPLAINTS},
        )
        restriction = {"handling": "no_contact", "channels": [], "notify_customer": False}
        async with running_gateway(settings, FakeClock(), policy(restriction)) as gateway:
            yield gateway, upstream


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[tuple[Gateway, Upstream]]:
    async with no_contact(database_url) as running:
        yield running


async def test_a_welsh_gas_leak_email_reaches_the_named_officer(
    env: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = env
    sent = message(subject="Help", body="Helo, mae nwy yn gollwng yn y gegin. Plis dewch.")
    reply = await transact(gateway.port, CUSTOMER, [STAFF], sent)
    assert reply.code == 250
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [OFFICER]
    assert delivered.header("X-Contact-Gateway-Exemption") == "emergency_repair"
    [record] = await gateway.store.list_evidence()
    assert (record.action, record.exemption, record.deliver_to) == (
        "deliver",
        "emergency_repair",
        OFFICER,
    )
    assert "the words 'nwy gollwng'" in record.reasons[0]["text"]


async def test_an_appeal_to_the_named_officer_goes_to_the_appeals_address(
    env: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = env
    body = "I never swore at anyone. I want the restriction on my contact looked at again."
    sent = message(to=[OFFICER], subject="the ban", body=body)
    reply = await transact(gateway.port, CUSTOMER, [OFFICER], sent)
    assert reply.code == 250
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [APPEALS]
    assert delivered.content.endswith(sent), "the message itself is passed on unchanged"
    assert delivered.header("X-Contact-Gateway-Redirected-To") == APPEALS
    assert delivered.header("X-Contact-Gateway-Original-Recipients") == OFFICER
    [record] = await gateway.store.list_evidence()
    assert (record.action, record.exemption, record.deliver_to) == ("deliver", "appeal", APPEALS)
    assert f"Sent to {APPEALS}, where appeals go" in record.reasons[0]["text"]
    assert await gateway.store.list_held() == []


async def test_mail_to_a_protected_route_is_delivered_untouched(
    env: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = env
    sent = message(to=[COMPLAINTS, STAFF], subject="hello", body="Just saying hello.")
    reply = await transact(gateway.port, CUSTOMER, [COMPLAINTS, STAFF], sent)
    assert reply.code == 250
    [delivered] = upstream.messages
    # Only the protected route: copying it in does not carry the mail to other staff.
    assert delivered.rcpt_tos == [COMPLAINTS]
    assert delivered.content.endswith(sent)
    [record] = await gateway.store.list_evidence()
    assert (record.action, record.exemption) == ("deliver", "protected_route")
    assert "protected route (complaints" in record.reasons[0]["text"]


async def test_an_html_only_safeguarding_email_is_read(
    env: tuple[Gateway, Upstream],
) -> None:
    gateway, upstream = env
    mail = EmailMessage(policy=SMTP)
    mail["From"], mail["To"], mail["Subject"] = CUSTOMER, STAFF, "Noise"
    mail.set_content(
        "<p>The man upstairs was shouting &quot;I&#39;ll kill you&quot; at her again.</p>",
        subtype="html",
    )
    reply = await transact(gateway.port, CUSTOMER, [STAFF], mail.as_bytes())
    assert reply.code == 250
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [OFFICER]
    [record] = await gateway.store.list_evidence()
    assert record.exemption == "safeguarding" and record.action == "deliver"


async def test_ordinary_mail_stays_held(env: tuple[Gateway, Upstream]) -> None:
    gateway, upstream = env
    sent = message(body="Thanks for sorting the leak last year. When is the rent review?")
    reply = await transact(gateway.port, CUSTOMER, [STAFF], sent)
    assert reply.code == 250 and upstream.messages == []
    [held] = await gateway.store.list_held()
    assert held.hold_reason == "no_contact"


async def test_a_bad_phrase_file_stops_start_up_with_the_line_named(tmp_path: Path) -> None:
    from gateway.config.settings import SettingsError, load_settings

    bad = tmp_path / "phrases.yaml"
    bad.write_text("appeal:\n  en:\n    add:\n      - ''\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"line 4: appeal\.en\.add\.0: is empty"):
        load_settings(database={"url": sqlite_url(tmp_path)}, exemption_phrases=bad)
