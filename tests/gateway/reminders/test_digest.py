"""The daily reminder digest, with an injected clock and a real aiosmtpd upstream on
loopback: the right person's digest holds their review, appeal deadlines and held
contact unread in time, once a day, and two gateways on one database send it once.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.api.deps import API
from gateway.mail.lifecycle import MAIL
from gateway.reminders.digest import REMINDERS, send_digests
from gateway.store.accounts.users import create_user
from rules.roles import Role
from tests.gateway.api_support import ApiClient, proposal, start_api
from tests.gateway.decisions.test_service import FakeClock as ApiClock
from tests.gateway.held_support import FRIDAY, drain, held_settings, holding, read_and_file
from tests.gateway.mail_support import FakeClock, running_gateway, upstream_server
from tests.rules.factories import OFFICERS, customer

# Wednesday 2 September 2026, 8 am in London: the Friday's held item is overdue (the
# Monday was a bank holiday), and the digest hour (7 am) has passed.
WEDNESDAY_8AM = datetime(2026, 9, 2, 7, 0, tzinfo=UTC)
OFFICER_EMAIL = "jane.smith@example.org"  # the named officer jsmith's address
AUTHORISER_EMAIL = "dana.decides@example.org"
# read and file since January, named officer jsmith, review on 10 September.
POLICY = read_and_file(review_on="2026-09-10")


async def _people(api: ApiClient) -> None:
    """Emails for an officer (the restriction's named officer), an authoriser, and an
    officer with nothing of theirs to do; everyone else has no address."""
    for name, email, full in (
        ("officer", OFFICER_EMAIL, "Jane Smith"),
        ("auth", AUTHORISER_EMAIL, "Dana Decides"),
        ("officer2", "nobody.else@example.org", "Nobody Else"),
    ):
        await api.ok("PATCH", f"/users/{name}", "admin", json={"email": email, "full_name": full})


async def test_each_person_gets_what_is_theirs_once_a_day(
    aiohttp_client: Any, database_url: str
) -> None:
    async with upstream_server() as upstream:
        clock = ApiClock(FRIDAY)
        settings = held_settings(database_url, upstream)
        api = await start_api(aiohttp_client, settings, clock)
        await api.store.upsert_policy(POLICY, actor="test")
        await _people(api)
        async with holding(database_url, settings, clock) as holder:
            held_id = await holder.email(FRIDAY, "<old@example.net>")
        clock.now = WEDNESDAY_8AM - timedelta(days=1)  # Tuesday 1 September
        await api.ok(
            "POST",
            "/restrictions/R-1/appeals",
            "officer",
            json={
                "lodged_on": "2026-09-01",
                "grounds": "I was not told I could appeal",
                "late_reason": "The letter went to an old address",
            },
        )
        reminders, mail = api.app[REMINDERS], api.app[MAIL]

        # Before 7 am nothing is sent.
        clock.now = WEDNESDAY_8AM - timedelta(hours=2)
        assert await send_digests(reminders, clock.now) == 0
        clock.now = WEDNESDAY_8AM
        assert await send_digests(reminders, WEDNESDAY_8AM) == 2
        assert await drain([mail], upstream) == 2
        # The same day again, and later that day: nothing more.
        assert await send_digests(reminders, WEDNESDAY_8AM) == 0
        assert await send_digests(reminders, WEDNESDAY_8AM + timedelta(hours=9)) == 0
        assert await drain([mail], upstream) == 2

        by_to = {m.rcpt_tos[0]: m for m in upstream.messages}
        assert set(by_to) == {OFFICER_EMAIL, AUTHORISER_EMAIL}  # not officer2, not admin
        officer = by_to[OFFICER_EMAIL]
        assert officer.mail_from == "<>" and officer.header("Auto-Submitted") == "auto-generated"
        assert officer.header("Subject") == (
            "Your reminders for Wednesday 2 September 2026: 3 items"
        )
        text = officer.text()
        for fact in (
            "Good morning Jane Smith,",
            "Restriction R-1 (customer C-1): review due Thursday 10 September 2026.",
            "decide by Tuesday 15 September 2026, and tell the customer by Tuesday 22 "
            "September 2026",
            f"Held contact {held_id} (customer C-1, email), held Friday 28 August 2026, 2 pm",
            "should have been read by Wednesday 2 September 2026, midnight",
            f"https://gateway.example.org/admin/held/{held_id}",
        ):
            assert fact in text, (fact, text)
        assert "The boiler is making a noise" not in text  # cases, never their words
        authoriser = by_to[AUTHORISER_EMAIL].text()
        assert "Good morning Dana Decides," in authoriser
        assert "review due Thursday 10 September 2026" in authoriser
        assert "Appeal 1 against restriction R-1" in authoriser
        assert "Held contact" not in authoriser  # not an authoriser's unless assigned

        audit = (await api.ok("GET", "/audit", "auth"))["items"]
        sent = sorted(a["entity_id"] for a in audit if a["entity"] == "digest")
        assert sent == ["auth:2026-09-02", "officer:2026-09-02"]

        # The next morning, still to do: the next day's digest.
        thursday = WEDNESDAY_8AM + timedelta(days=1)
        clock.now = thursday
        assert await send_digests(reminders, thursday) == 2
        assert await drain([mail], upstream) == 4


async def test_two_gateways_send_one_digest_per_person(database_url: str) -> None:
    async with upstream_server() as upstream:
        clock = FakeClock(FRIDAY)
        settings = held_settings(database_url, upstream)
        async with holding(database_url, settings, clock, POLICY) as holder:
            await holder.email(FRIDAY, "<old@example.net>")
        clock.now = WEDNESDAY_8AM
        async with running_gateway(settings, clock) as one, running_gateway(settings, clock) as two:
            async with one.app[API].admin.writing("test", "users") as tx:
                await create_user(
                    tx, "officer", Role.OFFICER, full_name="Jane Smith", email=OFFICER_EMAIL
                )
                await create_user(tx, "auth", Role.AUTHORISER, email=AUTHORISER_EMAIL)
            gateways = (one.app[REMINDERS], two.app[REMINDERS])
            passes = [send_digests(g, WEDNESDAY_8AM) for g in gateways for _ in range(3)]
            assert sum(await asyncio.gather(*passes)) == 2
            assert await drain([one.app[MAIL], two.app[MAIL]], upstream) == 2
            # The officer's (named officer, held item, review) and the authoriser's (review).
            assert sorted(m.rcpt_tos[0] for m in upstream.messages) == sorted(
                [OFFICER_EMAIL, AUTHORISER_EMAIL]
            )


async def test_letters_not_yet_sent_are_in_the_writers_digest_with_a_page_that_exists(
    aiohttp_client: Any, database_url: str
) -> None:
    """The officer's letter kept to post (not posted) and the draft they proposed that
    waits for its decision letter are theirs; once posted, and once the draft's letter
    is emailed, they are no longer listed. The link goes to the letters page."""
    async with upstream_server() as upstream:
        clock = ApiClock(WEDNESDAY_8AM - timedelta(days=1))
        settings = held_settings(database_url, upstream, letter={"org_name": "Example Housing"})
        api = await start_api(aiohttp_client, settings, clock, written_notice=True)
        await api.ok("POST", "/customers", "officer", json=customer())
        for officer in reversed(OFFICERS):
            await api.ok("POST", "/officers", "officer", json=officer)
        await api.ok(
            "PATCH", "/users/officer2", "admin", json={"email": "o2@example.org", "full_name": "O"}
        )
        warning = {"kind": "warning", "delivery": "post", "behaviour": "Thirty emails a day."}
        letter = await api.ok("POST", "/customers/C-1/letters", "officer2", json=warning)
        await api.ok("POST", "/restrictions", "officer2", json=proposal(id="R-9"))
        reminders, mail = api.app[REMINDERS], api.app[MAIL]
        clock.now = WEDNESDAY_8AM
        assert await send_digests(reminders, WEDNESDAY_8AM) == 1
        assert await drain([mail], upstream) == 1
        [digest] = upstream.messages
        assert digest.rcpt_tos == ["o2@example.org"]
        assert digest.header("Subject") == "Your reminders for Wednesday 2 September 2026: 2 items"
        assert (
            "Letters not yet sent (to print and post, or decision letters your drafts wait "
            "for): 2. https://gateway.example.org/admin/letters"
        ) in digest.text()
        page = await api.client.get("/admin/letters", allow_redirects=False)
        assert page.status == 303 and "/admin/login" in page.headers["Location"]

        # Posted, and the draft's decision letter emailed: nothing left the next day.
        await api.ok("POST", f"/letters/{letter['id']}/posted", "officer2")
        decision = {"kind": "decision", "delivery": "email", "restriction": "R-9"}
        await api.ok("POST", "/customers/C-1/letters", "officer2", json=decision)
        thursday = WEDNESDAY_8AM + timedelta(days=1)
        clock.now = thursday
        assert await send_digests(reminders, thursday) == 0
