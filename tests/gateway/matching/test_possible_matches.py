"""Possible matches end to end: mail through real SMTP from a new address signed with a
restricted customer's name and number is delivered as anyone's, listed, and confirmed or
dismissed through the API (audited); a confirmed address is under the restriction from
the next message, a dismissed one stays unknown; a plain unknown sender is never listed."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from gateway.api.deps import API
from gateway.mail.lifecycle import MAIL
from gateway.matching.matcher import MATCHER
from gateway.store.casework.matches import list_matches
from tests.gateway.api_support import ApiClient, api_settings, start_api
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.mail_support import (
    CUSTOMER,
    OFFICER,
    STAFF,
    START,
    Upstream,
    policy,
    transact,
    upstream_server,
)

NEW = "alex.new@elsewhere.example"


def mail(sender: str, body: str, *, name: str = "", subject: str = "The tap", n: int = 1) -> bytes:
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = STAFF
    message["Subject"] = subject
    message["Date"] = format_datetime(START)
    message["Message-ID"] = f"<{n}.{sender}>"
    message.set_content(body)
    return message.as_bytes()


SIGNED = "The kitchen tap is leaking again.\n\nThanks,\nAlex Example\n07700 900123\n"


async def gateway(
    aiohttp_client: Any, database_url: str, tmp_path: Path, up: Upstream
) -> ApiClient:
    settings = api_settings(database_url, tmp_path / "mail", upstream=f"smtp://127.0.0.1:{up.port}")
    api = await start_api(aiohttp_client, settings, FakeClock(START))
    await api.store.upsert_policy(
        policy({"channels": ["email"], "notify_customer": False}), actor="test"
    )
    return api


async def send(api: ApiClient, sender: str, data: bytes) -> None:
    assert (await transact(api.app[MAIL].listener.port, sender, [STAFF], data)).code == 250
    await api.app[MATCHER].idle()


async def test_a_signed_mail_from_a_new_address_is_delivered_listed_and_confirmed(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    async with upstream_server() as up:
        api = await gateway(aiohttp_client, database_url, tmp_path, up)
        await send(api, NEW, mail(NEW, SIGNED))
        # Delivered as anyone's mail: to the address it was sent to, untouched.
        [first] = up.messages
        assert first.rcpt_tos == [STAFF] and first.header("X-Contact-Gateway-Restriction") is None
        listed = await api.ok("GET", "/matches", "viewer")
        [match] = listed["items"]
        assert (match["customer_id"], match["identity"], match["channel"]) == ("C-1", NEW, "email")
        assert {"clue": "signed_name", "value": "Alex Example"} in match["clues"]
        assert {"clue": "phone_in_text", "value": "+447700900123"} in match["clues"]
        assert match["status"] == "open" and match["summary"] == "The tap"
        # A viewer may look but not decide.
        refused = await api.call("POST", f"/matches/{match['id']}/confirm", "viewer", json={})
        assert refused.status == 403
        confirmed = await api.ok(
            "POST", f"/matches/{match['id']}/confirm", "officer", json={"note": "same tenancy"}
        )
        assert confirmed["status"] == "confirmed" and confirmed["decided_by"] == "officer"
        customer = await api.ok("GET", "/customers/C-1", "viewer")
        assert NEW in customer["emails"]
        again = await api.call("POST", f"/matches/{match['id']}/dismiss", "officer", json={})
        assert again.status == 409
        # The next mail from that address is the customer's, under the restriction.
        await send(api, NEW, mail(NEW, "Any news on the tap?", n=2))
        second = up.messages[1]
        assert second.rcpt_tos == [OFFICER]
        assert second.header("X-Contact-Gateway-Restriction") == "R-1"
        audit = await api.store.list_audit(limit=50)
        entries = {(a.actor, a.action, a.entity, a.entity_id) for a in audit}
        assert ("officer", "confirmed", "possible_match", str(match["id"])) in entries
        assert any(a.actor == "officer" and a.entity == "customer" for a in audit)
        assert (await api.ok("GET", "/matches", "viewer"))["items"] == []


async def test_a_dismissed_match_stays_unknown_and_is_not_listed_again(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    async with upstream_server() as up:
        api = await gateway(aiohttp_client, database_url, tmp_path, up)
        other = "a.example@elsewhere.example"
        await send(api, other, mail(other, "Is the office open?", name="Alex Example"))
        [match] = (await api.ok("GET", "/matches", "viewer"))["items"]
        assert match["clues"] == [{"clue": "display_name", "value": "Alex Example"}]
        dismissed = await api.ok(
            "POST", f"/matches/{match['id']}/dismiss", "officer", json={"note": "another Alex"}
        )
        assert dismissed["status"] == "dismissed" and dismissed["note"] == "another Alex"
        await send(api, other, mail(other, "Hello again", name="Alex Example", n=2))
        assert [m.rcpt_tos for m in up.messages] == [[STAFF], [STAFF]]
        assert up.messages[1].header("X-Contact-Gateway-Restriction") is None
        assert (await api.ok("GET", "/matches", "viewer"))["items"] == []
        [kept] = (await api.ok("GET", "/matches?status=dismissed", "viewer"))["items"]
        assert kept["seen"] == 2  # noticed again, not listed again
        customer = await api.ok("GET", "/customers/C-1", "viewer")
        assert other not in customer["emails"]
        audit = await api.store.list_audit(limit=50)
        assert any(
            (a.actor, a.action, a.entity) == ("officer", "dismissed", "possible_match")
            for a in audit
        )


async def test_a_plain_unknown_sender_is_never_listed(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    async with upstream_server() as up:
        api = await gateway(aiohttp_client, database_url, tmp_path, up)
        stranger = "sam@elsewhere.example"
        bodies = [
            "My neighbour Alex says the tap is leaking. Call me on 07700 900555.\n\nSam Jones\n",
            "Alex Example told me to write to you.\n",  # the name in a sentence, not signed
            "Thanks\nAlex\n",  # a first name alone
        ]
        for n, body in enumerate(bodies, 1):
            await send(api, stranger, mail(stranger, body, name="Sam Jones", n=n))
        assert len(up.to(STAFF)) == 3
        assert all(m.header("X-Contact-Gateway-Restriction") is None for m in up.messages)
        assert (await api.ok("GET", "/matches?status=any", "viewer"))["items"] == []
        assert api.app[MATCHER].listed == 0


async def test_a_text_from_a_new_number_signed_with_the_name_is_listed(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    from tests.channels.twilio_kit import UNKNOWN_CALLER, start
    from tests.channels.twilio_kit import policy as sms_policy
    from tests.channels.twilio_kit import settings as sms_settings

    gw = await start(aiohttp_client, sms_settings(database_url, tmp_path), FakeClock(START))
    await gw.load(sms_policy({"channels": ["sms"]}))
    root, _ = await gw.text("New phone. The boiler is off again - Alex Example", UNKNOWN_CALLER)
    assert root.findall("Message") == []  # answered as anyone's text: nothing said back
    await gw.text("Hello, is that the housing office?", "+447700900888")
    await gw.app[MATCHER].idle()
    async with gw.app[API].admin.reading("test") as conn:
        [match] = await list_matches(conn, status="open", limit=10, offset=0)
    assert (match["customer_id"], match["identity"], match["channel"]) == (
        "C-1",
        UNKNOWN_CALLER,
        "sms",
    )
    assert match["clues"] == [
        {"clue": "signed_name", "value": "New phone. The boiler is off again - Alex Example"}
    ]
    assert await gw.evidence() == []  # nothing recorded about an unknown sender


async def test_the_same_text_from_a_new_number_is_listed_with_that_clue(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    """The restricted customer texts from their known number; the same words come from a
    number nobody has, with no name or number in them: answered as anyone's text, and
    listed with the clue. A short text is no clue."""
    from tests.channels.twilio_kit import UNKNOWN_CALLER, start
    from tests.channels.twilio_kit import policy as sms_policy
    from tests.channels.twilio_kit import settings as sms_settings

    gw = await start(aiohttp_client, sms_settings(database_url, tmp_path), FakeClock(START))
    await gw.load(sms_policy({"channels": ["sms"]}))
    words = "the bathroom fan has stopped again and the mould is back on the ceiling, sort it"
    await gw.text(words)  # from the customer's own number, under the restriction
    await gw.text("ok thanks")
    await gw.app[MATCHER].idle()
    await gw.text("ok thanks", "+447700900888")
    await gw.app[MATCHER].idle()
    async with gw.app[API].admin.reading("test") as conn:
        assert await list_matches(conn, status="open", limit=10, offset=0) == []

    root, _ = await gw.text(words.upper(), UNKNOWN_CALLER)
    assert root.findall("Message") == []  # answered as anyone's text: nothing said back
    await gw.app[MATCHER].idle()
    async with gw.app[API].admin.reading("test") as conn:
        [match] = await list_matches(conn, status="open", limit=10, offset=0)
    assert (match["customer_id"], match["identity"], match["channel"]) == (
        "C-1",
        UNKNOWN_CALLER,
        "sms",
    )
    assert [c["clue"] for c in match["clues"]] == ["same_text"]
    assert match["clues"][0]["value"].startswith("the same text as their sms of ")


LONG = (
    "The kitchen tap has been dripping for three weeks now and the cupboard underneath "
    "is soaked through. Please send someone this week.\n"
)


async def test_the_same_text_from_a_new_address_is_listed_with_that_clue(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    """The customer writes from their known address; the same words (other case and
    spacing, with a quoted reply below) come from a new address with no name, number or
    signature: delivered as anyone's, and listed with the clue. A short text is no clue."""
    async with upstream_server() as up:
        api = await gateway(aiohttp_client, database_url, tmp_path, up)
        await send(api, CUSTOMER, mail(CUSTOMER, LONG, subject="Tap"))
        await send(api, CUSTOMER, mail(CUSTOMER, "Thank you, see you then.", n=2))
        assert up.messages[0].rcpt_tos == [OFFICER]  # the customer's, under the restriction

        other = "not.alex@elsewhere.example"
        await send(api, other, mail(other, "Thank you, see you then.", n=3))
        assert (await api.ok("GET", "/matches", "viewer"))["items"] == []

        again = LONG.upper().replace(" ", "  ") + "\n> On Monday you wrote:\n> hello\n"
        await send(api, NEW, mail(NEW, again, subject="Tap again", n=4))
        assert up.messages[-1].rcpt_tos == [STAFF]  # still delivered, as anyone's
        [match] = (await api.ok("GET", "/matches", "viewer"))["items"]
        assert (match["customer_id"], match["identity"]) == ("C-1", NEW)
        assert match["clues"] == [
            {
                "clue": "same_text",
                "value": "the same text as their email of Tuesday 24 November 2026, 10:30 am",
            }
        ]
