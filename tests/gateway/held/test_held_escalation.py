"""Held contact nobody reads in time is escalated once, by email through a real upstream.

The upstream is an aiosmtpd server on loopback and the gateways' own mail workers deliver
to it; time is a FakeClock moved by the test and each pass is called with it (nothing
sleeps for time to pass). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.app import STORE
from gateway.held.escalation import HELD_ESCALATION, escalate_overdue
from gateway.mail.lifecycle import MAIL
from gateway.store.held import claim_escalation
from tests.gateway.api_support import start_api
from tests.gateway.decisions.test_service import FakeClock as ApiClock
from tests.gateway.held_support import (
    BODY_TEXT,
    FRIDAY,
    OFFICER,
    TEAM,
    TUESDAY_LAST_SECOND,
    WEDNESDAY,
    drain,
    held_settings,
    holding,
    read_and_file,
)
from tests.gateway.mail_support import DEPUTY, FakeClock, running_gateway, upstream_server
from tests.gateway.ops.test_metrics import scrape, value


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_an_unread_item_is_escalated_once_after_the_working_days(
    aiohttp_client: Any, database_url: str
) -> None:
    async with upstream_server() as upstream:
        clock = ApiClock(FRIDAY)
        settings = held_settings(database_url, upstream)
        api = await start_api(aiohttp_client, settings, clock)
        await api.store.upsert_policy(read_and_file(), actor="test")
        async with holding(database_url, settings, clock) as holder:
            unread = await holder.email(FRIDAY, "<unread@example.net>")
            read = await holder.email(FRIDAY, "<read@example.net>")
        await api.ok("POST", f"/held/{read}/review", "officer", json={"note": "Nothing new"})
        escalation, mail = api.app[HELD_ESCALATION], api.app[MAIL]

        # Saturday, Sunday and the bank-holiday Monday do not count: Tuesday is the one
        # working day to read it in, so up to Tuesday's last second nothing is sent.
        for now in (FRIDAY, datetime(2026, 8, 31, 22, 0, tzinfo=UTC), TUESDAY_LAST_SECOND):
            clock.now = now
            assert await escalate_overdue(escalation, now) == 0
        assert await drain([mail], upstream) == 0
        metrics = await scrape(api.client)
        assert value(metrics, "gateway_held_overdue") == 0
        assert value(metrics, "gateway_held_queue_depth") == 1

        clock.now = WEDNESDAY
        item = await api.ok("GET", f"/held/{unread}", "viewer")
        assert (item["overdue"], item["age"], item["age_working_days"]) == (
            True,
            "held 2 working days ago",
            2,
        )
        assert instant(item["read_by"]) == WEDNESDAY and item["escalated_at"] is None
        assert await escalate_overdue(escalation, WEDNESDAY) == 1
        assert await drain([mail], upstream) == 1
        for later in (WEDNESDAY, WEDNESDAY + timedelta(hours=1), WEDNESDAY + timedelta(days=3)):
            clock.now = later
            assert await escalate_overdue(escalation, later) == 0
        assert await drain([mail], upstream) == 1

        [sent] = upstream.messages
        assert sent.rcpt_tos == [OFFICER, TEAM] and sent.mail_from == "<>"  # null sender
        assert sent.header("Subject") == (
            f"Held contact {unread} has not been read within 1 working day"
        )
        assert sent.header("Auto-Submitted") == "auto-generated"
        text = sent.text()
        for fact in (
            f"Held contact: {unread}",
            "Customer: C-1",
            "Restriction: R-1",
            "Channel: email",
            "Held: Fri 28 Aug 2026 14:00 BST",
            "Read by: Wed 02 Sep 2026 00:00 BST",
            "Why held: read and file",
            "Summary: My boiler",
            f"Open it: https://gateway.example.org/admin/held/{unread}",
        ):
            assert fact in text, fact
        assert BODY_TEXT not in sent.content.decode()  # the summary, never the message

        clock.now = WEDNESDAY + timedelta(hours=2)
        escalated = await api.ok("GET", f"/held/{unread}", "viewer")
        assert instant(escalated["escalated_at"]) == WEDNESDAY
        assert escalated["status"] == "held"  # escalating is not reading
        assert (await api.ok("GET", f"/held/{read}", "viewer"))["escalated_at"] is None
        overdue = await api.ok("GET", "/held", "viewer", params={"overdue": "true"})
        assert [h["id"] for h in overdue["items"]] == [unread]
        on_time = await api.ok("GET", "/held", "viewer", params={"overdue": "false"})
        assert [h["id"] for h in on_time["items"]] == [read]
        audit = (await api.ok("GET", "/audit", "auth"))["items"]
        [entry] = [a for a in audit if a["action"] == "escalated"]
        assert (entry["actor"], entry["entity_id"]) == ("contact-gateway", str(unread))
        assert entry["after"]["to"] == [OFFICER, TEAM]
        metrics = await scrape(api.client)
        assert value(metrics, "gateway_held_overdue") == 1
        assert value(metrics, "gateway_held_escalations_total") == 1

        await api.ok("POST", f"/held/{unread}/review", "officer", json={"note": "Read late"})
        assert value(await scrape(api.client), "gateway_held_overdue") == 0
        assert (await api.ok("GET", "/audit/verify", "auth"))["ok"] is True


async def test_two_gateways_escalating_at_once_send_one_email_per_item(
    database_url: str,
) -> None:
    async with upstream_server() as upstream:
        clock = FakeClock(FRIDAY)
        settings = held_settings(database_url, upstream)
        # The policy is in place before either gateway starts, so both know the officer
        # (a gateway that did not make a change sees it within a quarter second).
        async with holding(database_url, settings, clock, read_and_file()) as holder:
            ids = [await holder.email(FRIDAY, f"<m{n}@example.net>") for n in range(4)]
        clock.now = WEDNESDAY
        async with running_gateway(settings, clock) as one, running_gateway(settings, clock) as two:
            gateways = (one.app[HELD_ESCALATION], two.app[HELD_ESCALATION])

            def passes() -> list[Any]:
                # Both gateways, three passes each, all at the same moment.
                return [escalate_overdue(g, WEDNESDAY) for g in gateways for _ in range(3)]

            assert sum(await asyncio.gather(*passes())) == len(ids)
            assert await drain([one.mail, two.mail], upstream) == len(ids)
            assert sum(await asyncio.gather(*passes())) == 0
            assert await drain([one.mail, two.mail], upstream) == len(ids)
            named = sorted(
                int(str(m.header("X-Contact-Gateway-Escalated")).split()[-1])
                for m in upstream.messages
            )
            assert named == ids  # each item exactly once
            assert [m.rcpt_tos for m in upstream.messages] == [[OFFICER, TEAM]] * len(ids)
            audit = await one.store.list_audit(limit=500)
            assert sorted(int(a.entity_id) for a in audit if a.action == "escalated") == ids
            assert (await one.store.verify_audit()).ok


async def test_the_claim_is_taken_once_and_not_on_an_item_already_read(
    database_url: str,
) -> None:
    async with upstream_server() as upstream:
        clock = FakeClock(FRIDAY)
        settings = held_settings(database_url, upstream)
        async with running_gateway(settings, clock, read_and_file()) as gateway:
            async with holding(database_url, settings, clock) as holder:
                first = await holder.email(FRIDAY, "<a@example.net>")
                second = await holder.email(FRIDAY, "<b@example.net>")
            await gateway.store.mark_reviewed(second, actor="olivia", note="read in time")
            engine = gateway.app[STORE].engine
            async with engine.begin() as conn:
                assert await claim_escalation(conn, first, WEDNESDAY)
                assert not await claim_escalation(conn, first, WEDNESDAY)
                assert not await claim_escalation(conn, second, WEDNESDAY)


async def test_an_absent_officers_deputy_is_told_and_the_loop_runs_in_the_app(
    database_url: str,
) -> None:
    """The periodic pass started by create_app sends it with no test calling the pass."""
    async with upstream_server() as upstream:
        clock = FakeClock(FRIDAY)
        settings = held_settings(
            database_url, upstream, held={"read_within": 1, "check_every_s": 0.05}
        )
        officers = read_and_file().model_dump(mode="json")["officers"]
        for officer in officers:
            officer["absent"] = officer["id"] == "jsmith"
        async with holding(database_url, settings, clock, read_and_file(officers=officers)) as h:
            held_id = await h.email(FRIDAY, "<away@example.net>")
        clock.now = WEDNESDAY
        async with running_gateway(settings, clock):
            for _ in range(1000):  # bounded (20 s): wait for the background pass and worker
                if upstream.messages:
                    break
                await asyncio.sleep(0.02)
        [sent] = upstream.messages
        assert sent.rcpt_tos == [DEPUTY]  # no escalation team in these settings
        assert f"Held contact: {held_id}" in sent.text()
