"""Overdue held contact in real headless Chromium: from the dashboard's card to the
overdue queue, then marked read as an appeal with the form's labelled choice, at desktop
and phone width. The item was held ten days before the (real) clock of the served
gateway, through a contact service whose clock says so."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.gateway.api_support import api_settings
from tests.gateway.held_support import OFFICER, holding, read_and_file
from tests.gateway.mail_support import FakeClock
from tests.gateway.ui.test_ui_browser_checks import OVERFLOW, UNLABELLED
from tests.gateway.ui_support import Served, browser, login, need_chromium, served_gateway

pytestmark = pytest.mark.slow


def _hold_ten_days_ago(gw: Served, tmp_path: Path) -> int:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"  # the served gateway's database
    clock = FakeClock(datetime.now(UTC) - timedelta(days=10))

    async def hold() -> int:
        settings = api_settings(url, tmp_path / "mail")
        async with holding(url, settings, clock, read_and_file()) as holder:
            return await holder.email(clock(), "<ten-days@example.net>")

    return int(gw.run(hold()))


def test_an_overdue_item_from_the_dashboard_to_marked_read_as_an_appeal(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        held_id = _hold_ten_days_ago(gw, tmp_path)
        page = context.new_page()
        base = gw.base
        login(page, base, "olivia")
        card = page.get_by_role("link", name=re.compile("held contacts? not read in time"))
        assert card.inner_text().split()[0] == "1"
        card.click()
        page.wait_for_url(base + "/admin/held?overdue=1")
        row = page.locator("tbody tr")
        assert row.count() == 1
        assert re.search(r"held \d+ working days ago overdue", row.inner_text())
        assert page.evaluate(UNLABELLED) == []
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate(OVERFLOW) <= 0, "the overdue queue is wider than a phone"
        page.set_viewport_size({"width": 1280, "height": 900})

        page.get_by_role("link", name=f"Open #{held_id}").click()
        page.wait_for_url(f"{base}/admin/held/{held_id}")
        assert "overdue" in page.locator("h1").inner_text()
        assert page.evaluate(UNLABELLED) == []
        page.get_by_label("What did you find?").fill("She is appealing the decision")
        page.get_by_label("Does it raise a new matter, or is it urgent?").select_option("appeal")
        page.get_by_role("button", name="Mark read").click()
        page.wait_for_url(f"{base}/admin/held/{held_id}")
        assert "released" in page.locator("h1").inner_text()
        main = page.locator("main").inner_text()
        assert "as it raises appeal: She is appealing the decision" in main
        assert "Read by" not in main  # no longer waiting to be read

        # No appeals address in these settings: it goes to the named officer (Maildir).
        inbox = tmp_path / "mail" / OFFICER / "new"
        for _ in range(500):  # bounded (10 s): the gateway's mail worker delivers it
            if inbox.exists() and any(inbox.iterdir()):
                break
            time.sleep(0.02)
        [delivered] = list(inbox.iterdir())
        assert b"X-Contact-Gateway-Released: by olivia" in delivered.read_bytes()
