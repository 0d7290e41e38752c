"""The possible-matches page in real headless Chromium: reached from the dashboard,
labelled and phone-width, and confirming a match from it puts the next mail from that
address under the customer's restriction; dismissing leaves the address unknown."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

import pytest

from gateway.api.deps import API
from gateway.matching.matcher import MATCHER
from tests.gateway.mail_support import message
from tests.gateway.ui.test_ui_browser_checks import OVERFLOW, UNLABELLED, _post
from tests.gateway.ui_support import Served, browser, login, logout, need_chromium, served_gateway

pytestmark = pytest.mark.slow

NEW = "alex.new@elsewhere.example"
OTHER = "alex.other@elsewhere.example"
SIGNED = "The kitchen tap is leaking again.\n\nRegards,\nAlex Example\n07700 900123\n"


def _send(gw: Served, sender: str, body: str, *, name: str = "", n: int = 1) -> None:
    raw = message(f"{name} <{sender}>" if name else sender, body=body, message_id=f"<{n}.{sender}>")
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=30) as smtp:
        smtp.sendmail(sender, ["housing@example.org"], raw)
    gw.run(gw.app[MATCHER].idle())


def _held_from(gw: Served) -> list[str]:
    store = gw.app[API].admin.store
    return [h.sender for h in gw.run(store.list_held())]


def test_confirm_and_dismiss_from_the_matches_page(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        base = gw.base
        today = gw.app[API].today()
        login(page, base, "olivia")
        person = {
            "id": "C-100",
            "name": "Alex Example",
            "emails": "alex@example.net",
            "phones": "07700 900123",
        }
        _post(page, "/admin/customers", person)
        draft = {
            "customer": "C-100",
            "id": "R-1",
            "reason": "Over 40 emails a week to several staff",
            "evidence_summary": "Mail logs for October",
            "adjustments_considered": "None recorded",
            "starts": f"{today}T00:00",
            "channels": "email",
            "handling": "read_and_file",
        }
        _post(page, "/admin/restrictions", draft)
        logout(page)
        login(page, base, "dana")
        _post(page, "/admin/restrictions/R-1/authorise", {"reason": "Proportionate"})

        _send(gw, NEW, SIGNED)
        _send(gw, OTHER, "Is the office open on Friday?", name="Alex Example")
        assert _held_from(gw) == []  # both delivered: nothing is held on a guess

        page.goto(base + "/admin")
        page.get_by_role("link", name="2 possible matches to check").click()
        page.wait_for_url(base + "/admin/matches")
        main = page.locator("main").inner_text()
        assert NEW in main and OTHER in main
        assert "signed with the customer's name: Alex Example" in main
        assert "the customer's phone number in the text: +447700900123" in main
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(OVERFLOW) <= 0, "the matches page is wider than a phone"
        page.set_viewport_size({"width": 1280, "height": 900})

        page.get_by_role("button", name=f"Confirm: add {NEW} to C-100").click()
        page.wait_for_url(base + "/admin/matches")
        page.get_by_role("button", name="Dismiss: not C-100").click()
        page.wait_for_url(base + "/admin/matches")
        assert "Nothing to show." in page.locator("main").inner_text()
        page.goto(base + "/admin/matches?status=any")
        main = page.locator("main").inner_text()
        assert "confirmed by dana" in main and "dismissed by dana" in main

        # The confirmed address is now the customer's: held under read-and-file.
        _send(gw, NEW, "Any news?", n=2)
        assert _held_from(gw) == [NEW]
        # The dismissed one is still nobody's: delivered, not held, not listed again.
        _send(gw, OTHER, "Hello again", name="Alex Example", n=2)
        assert _held_from(gw) == [NEW]
        page.goto(base + "/admin/matches")
        assert "Nothing to show." in page.locator("main").inner_text()
        page.goto(base + "/admin/customers/C-100")
        assert NEW in page.locator("main").inner_text()
        page.goto(base + "/admin/audit")
        audit = page.locator("main").inner_text()
        assert "possible_match" in audit or "possible match" in audit
        logout(page)

        login(page, base, "vic")  # a viewer sees the list but no buttons to decide
        page.goto(base + "/admin/matches?status=any")
        assert page.get_by_role("button", name=f"Confirm: add {NEW} to C-100").count() == 0
        refused: Any = page.request.post(
            base + "/admin/matches/1/dismiss", form={"csrf_token": "x"}, max_redirects=0
        )
        assert refused.status == 403
