"""The warning stage in real headless Chromium: from the dashboard's "consider action"
list a manager writes a warning letter naming the customer's incidents, for the post;
the Letters page lists it until it is marked posted; then the customer shows as warned,
with the date, on the customer page and in the list. A viewer cannot write one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.gateway.ui.test_ui_browser_checks import UNLABELLED
from tests.gateway.ui.test_ui_incidents import _considered, _record
from tests.gateway.ui_support import browser, login, logout, need_chromium, served_gateway

pytestmark = pytest.mark.slow


def test_a_warning_letter_from_the_consider_action_list_is_the_warning_stage(
    tmp_path: Path,
) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page, base = context.new_page(), gw.base
        login(page, base, "olivia")
        page.goto(base + "/admin/customers")
        page.get_by_label("Customer id").fill("C-200")
        page.get_by_label("Name", exact=True).fill("Pat Example")
        page.get_by_label("Email addresses").fill("pat@example.net")
        page.get_by_role("button", name="Add customer").click()
        page.wait_for_url(base + "/admin/customers/C-200")
        for days_ago, what, kind in (
            (5, "Swore at the receptionist", "verbal_or_hate_abuse"),
            (3, "Kicked the office door", "property_damage"),
            (1, "Threatened the caretaker", "threat_of_physical_abuse"),
        ):
            _record(page, base, days_ago, what, kind)
        assert "Not warned." in _considered(page, base)

        page.get_by_role("link", name="Write a warning letter to C-200").click()
        page.wait_for_url(base + "/admin/customers/C-200/warning")
        assert page.evaluate(UNLABELLED) == []
        boxes = page.get_by_role("checkbox")
        assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
        page.get_by_label("Send").select_option("post")
        page.get_by_role("button", name="Write the warning letter").click()
        page.wait_for_url(base + "/admin/customers/C-200#warning")
        warning = page.locator("#warning ~ p").all_inner_texts()
        assert any("waits to be printed and posted" in p for p in warning), warning
        assert "Not warned." in page.locator("main").inner_text()
        assert "A warning letter is written and waits to be posted" in _considered(page, base)

        page.goto(base + "/admin/customers/C-200")
        href = page.locator("#warning ~ p a[href$='.pdf']").first
        pdf = page.request.get(base + str(href.get_attribute("href"))).body()
        text = " ".join(
            " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
        )
        for words in (
            "in person: Verbal or hate abuse. Swore at the receptionist",
            "in person: Damage to property. Kicked the office door",
            "in person: A threat of physical abuse. Threatened the caretaker",
        ):
            assert words in text, (words, text)

        page.get_by_role("link", name="Letters", exact=True).click()
        page.wait_for_url(base + "/admin/letters")
        assert page.evaluate(UNLABELLED) == []
        assert "C-200" in page.locator("#to-post ~ div").inner_text()
        page.get_by_role("button", name=re.compile("Mark letter .* printed and posted")).click()
        page.wait_for_url(base + "/admin/letters")
        assert "No letter is waiting to be posted." in page.locator("main").inner_text()

        page.goto(base + "/admin/customers/C-200")
        shown = page.locator("#warning + p").inner_text()
        assert shown.startswith("warned Warned ") and "posted" in shown, shown
        assert "about the incidents of" in shown
        considered = _considered(page, base)
        assert "Warned " in considered and considered.count("(named in the warning)") == 3
        logout(page)

        login(page, base, "vic")  # a viewer reads, but writes no letter
        page.goto(base + "/admin/customers/C-200")
        assert page.get_by_role("link", name="Write a warning letter").count() == 0
        assert page.request.get(base + "/admin/customers/C-200/warning").status == 403
