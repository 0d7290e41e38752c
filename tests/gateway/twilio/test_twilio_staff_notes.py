"""A text passed on to the named officer (signed Twilio webhook in, the email copy through
the mail queue, the SMS copy to a loopback Twilio API) starts with the customer's
restriction and warning flags when the organisation says so; never the flag's reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.api.deps import API
from gateway.store.casework.casework import add_flag, write_settings
from gateway.twilio.wiring import TWILIO_HTTP_CLIENT
from tests.channels.test_twilio_sms import (
    FORWARDING,
    MOBILE_OFFICERS,
    NOW,
    FakeTwilioApi,
    LoopbackHttpClient,
    api,  # noqa: F401 (a fixture)
)
from tests.channels.twilio_kit import FakeClock, policy, settings, start
from tests.gateway.twilio.test_twilio_wiring import _delivered

REASON = "Threatened to set the dog on the gas engineer"
LINE = (
    "Contact gateway: customer C-1 - restriction R-1 in force - "
    "warning flag: AMBER threat of animal attack."
)


async def _gateway(
    aiohttp_client: Any, database_url: str, tmp_path: Path, fake: FakeTwilioApi, shown: bool
) -> Any:
    gateway = await start(
        aiohttp_client,
        settings(database_url, tmp_path, twilio=FORWARDING),
        FakeClock(NOW),
        {TWILIO_HTTP_CLIENT: lambda: LoopbackHttpClient(fake.base)},
    )
    await gateway.load(policy({"channels": ["sms"]}, officers=MOBILE_OFFICERS))
    async with gateway.app[API].admin.writing("auth", "flag") as tx:
        await add_flag(tx, "C-1", "amber", "threat_of_animal_attack", REASON)
        await write_settings(tx, {"flag_text_prefix": shown, "flag_email_headers": shown})
    return gateway


async def test_forwarded_text_starts_with_the_note(
    aiohttp_client: Any,
    database_url: str,
    tmp_path: Path,
    api: FakeTwilioApi,  # noqa: F811
) -> None:
    gateway = await _gateway(aiohttp_client, database_url, tmp_path, api, shown=True)
    await gateway.text("The boiler is making a noise")
    (sent,) = api.sent
    assert sent["Body"] == (
        f"{LINE}\n\nText from Alex Example (07700 900123): The boiler is making a noise"
    )
    mail = await _delivered(gateway.app, tmp_path / "jane.smith@example.org")
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body.startswith(f"{LINE}\n\nAlex Example (07700 900123) sent this text")
    assert mail["X-Contact-Gateway-Flag"] == "level=amber; category=threat_of_animal_attack"
    assert REASON not in mail.as_string() and REASON not in sent["Body"]


async def test_without_the_setting_the_text_goes_as_before(
    aiohttp_client: Any,
    tmp_path: Path,
    api: FakeTwilioApi,  # noqa: F811
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    gateway = await _gateway(aiohttp_client, url, tmp_path, api, shown=False)
    await gateway.text("The boiler is making a noise")
    (sent,) = api.sent
    assert sent["Body"] == "Text from Alex Example (07700 900123): The boiler is making a noise"
    mail = await _delivered(gateway.app, tmp_path / "jane.smith@example.org")
    assert mail["X-Contact-Gateway-Flag"] is None
    assert "Contact gateway:" not in mail.get_payload(decode=True).decode()
