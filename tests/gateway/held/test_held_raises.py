"""Marking held contact read when it raises a new matter or is urgent: it is released to
where that kind goes (a protected route, else the named officer) through a real upstream,
with who decided and why kept on the item and in the audit log. And the overdue count on
the dashboard and the held queue's overdue filter, over HTTP as a browser sends them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.api.held_api import Raises
from gateway.held.escalation import HELD_ESCALATION, escalate_overdue
from gateway.mail.lifecycle import MAIL
from gateway.store.engine import write_transaction
from gateway.ui.held_pages import RAISES
from rules.protected import ExemptClass
from tests.gateway.api_support import ApiClient, set_test_password, start_api
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.held_support import (
    APPEALS,
    BODY_TEXT,
    FRIDAY,
    OFFICER,
    WEDNESDAY,
    drain,
    held_settings,
    holding,
    read_and_file,
)
from tests.gateway.mail_support import Upstream, upstream_server
from tests.gateway.ops.test_metrics import scrape, value

COMPLAINTS = "complaints@example.org"
HEAD = "head.of.housing@example.org"
PASSWORD = "correct horse battery staple"
PROTECTED = {"appeals": APPEALS, "complaints": COMPLAINTS, "head_of_service": HEAD}


async def started(
    aiohttp_client: Any,
    url: str,
    upstream: Upstream,
    handling: str = "read_and_file",
    **settings_: Any,
) -> tuple[ApiClient, list[int]]:
    """A gateway on the test's clock (Friday) with two emails held under ``handling``."""
    clock = FakeClock(FRIDAY)
    settings = held_settings(url, upstream, protected=PROTECTED, **settings_)
    async with holding(url, settings, clock, read_and_file(handling=handling)) as holder:
        ids = [await holder.email(FRIDAY, f"<m{n}@example.net>") for n in range(2)]
    return await start_api(aiohttp_client, settings, clock), ids


async def test_urgent_appeal_goes_to_the_appeals_address_with_who_and_why(
    aiohttp_client: Any, database_url: str
) -> None:
    async with upstream_server() as upstream:
        api, (appeal, other) = await started(aiohttp_client, database_url, upstream)
        note = "She says she is appealing against the restriction"
        answer = await api.ok(
            "POST", f"/held/{appeal}/review", "officer", json={"note": note, "raises": "appeal"}
        )
        assert answer["delivered_to"] == [APPEALS]
        assert (answer["status"], answer["raises"]) == ("released", "appeal")
        assert (answer["resolved_by"], answer["resolution_note"]) == ("officer", note)
        assert await drain([api.app[MAIL]], upstream) == 1
        [sent] = upstream.messages
        assert sent.rcpt_tos == [APPEALS]
        assert str(sent.header("X-Contact-Gateway-Released")).startswith("by officer")
        assert BODY_TEXT in sent.text()  # released as it came, byte for byte

        audit = (await api.ok("GET", "/audit", "auth"))["items"]
        released = next(a for a in audit if a["action"] == "released")
        assert released["actor"] == "officer" and released["entity_id"] == str(appeal)
        assert released["after"] == {"status": "released", "note": note, "raises": "appeal"}
        delivered = next(a for a in audit if a["action"] == "release_delivered")
        assert delivered["after"] == {"to": [APPEALS], "raises": "appeal"}

        again = await api.call(
            "POST", f"/held/{appeal}/review", "officer", json={"note": "x", "raises": "appeal"}
        )
        assert again.status == 409
        unknown = await api.call(
            "POST", f"/held/{other}/review", "officer", json={"note": "x", "raises": "urgent"}
        )
        assert unknown.status == 422
        assert (await unknown.json())["error"]["fields"][0]["field"] == "body.raises"
        # Read and released before its deadline: only the other item is ever escalated.
        api.clock.now = WEDNESDAY
        assert await escalate_overdue(api.app[HELD_ESCALATION], WEDNESDAY) == 1
        assert await drain([api.app[MAIL]], upstream) == 2
        assert str(upstream.messages[1].header("Subject")).startswith(f"Held contact {other} ")


@pytest.mark.parametrize(
    ("raises", "handling", "to"),
    [
        ("complaint", "read_and_file", COMPLAINTS),
        ("complaint", "no_contact", HEAD),  # referred upwards under no contact
        ("safeguarding", "read_and_file", OFFICER),  # no safeguarding route configured
        ("new_matter", "read_and_file", OFFICER),
    ],
)
async def test_each_kind_goes_where_its_route_says(
    aiohttp_client: Any, database_url: str, raises: str, handling: str, to: str
) -> None:
    async with upstream_server() as upstream:
        api, (held_id, _) = await started(aiohttp_client, database_url, upstream, handling)
        body = {"note": "Read it", "raises": raises}
        answer = await api.ok("POST", f"/held/{held_id}/review", "officer2", json=body)
        assert answer["delivered_to"] == [to] and answer["raises"] == raises
        assert await drain([api.app[MAIL]], upstream) == 1
        assert upstream.messages[0].rcpt_tos == [to]


async def test_marking_read_without_raises_files_it_as_before(
    aiohttp_client: Any, database_url: str
) -> None:
    async with upstream_server() as upstream:
        api, (held_id, _) = await started(aiohttp_client, database_url, upstream)
        answer = await api.ok("POST", f"/held/{held_id}/review", "officer", json={"note": "Seen"})
        assert (answer["status"], answer["raises"], answer["delivered_to"]) == (
            "reviewed",
            None,
            [],
        )
        assert await drain([api.app[MAIL]], upstream) == 0


def test_the_kinds_offered_are_a_new_matter_and_every_exempt_class() -> None:
    assert {r.value for r in Raises} == {"new_matter", *(c.value for c in ExemptClass)}
    assert sorted(value for value, _ in RAISES) == sorted(r.value for r in Raises)  # the form


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


async def _sign_in(api: ApiClient, name: str) -> None:
    async with write_transaction(api.store.engine, "passwords") as conn:
        await set_test_password(conn, name, PASSWORD, api.clock())
    page = await (await api.client.get("/admin/login")).text()
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    answer = await api.client.post(
        "/admin/login",
        data={"name": name, "password": PASSWORD, "login_token": token, "next": "/admin"},
        allow_redirects=False,
    )
    assert answer.status == 303


def _cards(page: str) -> dict[str, int]:
    found = re.findall(r'<span class="n">(\d+)</span> ([^<]+)</a>', page)
    return {words.strip(): int(n) for n, words in found}


async def test_the_dashboard_and_queue_show_overdue_items_and_the_form_releases(
    aiohttp_client: Any, tmp_path: Any
) -> None:
    async with upstream_server() as upstream:
        url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
        # Served over plain http here, so the session cookie must not be Secure.
        api, (first, second) = await started(aiohttp_client, url, upstream, public_url="")
        await _sign_in(api, "officer")
        dashboard = await (await api.client.get("/admin")).text()
        assert _cards(dashboard)["held contacts not read in time"] == 0
        assert 'href="/admin/held?overdue=1"' in dashboard

        api.clock.now = WEDNESDAY
        await _sign_in(api, "officer")  # the Friday session has long expired
        assert (
            _cards(await (await api.client.get("/admin")).text())["held contacts not read in time"]
            == 2
        )
        queue = await (await api.client.get("/admin/held?overdue=1")).text()
        assert queue.count("held 2 working days ago") == 2
        assert queue.count('<span class="tag overdue">overdue</span>') == 2
        assert 'name="overdue" value="1" checked' in queue
        assert value(await scrape(api.client), "gateway_held_overdue") == 2

        item = await (await api.client.get(f"/admin/held/{first}")).text()
        assert '<select id="review-raises" name="raises">' in item
        assert '<option value="appeal">An appeal</option>' in item
        posted = await api.client.post(
            f"/admin/held/{first}/review",
            data={"csrf_token": _csrf(item), "note": "Wants to appeal", "raises": "appeal"},
            allow_redirects=False,
        )
        assert posted.status == 303
        shown = await (await api.client.get(f"/admin/held/{first}")).text()
        assert "released by officer" in shown and "as it raises appeal: Wants to appeal" in shown
        assert await drain([api.app[MAIL]], upstream) == 1
        assert upstream.messages[0].rcpt_tos == [APPEALS]

        refused = await api.client.post(
            f"/admin/held/{second}/review",
            data={"csrf_token": _csrf(item), "note": "x", "raises": "whatever"},
        )
        assert refused.status == 400
        assert (await api.ok("GET", f"/held/{second}", "viewer"))["status"] == "held"
        dashboard = await (await api.client.get("/admin")).text()
        assert _cards(dashboard)["held contact not read in time"] == 1  # one, not "contacts"
        assert value(await scrape(api.client), "gateway_held_overdue") == 1
