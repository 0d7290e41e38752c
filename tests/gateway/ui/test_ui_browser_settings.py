"""The Settings page in Chromium, at phone width: an administrator's bad answers are
named in an alert whose links reach their fields, every control is labelled and every
group has a legend; the answers put right are saved and in force."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.api.deps import API
from rules.lifecycle import Period, PeriodUnit
from tests.gateway.ui.test_ui_browser_checks import OVERFLOW, UNLABELLED, _add_admin
from tests.gateway.ui_support import browser, login, need_chromium, served_gateway, shot

pytestmark = pytest.mark.slow

# What automated checks can say about a form's structure: a fieldset without its legend,
# an id given twice, a description or a summary link that points at nothing.
STRUCTURE = """() => ({
  fieldsets: [...document.querySelectorAll('fieldset')].filter(
    f => !(f.firstElementChild && f.firstElementChild.tagName === 'LEGEND')).length,
  duplicate_ids: [...document.querySelectorAll('[id]')].map(e => e.id).filter(
    (id, i, all) => all.indexOf(id) !== i),
  dangling: [...document.querySelectorAll('[aria-describedby]')].flatMap(
    e => e.getAttribute('aria-describedby').split(' ')).filter(id => !document.getElementById(id)),
  summary_links: [...document.querySelectorAll('.error-summary a[href^="#"]')].map(
    a => decodeURIComponent(a.hash.slice(1))).filter(id => !document.getElementById(id)),
})"""
SOUND = {"fieldsets": 0, "duplicate_ids": [], "dangling": [], "summary_links": []}


def _sound(page: Any, what: str) -> None:
    assert page.evaluate(UNLABELLED) == [], what
    assert page.evaluate(OVERFLOW) <= 0, f"{what} is wider than a phone"
    assert page.evaluate(STRUCTURE) == SOUND, what


def test_an_administrator_puts_bad_answers_right_on_a_phone(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        _add_admin(gw, "ada")
        login(page, gw.base, "ada")
        page.get_by_role("link", name="Settings").click()
        page.wait_for_url(gw.base + "/admin/settings")
        _sound(page, "the settings")

        appeal = page.get_by_role("group", name="Time a customer has to appeal")
        appeal.get_by_label("Number").fill("abc")
        closures = page.get_by_label("Other days the office is closed")
        closures.fill("2026-12-29\n2026-13-40")
        page.get_by_label("Language of letters").select_option("cy")
        page.get_by_role("button", name="Save the settings").click()
        alert = page.get_by_role("alert")
        summary = alert.inner_text(timeout=5000)
        assert "Time a customer has to appeal: number: 'abc' is not a whole number" in summary
        assert "Line 2: '2026-13-40' is not a date" in summary
        _sound(page, "the settings with problems")
        assert appeal.get_by_label("Number").input_value() == "abc", "the answer is kept"
        assert page.get_by_label("Language of letters").input_value() == "cy"
        assert gw.run(gw.app[API].org()).letter_language == "en", "nothing saved"
        shot(page, "settings-phone")
        alert.get_by_role("link", name="Time a customer has to appeal: number").click()
        assert page.url.endswith("#appeal_period.amount")

        appeal.get_by_label("Number").fill("15")
        appeal.get_by_label("Days or working days").select_option("days")
        closures.fill("2026-12-29 to 2026-12-31")
        page.get_by_label("A restriction not renewed by its review date lapses").check()
        page.get_by_role("button", name="Save the settings").click()
        page.wait_for_url(gw.base + "/admin/settings?changed=1")
        assert "The settings were changed." in page.get_by_role("status").inner_text()
        _sound(page, "the settings changed")
        org = gw.run(gw.app[API].org())
        assert org.appeal_period == Period(amount=15, unit=PeriodUnit.DAYS)
        assert org.closure_days == (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31))
        assert org.letter_language == "cy" and org.lapse_at_review
        assert (
            "15 days from the restriction being authorised" in page.locator("#appeals").inner_text()
        )
