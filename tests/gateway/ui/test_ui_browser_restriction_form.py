"""The restriction form in Chromium: limits and call windows in words, several of each,
the customer by email, a scope and a dedicated route; what is saved equals the policy
file's restriction; bad input is refused at the field, accessibly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.api.deps import API
from gateway.config.teams import TEAMS_SETTING
from gateway.policy.file import load_policy_file
from gateway.store.casework.casework import write_settings
from gateway.store.casework.lifecycle import get_restriction
from rules.models import Restriction
from tests.gateway.ui.test_ui_browser_checks import UNLABELLED, _post
from tests.gateway.ui_support import Served, browser, login, need_chromium, served_gateway, shot

pytestmark = pytest.mark.slow

COMPLAINTS = "complaints@example.org"
TEAMS = {"complaints": {"name": "Complaints", "addresses": [COMPLAINTS], "numbers": []}}
# What the policy file says for the restriction the officer makes in the form.
YAML = f"""\
customers:
  - {{id: C-100, name: Alex Example, emails: [alex@example.net]}}
restrictions:
  - id: R-UI-2
    customer: C-100
    reason: Abusive calls and emails to the complaints team
    proposed_by: olivia
    starts: 2026-11-24T10:30:00Z
    channels: [email, voice]
    limits:
      - {{channel: email, max: 5, per: P7D}}
      - {{channel: voice, max: 1, per: P1D}}
    call_windows:
      - {{days: [tue, thu], start: "10:00", end: "12:00"}}
      - {{days: [sat], start: "09:00", end: "10:00"}}
    scope:
      teams: [complaints]
    dedicated_route:
      email: {COMPLAINTS}
      otherwise: hold
"""
CLAUSES = {
    "customer",
    "channels",
    "limits",
    "call_windows",
    "scope",
    "dedicated_route",
    "handling",
    "notify_customer",
    "named_officer",
}


def _stored(gw: Served, restriction_id: str) -> Restriction:
    async def read() -> Restriction:
        async with gw.app[API].admin.reading("test") as conn:
            return (await get_restriction(conn, restriction_id))[0]

    return gw.run(read())  # type: ignore[no-any-return]


def _set_teams(gw: Served) -> None:
    async def write() -> None:
        async with gw.app[API].admin.writing("admin", "teams") as tx:
            await write_settings(tx, {TEAMS_SETTING: TEAMS})

    gw.run(write())


def _fill_the_proposal(page: Any) -> None:
    page.get_by_label("Restriction reference").fill("R-UI-2")
    page.get_by_label("Why is contact being restricted?").fill(
        "Abusive calls and emails to the complaints team"
    )
    page.get_by_label("Summary of the evidence").fill("Call logs and emails, October")
    page.get_by_label("Reasonable adjustments considered").fill("None recorded")


def test_officer_makes_a_restriction_with_two_limits_and_two_windows_in_words(
    tmp_path: Path,
) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        _set_teams(gw)
        page = context.new_page()
        base = gw.base
        login(page, base, "olivia")
        customer = {"id": "C-100", "name": "Alex Example", "emails": "alex@example.net"}
        _post(page, "/admin/customers", customer)
        page.goto(base + "/admin/restrictions/new")

        # Nobody by that name: refused at the field, and the field says so to a reader.
        page.get_by_role("combobox", name="Customer").fill("Nobody Known")
        _fill_the_proposal(page)
        page.get_by_role("button", name="Save draft").click()
        assert "No customer has the name 'Nobody Known'" in page.get_by_role("alert").inner_text()
        field = page.get_by_role("combobox", name="Customer")
        assert field.get_attribute("aria-invalid") == "true"
        assert (
            "No customer has the name"
            in page.locator("#" + str(field.get_attribute("aria-describedby"))).inner_text()
        )

        page.get_by_role("combobox", name="Customer").fill("alex@example.net")  # picked by email
        page.get_by_label("voice").check()
        page.get_by_label("At most").fill("5")
        page.get_by_label("of", exact=True).select_option(label="emails")
        page.get_by_label("per", exact=True).select_option(label="week")
        page.get_by_role("button", name="Add another limit").click()
        page.locator("#limit-1-max").fill("1")
        page.locator("#limit-1-channel").select_option(label="calls")
        page.locator("#limit-1-per").select_option(label="day")
        for day in ("tue", "thu"):
            page.locator(f"input[name=window-0-days][value={day}]").check()
        page.locator("#window-0-start").fill("10:00")
        page.locator("#window-0-end").fill("12:00")
        page.get_by_role("button", name="Add another call window").click()
        page.locator("input[name=window-1-days][value=sat]").check()
        page.locator("#window-1-start").fill("09:00")
        page.locator("#window-1-end").fill("10:00")
        page.get_by_role("button", name="Add another limit").click()  # one too many...
        assert page.locator("#limit-2-max").count() == 1
        page.get_by_role("button", name="Remove limit 3").click()  # ...taken away again
        assert page.locator("#limit-2-max").count() == 0
        page.get_by_label("Complaints team").check()
        page.get_by_label("Email address", exact=True).fill("tenancy")  # not an address
        page.get_by_label("is held").check()
        assert page.evaluate(UNLABELLED) == []
        page.get_by_role("button", name="Save draft").click()

        # A malformed dedicated route: refused, naming the field; nothing else is lost.
        assert "dedicated_route.email" in page.get_by_role("alert").inner_text()
        route = page.get_by_label("Email address", exact=True)
        assert route.get_attribute("aria-invalid") == "true"
        assert page.locator("#limit-1-max").input_value() == "1"
        assert page.locator("#window-1-start").input_value() == "09:00"
        route.fill(COMPLAINTS)
        page.get_by_label("Starts").fill("2026-11-24T10:30")
        shot(page, "restriction-form-limits")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_url(base + "/admin/restrictions/R-UI-2")
        facts = page.locator("dl.facts").inner_text()
        assert "at most 5 emails a week" in facts and "at most 1 call a day" in facts
        assert "only the complaints team" in facts

        saved = _stored(gw, "R-UI-2")
        [from_file] = load_policy_file(
            YAML, teams={"complaints": frozenset({COMPLAINTS})}
        ).restrictions
        assert saved.model_dump(include=CLAUSES) == from_file.model_dump(include=CLAUSES)
        assert saved.starts == from_file.starts
