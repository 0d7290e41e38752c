"""Letters through the API and the real mail path, and the rule they serve: a
restriction is authorised into force only once the customer has been told in writing
(or a different authoriser has signed off the exception to notice). SQLite and
PostgreSQL, an aiosmtpd upstream on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import timedelta
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from gateway.api.deps import API
from gateway.evidence.pack import build_pdf
from tests.gateway.api_support import (
    START,
    ApiClient,
    api_settings,
    proposal,
    seed_people,
    start_api,
)
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.mail_support import Upstream, upstream_server
from tests.rules.factories import CUSTOMER_EMAIL, customer


@pytest.fixture
async def upstream() -> Any:
    async with upstream_server() as server:
        yield server


@pytest.fixture
async def api(
    aiohttp_client: Any, database_url: str, tmp_path: Path, upstream: Upstream
) -> ApiClient:
    settings = api_settings(
        database_url,
        tmp_path / "mail",
        upstream=f"smtp://127.0.0.1:{upstream.port}",
        letter={"org_name": "Example Housing", "address": "1 High Street|Cardiff CF10 1AA"},
        emergency_number="+441632960999",
        protected={"appeals": "appeals@example.org"},
    )
    client = await start_api(aiohttp_client, settings, FakeClock(START), written_notice=True)
    await seed_people(client)
    await client.ok(
        "POST", "/restrictions", "officer", json=proposal(starts="2026-11-25T09:00:00Z")
    )
    return client


async def _authorise(api: ApiClient, user: str = "auth") -> Any:
    return await api.call("POST", "/restrictions/R-1/authorise", user, json={"reason": "ok"})


async def _arrived(upstream: Upstream, to: str) -> Any:
    for _ in range(500):  # real delivery over loopback: bounded wait, not time passing
        if upstream.to(to):
            return upstream.to(to)[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing arrived for {to}")


async def test_an_emailed_letter_goes_to_every_address_recorded(
    api: ApiClient, upstream: Upstream
) -> None:
    addresses = ["sam@example.net", "sam.work@example.net"]
    await api.ok(
        "POST",
        "/customers",
        "officer",
        json=customer(
            id="C-2", name="Sam Two", emails=addresses, phones=["07700 900124"], representatives=[]
        ),
    )
    letter = await api.ok(
        "POST",
        "/customers/C-2/letters",
        "officer",
        json={"kind": "warning", "delivery": "email", "behaviour": "Thirty emails in a day."},
    )
    assert letter["status"] == "sent"
    assert letter["to_address"] == "sam@example.net, sam.work@example.net"
    received = await _arrived(upstream, addresses[1])
    assert upstream.to(addresses[0]) == [received]  # one message, to both
    assert sorted(received.rcpt_tos) == sorted(addresses)
    message = BytesParser(policy=SMTP).parsebytes(received.content)
    assert message["To"] == "sam@example.net, sam.work@example.net"


async def test_no_authorisation_without_written_notice_then_the_emailed_letter_allows_it(
    api: ApiClient, upstream: Upstream
) -> None:
    refused = await _authorise(api)
    assert refused.status == 409
    assert "told in writing" in (await refused.json())["error"]["message"]
    assert (await api.ok("GET", "/restrictions/R-1", "viewer"))["status"] == "draft"

    letter = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "auth",
        json={"kind": "decision", "delivery": "email", "restriction": "R-1"},
    )
    assert letter["status"] == "sent" and letter["to_address"] == CUSTOMER_EMAIL

    received = await _arrived(upstream, CUSTOMER_EMAIL)
    message = BytesParser(policy=SMTP).parsebytes(received.content)
    assert message["To"] == CUSTOMER_EMAIL
    assert received.mail_from == "letters@example.org"
    attachments = [
        p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    assert len(attachments) == 1
    pdf = attachments[0].get_content()
    digest = hashlib.sha256(pdf).hexdigest()
    assert digest == letter["sha256"]
    text = " ".join((PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "").split())
    assert "Decision to restrict how you contact us" in text and "Alex Example" in text
    assert "Over 40 calls a week" in text and "Jane Smith, your named officer" in text
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "How to appeal" in body.get_content()

    audit = (await api.ok("GET", "/audit", "auth", params={"limit": 50}))["items"]
    sent = [a for a in audit if a["action"] == "letter_sent" and a["entity"] == "letter"]
    assert sent and sent[0]["after"]["sha256"] == digest
    assert "pdf" not in sent[0]["after"]

    reprint = await api.call("GET", f"/letters/{letter['id']}/pdf", "viewer")
    assert reprint.status == 200 and reprint.content_type == "application/pdf"
    assert hashlib.sha256(await reprint.read()).hexdigest() == digest

    done = await _authorise(api)
    assert done.status == 200, await done.text()
    transitions = (await api.ok("GET", "/restrictions/R-1/transitions", "viewer"))["items"]
    assert transitions[-1]["details"]["notice"] == "letter"
    assert transitions[-1]["details"]["letter_sha256"] == digest
    listed = (await api.ok("GET", "/customers/C-1/letters", "viewer"))["items"]
    assert [x["id"] for x in listed] == [letter["id"]]


async def test_a_letter_for_the_post_counts_once_marked_posted_and_not_for_a_changed_draft(
    api: ApiClient,
) -> None:
    letter = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "decision", "delivery": "post", "restriction": "R-1", "language": "cy"},
    )
    assert letter["status"] == "to_post" and letter["language"] == "cy"
    assert (await _authorise(api)).status == 409
    posted = await api.ok("POST", f"/letters/{letter['id']}/posted", "officer")
    assert posted["status"] == "posted" and posted["posted_by"] == "officer"
    again = await api.call("POST", f"/letters/{letter['id']}/posted", "officer")
    assert again.status == 409

    # The draft changes after the letter: the letter no longer says what will be enforced.
    await api.ok("PATCH", "/restrictions/R-1", "officer", json={"reason": "Abusive calls"})
    stale = await _authorise(api)
    assert stale.status == 409 and "told in writing" in (await stale.json())["error"]["message"]


async def test_language_and_large_print_come_from_the_customers_record(api: ApiClient) -> None:
    await api.ok("PUT", "/customers/C-1/language", "officer", json={"language": "bilingual"})
    await api.ok(
        "POST",
        "/customers/C-1/adjustments",
        "officer",
        json={"need": "large_print", "description": "Sight loss"},
    )
    assert (await api.ok("GET", "/customers/C-1/language", "viewer")) == {
        "customer_id": "C-1",
        "language": "bilingual",
        "recorded": True,
        "large_print": True,
    }
    letter = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "warning", "delivery": "post", "behaviour": "Thirty emails in a day."},
    )
    assert letter["language"] == "bilingual" and letter["large_print"] is True
    pdf = await (await api.call("GET", f"/letters/{letter['id']}/pdf", "viewer")).read()
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )
    assert text.index("Rhybudd am sut") < text.index("Warning about how")
    assert "Thirty emails in a day." in text


async def test_bad_letter_requests_name_the_field(api: ApiClient) -> None:
    cases = [
        ({"kind": "decision", "delivery": "email"}, "body.restriction"),
        ({"kind": "warning", "delivery": "email"}, "body.behaviour"),
        ({"kind": "review", "delivery": "post", "restriction": "R-1"}, "body.review"),
        ({"kind": "appeal_outcome", "delivery": "post", "restriction": "R-1"}, "body.appeal"),
        ({"kind": "decision", "delivery": "fax", "restriction": "R-1"}, "body.delivery"),
    ]
    for body, field in cases:
        response = await api.call("POST", "/customers/C-1/letters", "officer", json=body)
        assert response.status == 422, (body, await response.text())
        fields = [p["field"] for p in (await response.json())["error"]["fields"]]
        assert field in fields, (body, fields)
    assert (await api.ok("GET", "/customers/C-1/letters", "viewer"))["items"] == []


async def test_the_exception_to_notice_needs_another_authorisers_sign_off(api: ApiClient) -> None:
    asked = await api.ok(
        "POST",
        "/restrictions/R-1/notice-exception",
        "auth2",
        json={"reasons": "Police advise that a letter would put his partner at risk."},
    )
    assert asked["signed_off_by"] is None
    assert (await _authorise(api)).status == 409  # asked for is not signed off

    by_asker = await api.call(
        "POST", "/restrictions/R-1/notice-exception/sign-off", "auth2", json={"reason": "agreed"}
    )
    assert (
        by_asker.status == 403
        and "another authoriser" in (await by_asker.json())["error"]["message"]
    )
    by_officer = await api.call(
        "POST", "/restrictions/R-1/notice-exception/sign-off", "officer2", json={"reason": "ok"}
    )
    assert by_officer.status == 403
    signed = await api.ok(
        "POST",
        "/restrictions/R-1/notice-exception/sign-off",
        "auth3",
        json={"reason": "Serious risk confirmed with the police"},
    )
    assert signed["signed_off_by"] == "auth3"

    done = await _authorise(api)
    assert done.status == 200, await done.text()
    restriction = await done.json()
    # Not told in writing, so the gateway's notices (which speak of "the arrangement we
    # have written to you about") are not sent either.
    assert restriction["status"] == "active" and restriction["notify_customer"] is False
    transitions = (await api.ok("GET", "/restrictions/R-1/transitions", "viewer"))["items"]
    assert transitions[-1]["details"] == {"notice": "exception", "exception_signed_off_by": "auth3"}
    shown = await api.ok("GET", "/restrictions/R-1/notice-exception", "viewer")
    assert shown["reasons"].startswith("Police advise")


async def test_the_setting_off_lets_a_restriction_in_force_without_a_letter(api: ApiClient) -> None:
    await api.ok("PATCH", "/settings", "admin", json={"written_notice_required": False})
    done = await _authorise(api)
    assert done.status == 200 and (await done.json())["notify_customer"] is True


async def test_a_warning_letter_names_the_incidents_and_is_the_warning_stage(
    api: ApiClient, upstream: Upstream
) -> None:
    await api.ok("PATCH", "/settings", "admin", json={"incident_threshold": 2})
    recorded = []
    for at, channel, category, what in (
        ("2026-11-20T16:05:00Z", "voice", "verbal_or_hate_abuse", "Swore at the officer."),
        ("2026-11-22T10:00:00Z", "visit", "property_damage", "Kicked the office door."),
    ):
        recorded.append(
            await api.ok(
                "POST",
                "/customers/C-1/incidents",
                "officer",
                json={
                    "occurred_at": at,
                    "channel": channel,
                    "category": category,
                    "description": what,
                },
            )
        )
    [before] = (await api.ok("GET", "/consider-action", "viewer"))["items"]
    assert before["customer_id"] == "C-1" and before["warning"] is None

    ids = [i["id"] for i in recorded]
    letter = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "warning", "delivery": "email", "incidents": list(reversed(ids))},
    )
    assert letter["incidents"] == ids and letter["status"] == "sent"
    pdf = await (await api.call("GET", f"/letters/{letter['id']}/pdf", "viewer")).read()
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )
    first = (
        "Friday 20 November 2026, 4:05 pm, by phone: Verbal or hate abuse. Swore at the officer."
    )
    second = (
        "Sunday 22 November 2026, 10 am, in person: Damage to property. Kicked the office door."
    )
    assert first in text and second in text, text
    assert text.index(first) < text.index(second)  # in the order they happened
    received = await _arrived(upstream, CUSTOMER_EMAIL)
    body = BytesParser(policy=SMTP).parsebytes(received.content).get_body(("plain",))
    assert body is not None and "Swore at the officer." in body.get_content()

    [after] = (await api.ok("GET", "/consider-action", "viewer"))["items"]
    assert after["warning"]["letter"] == letter["id"]
    assert after["warning"]["incidents"] == ids and after["warning"]["warned_at"] is not None
    audit = (await api.ok("GET", "/audit", "auth", params={"limit": 50}))["items"]
    [sent] = [a for a in audit if a["action"] == "letter_sent"]
    assert sent["after"]["incidents"] == ids

    for incidents, words in (([999], "there is no incident 999"), ([], "behaviour")):
        refused = await api.call(
            "POST",
            "/customers/C-1/letters",
            "officer",
            json={"kind": "warning", "delivery": "post", "incidents": incidents},
        )
        assert refused.status == 422, await refused.text()
        assert words in (await refused.text())
    not_warning = await api.call(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "decision", "delivery": "post", "restriction": "R-1", "incidents": ids},
    )
    assert not_warning.status == 422
    fields = [p["field"] for p in (await not_warning.json())["error"]["fields"]]
    assert "body.incidents" in fields


async def test_the_evidence_pack_lists_the_letters_and_how_notice_was_given(
    api: ApiClient,
) -> None:
    decision = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "decision", "delivery": "post", "restriction": "R-1"},
    )
    api.clock.now += timedelta(hours=2)
    await api.ok("POST", f"/letters/{decision['id']}/posted", "officer2")
    assert (await _authorise(api)).status == 200
    await api.ok("POST", "/restrictions", "officer", json=proposal(id="R-2"))
    reasons = "Police advise that a letter would put his partner at risk."
    await api.ok("POST", "/restrictions/R-2/notice-exception", "auth2", json={"reasons": reasons})
    await api.ok(
        "POST", "/restrictions/R-2/notice-exception/sign-off", "auth3", json={"reason": "Agreed"}
    )
    assert (await api.call("POST", "/restrictions/R-2/authorise", "auth", json={})).status == 200
    warning = await api.ok(
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "warning", "delivery": "email", "behaviour": "Thirty emails a day."},
    )
    unsent = await api.ok(  # written for the post, never posted: not in the pack
        "POST",
        "/customers/C-1/letters",
        "officer",
        json={"kind": "warning", "delivery": "post", "behaviour": "Again."},
    )

    now = api.clock()
    zone = ZoneInfo("Europe/London")
    pdf = await build_pdf(
        api.app[API].admin, "C-1", zone=zone, today=now.date(), now=now, actor="viewer"
    )
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )
    section = text[text.index("4. Letters to the customer") : text.index("5. Every evidence")]
    assert f"Letter {decision['id']}: Decision to restrict" in section
    assert "printed and posted by officer2" in section
    assert "Tuesday 24 November 2026, 12:30 pm" in section  # posted two hours on, local time
    assert f"Letter {warning['id']}: Warning" in section
    assert "emailed to alex@example.net" in section
    assert f"Letter {unsent['id']}" not in section
    assert f"by letter {decision['id']}" in section
    assert f"asked by auth2 (authoriser) because: {reasons}" in section
    assert "signed off by auth3 (authoriser)" in section
    appendix = text[text.index("Appendix A") :]
    for letter in (decision, warning):
        assert letter["sha256"] in appendix.replace(" ", "")
    assert unsent["sha256"] not in appendix.replace(" ", "")
