"""Written notice in real headless Chromium: authorising is refused until the decision
letter is written and posted (or emailed), and the letter is listed and reprintable;
the exception to notice is asked by one person and signed off by another."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.gateway.ui_support import browser, login, logout, need_chromium, served_gateway

pytestmark = pytest.mark.slow


def _draft(page: object, base: str, rid: str) -> None:
    page.goto(base + "/admin/customers")  # type: ignore[attr-defined]
    page.get_by_label("Customer id").fill("C-200")  # type: ignore[attr-defined]
    page.get_by_label("Name", exact=True).fill("Alex Example")  # type: ignore[attr-defined]
    page.get_by_label("Email addresses").fill("alex@example.net")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Add customer").click()  # type: ignore[attr-defined]
    page.wait_for_url(base + "/admin/customers/C-200")  # type: ignore[attr-defined]
    page.goto(base + "/admin/restrictions/new?customer=C-200")  # type: ignore[attr-defined]
    page.get_by_label("Restriction reference").fill(rid)  # type: ignore[attr-defined]
    page.get_by_label("Why is contact being restricted?").fill("Over 40 emails a week")  # type: ignore[attr-defined]
    page.get_by_label("Summary of the evidence").fill("Mail logs")  # type: ignore[attr-defined]
    page.get_by_label("Reasonable adjustments considered").fill("None recorded")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save draft").click()  # type: ignore[attr-defined]
    page.wait_for_url(base + f"/admin/restrictions/{rid}")  # type: ignore[attr-defined]


def test_no_authorisation_before_the_letter_then_posted_letter_allows_it(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path, written_notice=True) as gw, browser(tmp_path) as context:
        page, base = context.new_page(), gw.base
        login(page, base, "olivia")
        _draft(page, base, "R-L-1")
        logout(page)

        login(page, base, "dana")
        page.goto(base + "/admin/restrictions/R-L-1")
        page.get_by_label("Reason for authorise").fill("Proportionate")
        page.get_by_role("button", name="Authorise").click()
        assert "told in writing" in page.content()
        assert "draft" in page.locator("h1").inner_text()

        page.goto(base + "/admin/restrictions/R-L-1")
        page.get_by_label("Letter", exact=True).select_option("decision")
        page.get_by_label("Send").select_option("post")
        page.get_by_role("button", name="Write letter").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-1")
        assert "to print and post" in page.content()
        href = page.get_by_role("link", name="Open or reprint").get_attribute("href")
        pdf = page.request.get(base + str(href)).body()
        assert pdf.startswith(b"%PDF")
        text = " ".join((PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "").split())
        assert "Decision to restrict how you contact us" in text and "Alex Example" in text
        assert hashlib.sha256(pdf).hexdigest()[:16] in page.content()
        page.get_by_role("button", name="Mark printed and posted").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-1")
        assert "posted (dana)" in page.content()

        page.get_by_label("Reason for authorise").fill("Proportionate; letter posted")
        page.get_by_role("button", name="Authorise").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-1")
        assert "active" in page.locator("h1").inner_text()
        page.goto(base + "/admin/customers/C-200")
        assert page.get_by_role("link", name="open or reprint").count() == 1


def test_the_exception_to_notice_is_signed_off_by_someone_else(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path, written_notice=True) as gw, browser(tmp_path) as context:
        page, base = context.new_page(), gw.base
        login(page, base, "olivia")
        _draft(page, base, "R-L-2")
        page.get_by_label("Why telling the customer would create a serious risk").fill(
            "Police advise a letter would put his partner at risk"
        )
        page.get_by_role("button", name="Ask for an exception to notice").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-2")
        assert page.get_by_role("button", name="Sign off the exception").count() == 0  # officer
        logout(page)

        login(page, base, "dana")
        page.goto(base + "/admin/restrictions/R-L-2")
        page.get_by_label("Reason for signing off").fill("Risk confirmed")
        page.get_by_role("button", name="Sign off the exception").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-2")
        assert "signed off" in page.content() and "by dana" in page.content()
        page.get_by_label("Reason for authorise").fill("Proportionate")
        page.get_by_role("button", name="Authorise").click()
        page.wait_for_url(base + "/admin/restrictions/R-L-2")
        assert "active" in page.locator("h1").inner_text()
