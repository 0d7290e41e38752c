"""The web UI in real headless Chromium: the officer's whole story, end to end."""

from __future__ import annotations

import io
import smtplib
from pathlib import Path

import pytest
from pypdf import PdfReader

from gateway.app import STORE
from tests.gateway.mail_support import message
from tests.gateway.ui_support import browser, login, logout, need_chromium, served_gateway, shot

pytestmark = pytest.mark.slow


def test_officer_story_from_draft_to_released_email_and_pdf(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        base = gw.base
        login(page, base, "olivia")
        page.goto(base + "/admin/customers")
        page.get_by_label("Customer id").fill("C-100")
        page.get_by_label("Name", exact=True).fill("Alex Example")
        page.get_by_label("Email addresses").fill("alex@example.net")
        page.get_by_role("button", name="Add customer").click()
        page.wait_for_url(base + "/admin/customers/C-100")
        page.get_by_role("link", name="Propose a restriction").click()
        page.get_by_label("Restriction reference").fill("R-UI-1")
        page.get_by_label("Why is contact being restricted?").fill("Over 40 emails a week")
        page.get_by_label("Summary of the evidence").fill("Mail logs for October")
        page.get_by_label("Reasonable adjustments considered").fill("None recorded")
        page.get_by_label("How contact is handled").select_option("read_and_file")
        shot(page, "restriction-form")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_url(base + "/admin/restrictions/R-UI-1")
        assert "draft" in page.locator("h1").inner_text()
        assert page.get_by_role("button", name="Authorise").count() == 0  # officer: no decide
        logout(page)

        login(page, base, "dana")
        page.goto(base + "/admin/restrictions/R-UI-1")
        page.get_by_label("Reason for authorise").fill("Evidence reviewed; proportionate")
        page.get_by_role("button", name="Authorise").click()
        page.wait_for_url(base + "/admin/restrictions/R-UI-1")
        assert "active" in page.locator("h1").inner_text()
        shot(page, "restriction")
        logout(page)

        with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=30) as smtp:
            smtp.sendmail(
                "alex@example.net",
                ["housing@example.org"],
                message(subject="About my repair", body="Please call me back today."),
            )

        login(page, base, "olivia")
        shot(page, "dashboard")
        page.get_by_role("link", name="Held contact", exact=True).click()
        shot(page, "held-queue")
        page.get_by_role("link", name="Open #").first.click()
        page.get_by_role("link", name="Read the message").click()
        assert "Please call me back today." in page.locator("#held-content").inner_text()
        shot(page, "held-item")
        page.get_by_label("Note").fill("Nothing new; passing to the housing team")
        page.get_by_role("button", name="Release").click()
        assert "released" in page.locator("h1").inner_text()

        page.goto(base + "/admin/customers/C-100")
        svg = page.locator("svg.timeline")
        assert (svg.locator("title").first.text_content() or "").startswith("Contact per day")
        assert "1 held or refused" in svg.inner_html()
        shot(page, "customer")

        page.goto(base + "/admin/explain")
        page.locator("#sender").fill("alex@example.net")
        page.locator("#to").fill("housing@example.org")
        page.get_by_role("button", name="Show the decision").click()
        assert "hold" in page.locator("#decision").inner_text(timeout=5000), page.content()
        shot(page, "explain")

        page.goto(base + "/admin/evidence?verify=1&customer=C-100")
        assert "Chain intact" in page.locator("#verify-result").inner_text()
        shot(page, "evidence")
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        pdf = Path(info.value.path()).read_bytes()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "Evidence pack: Alex Example (customer C-100)" in text
        assert "R-UI-1" in text and "dana" in text and "authorise" in text
        assert "How to verify this evidence independently" in text
        record = gw.run(gw.app[STORE].evidence_for_customer("C-100"))[0]
        assert record.hash in text.replace("\n", "")
        page.goto(base + "/admin/reports")
        assert "New restrictions (authorised)" in page.content()
        shot(page, "reports")
        logout(page)
        login(page, base, "dana")
        page.goto(base + "/admin/audit")
        shot(page, "audit")
