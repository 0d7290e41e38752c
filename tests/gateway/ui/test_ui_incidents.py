"""Incidents in real headless Chromium: recorded from the customer page and from the
explain page's prefilled link, and the dashboard's "consider action" list after three
in 90 days (not after two, and not counting one older than 90 days)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.gateway.ui_support import browser, login, need_chromium, served_gateway

pytestmark = pytest.mark.slow
LONDON = ZoneInfo("Europe/London")


def _local(days_ago: int) -> str:
    at = datetime.now(LONDON) - timedelta(days=days_ago)
    return at.strftime("%Y-%m-%dT%H:%M")


def _record(page: Any, base: str, days_ago: int, description: str, kind: str) -> None:
    page.goto(base + "/admin/customers/C-200")
    page.get_by_role("link", name="Record an incident").click()
    assert page.get_by_label("Customer id").input_value() == "C-200"  # prefilled
    page.get_by_label("When did it happen?").fill(_local(days_ago))
    page.get_by_label("How").select_option("visit")
    page.get_by_label("What kind of behaviour").select_option(kind)
    page.get_by_label("What happened").fill(description)
    page.get_by_role("button", name="Record incident").click()
    page.wait_for_url(base + "/admin/customers/C-200#incidents")


def _considered(page: Any, base: str) -> str:
    page.goto(base + "/admin")
    return str(page.locator("#consider ~ section.consider").all_inner_texts())


def test_three_incidents_in_90_days_reach_the_consider_action_list(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        base = gw.base
        login(page, base, "olivia")
        page.goto(base + "/admin/customers")
        page.get_by_label("Customer id").fill("C-200")
        page.get_by_label("Name", exact=True).fill("Pat Example")
        page.get_by_label("Email addresses").fill("pat@example.net")
        page.get_by_role("button", name="Add customer").click()
        page.wait_for_url(base + "/admin/customers/C-200")

        _record(page, base, 120, "Threatened staff at the office", "threat_of_physical_abuse")
        _record(page, base, 40, "Swore at the receptionist", "verbal_or_hate_abuse")
        assert "C-200" not in _considered(page, base)
        assert "No customer has reached the rule." in page.locator("main").inner_text()

        # The explain page knows the customer from the address: its link prefills the form.
        page.goto(base + "/admin/explain")
        page.locator("#sender").fill("pat@example.net")
        page.locator("#to").fill("housing@example.org")
        page.locator("#text").fill("You will regret this, I know where you park")
        page.get_by_role("button", name="Show the decision").click()
        page.get_by_role("link", name="Record an incident").click()
        assert page.get_by_label("Customer id").input_value() == "C-200"
        assert page.get_by_label("How").input_value() == "email"
        assert "I know where you park" in page.get_by_label("What happened").input_value()
        page.get_by_label("When did it happen?").fill(_local(1))
        page.get_by_label("What kind of behaviour").select_option("threat_of_physical_abuse")
        page.get_by_role("button", name="Record incident").click()
        page.wait_for_url(base + "/admin/customers/C-200#incidents")
        listed = page.locator("#incidents ~ div.scroll").first.inner_text()
        assert "I know where you park" in listed and "Threatened staff" in listed

        considered = _considered(page, base)
        assert "C-200: 2 incidents" not in considered and "C-200: 3 incidents" not in considered
        # Two in 90 days and one older: still not three.  A third recent one is.
        _record(page, base, 10, "Kicked the office door", "property_damage")
        considered = _considered(page, base)
        assert "C-200: 3 incidents" in considered, considered
        for seen in ("Swore at the receptionist", "I know where you park", "Kicked the office"):
            assert seen in considered
        assert "Threatened staff" not in considered  # 120 days ago: outside the 90
