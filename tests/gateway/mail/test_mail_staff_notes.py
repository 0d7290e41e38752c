"""Restrictions and warning flags where staff read the mail: header fields and a banner on
email delivered and released through real SMTP (an aiosmtpd upstream on loopback), as
the organisation's settings say, and never a flag's reason."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

from gateway.api.deps import API
from gateway.mail.release import release_held_email
from gateway.store.casework.casework import add_flag, write_settings
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    START,
    FakeClock,
    Gateway,
    gateway_settings,
    message,
    policy,
    running_gateway,
    transact,
    upstream_server,
)

REASON = "Shouted at Kim on the doorstep and said he knew where she parked"
ALL_ON = {"flag_email_headers": True, "flag_email_banner": True, "flag_text_prefix": True}
BANNER = (
    "Contact gateway: customer C-1 - restriction R-1 in force - "
    "warning flag: RED threat of physical abuse."
)


async def flag_and_show(gateway: Gateway, settings: dict[str, Any] = ALL_ON) -> None:
    """A red flag on the customer (with a reason staff must not see), and the settings."""
    async with gateway.app[API].admin.writing("auth", "flag") as tx:
        await add_flag(tx, "C-1", "red", "threat_of_physical_abuse", REASON)
        await write_settings(tx, settings)


def parsed(content: bytes) -> EmailMessage:
    return BytesParser(policy=SMTP_POLICY).parsebytes(content)


def rich_message() -> bytes:
    """Plain and HTML alternatives (Latin-1 plain text sent 8-bit) and a PDF attachment."""
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = f"Alex Example <{CUSTOMER}>"
    mail["To"] = STAFF
    mail["Subject"] = "Photos of the damp"
    mail["Date"] = format_datetime(START)
    mail["Message-ID"] = "<rich@example.net>"
    mail.set_content("Caf\u00e9 wall is wet again.\n", charset="iso-8859-1", cte="8bit")
    mail.add_alternative(
        "<html><body><p>Caf\u00e9 wall is wet again.</p></body></html>\n", subtype="html"
    )
    mail.add_attachment(
        b"%PDF-1.4\x00\xff\xfe binary", maintype="application", subtype="pdf", filename="damp.pdf"
    )
    return mail.as_bytes()


async def test_delivered_mail_carries_the_flags_and_a_banner_but_never_the_reason(
    database_url: str,
) -> None:
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        restriction = {"channels": ["email"], "notify_customer": False}
        async with running_gateway(settings, FakeClock(), policy(restriction)) as gateway:
            await flag_and_show(gateway)
            sent = rich_message()
            assert (await transact(gateway.port, CUSTOMER, [STAFF], sent)).code == 250
    [delivered] = upstream.to(OFFICER)
    assert REASON.encode() not in delivered.content
    assert b"Shouted" not in delivered.content
    mail = parsed(delivered.content)
    assert mail.get_all("X-Contact-Gateway-Restriction") == ["R-1"]  # once, from routing
    assert mail["X-Contact-Gateway-Customer"] == "C-1"
    assert mail.get_all("X-Contact-Gateway-Flag") == [
        "level=red; category=threat_of_physical_abuse"
    ]
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert (
        plain.get_content().replace("\r\n", "\n") == f"{BANNER}\n\nCaf\u00e9 wall is wet again.\n"
    )
    assert plain["Content-Transfer-Encoding"] == "8bit"
    assert plain.get_content_charset() == "iso-8859-1"
    assert '<body><div role="note"' in html.get_content()
    assert BANNER in html.get_content() and "wall is wet again" in html.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.4\x00\xff\xfe binary"
    # Nothing of the original header section is lost or changed: it ends the new one.
    original_fields = sent.split(b"\r\n\r\n", 1)[0]
    assert original_fields in delivered.content


async def test_unrestricted_customer_with_a_flag_gets_the_note_too(database_url: str) -> None:
    """A flag alone (no restriction in force): the mail goes where it was sent, noted."""
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        ended = {"status": "revoked", "channels": ["email"]}
        async with running_gateway(settings, FakeClock(), policy(ended)) as gateway:
            await flag_and_show(gateway)
            assert (await transact(gateway.port, CUSTOMER, [STAFF], message())).code == 250
    [delivered] = upstream.to(STAFF)
    mail = parsed(delivered.content)
    assert mail["X-Contact-Gateway-Restriction"] is None
    assert mail["X-Contact-Gateway-Flag"] == "level=red; category=threat_of_physical_abuse"
    banner = "Contact gateway: customer C-1 - warning flag: RED threat of physical abuse."
    assert delivered.text() == f"{banner} Please call me about the repair."
    assert REASON.encode() not in delivered.content


async def test_with_the_settings_off_nothing_is_added(database_url: str) -> None:
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        restriction = {"channels": ["email"], "notify_customer": False}
        async with running_gateway(settings, FakeClock(), policy(restriction)) as gateway:
            off = dict.fromkeys(ALL_ON, False)
            await flag_and_show(gateway, off)
            sent = message()
            assert (await transact(gateway.port, CUSTOMER, [STAFF], sent)).code == 250
            # Headers only: no banner, the body exactly as sent.
            async with gateway.app[API].admin.writing("admin", "settings") as tx:
                await write_settings(tx, {**off, "flag_email_headers": True})
            again = message(message_id="<m2@example.net>")
            assert (await transact(gateway.port, CUSTOMER, [STAFF], again)).code == 250
    first, second = upstream.to(OFFICER)
    assert first.content.endswith(sent)
    mail = parsed(first.content)
    assert mail["X-Contact-Gateway-Flag"] is None and mail["X-Contact-Gateway-Customer"] is None
    assert b"Contact gateway:" not in first.content
    assert second.content.endswith(again) and b"Contact gateway:" not in second.content
    assert parsed(second.content)["X-Contact-Gateway-Flag"] == (
        "level=red; category=threat_of_physical_abuse"
    )


async def test_released_mail_carries_the_flags_and_a_banner(database_url: str) -> None:
    clock = FakeClock()
    async with upstream_server() as upstream:
        settings = gateway_settings(database_url, f"smtp://127.0.0.1:{upstream.port}")
        read_and_file = {"handling": "read_and_file", "notify_customer": False}
        async with running_gateway(settings, clock, policy(read_and_file)) as gateway:
            await flag_and_show(gateway)
            forged = message(headers=[("X-Contact-Gateway-Flag", "level=none")])
            assert (await transact(gateway.port, CUSTOMER, [STAFF], forged)).code == 250
            [held] = await gateway.store.list_held()
            assert upstream.messages == []
            await release_held_email(
                gateway.store, gateway.mail.worker, held.id, actor="jsmith", now=clock.now
            )
            await gateway.mail.worker.step()
            await gateway.mail.worker.settled()
    [delivered] = upstream.messages
    assert delivered.rcpt_tos == [STAFF]
    mail = parsed(delivered.content)
    assert mail["X-Contact-Gateway-Released"].startswith("by jsmith;")
    assert mail["X-Contact-Gateway-Restriction"] == "R-1"
    assert mail.get_all("X-Contact-Gateway-Flag") == [
        "level=red; category=threat_of_physical_abuse"
    ]
    assert delivered.text() == f"{BANNER} Please call me about the repair."
    assert REASON.encode() not in delivered.content
