"""The Twilio channel inside the gateway: the REST client's lifecycle, texts forwarded by
email through the mail queue, and the ``simulate`` command against a running gateway."""

from __future__ import annotations

import asyncio
import mailbox
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.main import build_parser
from gateway.cli.simulate import run as simulate
from gateway.mail.lifecycle import MAIL
from gateway.twilio.forward import TwilioHttpClient, is_mobile
from gateway.twilio.wiring import TWILIO_HTTP_CLIENT
from tests.channels.twilio_kit import (
    ACCOUNT_SID,
    PUBLIC_URL,
    TOKEN,
    FakeClock,
    policy,
    settings,
    start,
)
from tests.conftest import sqlite_url

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
FORWARDING = {"auth_token": TOKEN, "forward_sms": True, "account_sid": ACCOUNT_SID}


async def test_rest_client_is_made_in_the_loop_and_closed_on_shutdown(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    made: list[TwilioHttpClient] = []

    def factory() -> TwilioHttpClient:
        asyncio.get_running_loop()  # raises outside a running loop
        made.append(TwilioHttpClient())
        return made[-1]

    gateway = await start(
        aiohttp_client,
        settings(sqlite_url(tmp_path), tmp_path, twilio=FORWARDING),
        FakeClock(NOW),
        {TWILIO_HTTP_CLIENT: factory},
    )
    (http,) = made
    assert http.session is not None and not http.session.closed
    await gateway.client.close()
    assert http.session.closed


async def test_no_rest_client_unless_texts_are_forwarded(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    made: list[object] = []
    await start(
        aiohttp_client,
        settings(sqlite_url(tmp_path), tmp_path),
        FakeClock(NOW),
        {TWILIO_HTTP_CLIENT: lambda: made.append(1)},  # type: ignore[dict-item]
    )
    assert made == []


async def test_delivered_text_is_emailed_to_the_officer_through_the_mail_queue(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    gateway = await start(aiohttp_client, settings(database_url, tmp_path), FakeClock(NOW))
    await gateway.load(policy({"channels": ["sms"]}))
    _, sid = await gateway.text("The boiler is making a noise")
    await gateway.text("The boiler is making a noise", sid=sid)  # a retry: one email only
    box = tmp_path / "jane.smith@example.org"
    mail = await _delivered(gateway.app, box)
    assert mail["To"] == "jane.smith@example.org"
    assert mail["Subject"] == "Text message from Alex Example (07700 900123)"
    assert mail["X-Twilio-MessageSid"] == sid
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "The boiler is making a noise" in mail.get_payload(decode=True).decode()
    assert len(mailbox.Maildir(box, create=False)) == 1


async def _delivered(app: Any, box: Path) -> Message:
    """Let the mail queue run (bounded) until one message is in ``box``."""
    async with asyncio.timeout(10):
        while not (box / "new").is_dir() or not any((box / "new").iterdir()):
            await app[MAIL].worker.step()
            await asyncio.sleep(0.02)
    (path,) = (box / "new").iterdir()
    return message_from_bytes(path.read_bytes())


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+447700900001", True),  # Ofcom drama range for mobiles
        ("+447911123456", True),
        ("+441632960001", False),
        ("+442079460000", False),
    ],
)
def test_is_mobile(number: str, mobile: bool) -> None:
    assert is_mobile(number) is mobile


async def test_simulate_signs_posts_and_prints_the_twiml(
    aiohttp_client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings(sqlite_url(tmp_path), tmp_path)
    gateway = await start(aiohttp_client, s, FakeClock(NOW))
    await gateway.load(policy({"channels": ["email"]}))
    url = str(gateway.client.make_url("")).rstrip("/")
    parser = build_parser()
    numbers = ["--from", "07700 900123", "--to", "01632 960000", "--url", url]
    call = parser.parse_args(["simulate", "call", *numbers])
    assert await simulate(call, s) == 0
    out = capsys.readouterr().out
    assert "-> HTTP 200" in out and "<Gather" in out and "cannot accept phone calls" in out
    sid = out.split("(")[1].split(")")[0]
    key = parser.parse_args(["simulate", "key", "--sid", sid, *numbers])
    assert await simulate(key, s) == 0
    assert "<Dial" in capsys.readouterr().out
    sms = parser.parse_args(["simulate", "sms", *numbers, "--body", "hello"])
    assert await simulate(sms, s) == 0
    assert "<Message>" in capsys.readouterr().out
    # Signed for another public URL: the gateway refuses it, and the command says so.
    elsewhere = s.model_copy(update={"public_url": PUBLIC_URL + ":8443"})
    assert await simulate(call, elsewhere) == 1
    assert "HTTP 403" in capsys.readouterr().out


async def test_unknown_senders_are_decided_without_io_only_when_that_is_safe(
    tmp_path: Path,
) -> None:
    from gateway.app import open_service
    from rules.decision import Action, Contact
    from rules.models import Channel

    s = settings(sqlite_url(tmp_path), tmp_path)
    store, service = await open_service(s, FakeClock(NOW))
    try:
        await store.upsert_policy(policy({"channels": ["email"]}), actor="test")

        def call(sender: str) -> Contact:
            return Contact(Channel.VOICE, sender, "+441632960000", NOW)

        # The policy changed in this process and has not been read since: no shortcut.
        assert service.decide_unknown(call("+447700900999")) is None
        await service.policy()
        quick = service.decide_unknown(call("+447700900999"))
        assert quick is not None and quick.action is Action.CONNECT and not quick.restricted
        assert service.decide_unknown(call("+447700900123")) is None  # a customer
        await store.upsert_policy(policy({"channels": ["voice"]}), actor="test")
        assert service.decide_unknown(call("+447700900999")) is None  # changed again
    finally:
        await store.close()
