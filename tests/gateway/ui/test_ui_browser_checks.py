"""The web UI in real headless Chromium: hostile text, the viewer's read-only pages, and
the pages at phone width (labels, overflow, keyboard)."""

from __future__ import annotations

import re
import smtplib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gateway.api.deps import API
from gateway.store.accounts.users import create_user
from gateway.store.engine import write_transaction
from rules.roles import Role
from tests.gateway.api_support import set_test_password
from tests.gateway.mail_support import message
from tests.gateway.ui.test_ui_hostile import HOSTILE, IMG, SCRIPT, assert_inert, hostile_pages
from tests.gateway.ui_support import (
    PASSWORD,
    Served,
    browser,
    login,
    logout,
    need_chromium,
    served_gateway,
    shot,
)

pytestmark = pytest.mark.slow

# The GET forms (search, filter, verify, export) whose buttons change nothing.
READ_ONLY_BUTTONS = {
    "Sign out",
    "Search",
    "Show",
    "Verify now",
    "Download",
    "Filter",
    "Show the decision",
    "Check the message",
}
UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')].filter(e =>
    !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
    && !e.getAttribute('aria-labelledby')).map(e => e.outerHTML)"""


def _csrf(page: Any) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.content())[1]  # type: ignore[index]


def _post(page: Any, path: str, data: dict[str, str], want: int = 303) -> Any:
    base = page.url.split("/admin")[0]
    answer = page.request.post(
        base + path, form={"csrf_token": _csrf(page), **data}, max_redirects=0
    )
    assert answer.status == want, f"{path}: {answer.status} {answer.text()[:1500]}"
    return answer


def _add_admin(gw: Served, name: str) -> None:
    """An administrator with a web password (the served gateway's users have none)."""

    async def add() -> None:
        async with gw.app[API].admin.writing("test", "users") as tx:
            await create_user(tx, name, Role.ADMIN)
        async with write_transaction(gw.app[API].admin.store.engine, "passwords") as conn:
            await set_test_password(conn, name, PASSWORD, gw.app[API].clock())

    gw.run(add())


def _seed_hostile(gw: Served, page: Any) -> int:
    """Every text field, through the UI's own forms (and the API for flags), with payloads."""
    base = gw.base
    today = gw.app[API].today()
    login(page, base, "olivia")
    customer = {"id": "C-9", "name": HOSTILE, "emails": "alex@example.net"}
    _post(page, "/admin/customers", {**customer, "rep_name": HOSTILE, "rep_emails": "r@x.net"})
    draft = {
        "customer": "C-9",
        "id": "R-X",
        "reason": HOSTILE,
        "evidence_summary": HOSTILE,
        "adjustments_considered": HOSTILE,
        "starts": f"{today}T00:00",
        "channels": "email",
        "handling": "read_and_file",
    }
    _post(page, "/admin/restrictions", draft)
    logout(page)

    async def token() -> str:
        async with gw.app[API].admin.writing("test", "users") as tx:
            return (await create_user(tx, "flagger", Role.AUTHORISER))[1]

    bearer = {"Authorization": f"Bearer {gw.run(token())}"}
    for path, body in (
        ("flags", {"level": "red", "category": "verbal_or_hate_abuse", "reason": HOSTILE}),
        ("adjustments", {"need": "email_contact", "description": HOSTILE}),
    ):
        made = page.request.post(f"{base}/api/v1/customers/C-9/{path}", data=body, headers=bearer)
        assert made.status == 201, made.text()
    login(page, base, "dana")
    _post(page, "/admin/restrictions/R-X/authorise", {"reason": HOSTILE})
    appeal = {"lodged_on": str(today), "grounds": HOSTILE, "late_reason": HOSTILE}
    _post(page, "/admin/restrictions/R-X/appeals", appeal)
    _post(page, "/admin/restrictions/R-X/reviews", {"outcome": "renew", "notes": HOSTILE})
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=30) as smtp:
        mail = message(subject=HOSTILE, body=f"Hello {HOSTILE}")
        smtp.sendmail("alex@example.net", ["housing@example.org"], mail)
    page.goto(base + "/admin/held")
    held_id = int(re.search(r"Open #(\d+)", page.content())[1])  # type: ignore[index]
    _post(page, f"/admin/held/{held_id}/release", {"note": HOSTILE})
    explain = {"channel": "email", "sender": "alex@example.net", "to": "housing@example.org"}
    _post(page, "/admin/explain", {**explain, "text": HOSTILE}, want=200)
    return held_id


def test_hostile_text_never_runs_and_a_viewer_cannot_change_anything(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        held_id = _seed_hostile(gw, page)
        for path, shown in hostile_pages(held_id):
            page.goto(gw.base + path)
            assert page.locator("script, img, iframe").count() == 0, path
            assert_inert(page.content(), where=path)
            if shown:  # shown to the reader as the text that was typed
                assert SCRIPT in page.locator("main").inner_text(), path
                assert IMG in page.locator("main").inner_text(), path
        page.goto(gw.base + "/admin/explain")
        page.locator("#sender").fill("alex@example.net")
        page.locator("#to").fill("housing@example.org")
        page.locator("#text").fill(HOSTILE)
        page.get_by_role("button", name="Show the decision").click()
        page.locator("#decision").wait_for()
        assert "<script>alert(1)</script>" in page.locator("#text").input_value()
        assert dialogs == []
        logout(page)

        login(page, gw.base, "vic")
        viewed = [p for p, _ in hostile_pages(held_id) if p != "/admin/audit"]
        for path in [*viewed, "/admin/explain", "/admin/exemptions", "/admin/settings"]:
            page.goto(gw.base + path)
            posts = page.locator("form[method=post]")
            actions = [posts.nth(i).get_attribute("action") for i in range(posts.count())]
            # "What would happen if…" and the exemption check post (message text stays out
            # of URLs) but change nothing.
            read_only = [path] if path in ("/admin/explain", "/admin/exemptions") else []
            assert actions == ["/admin/logout", *read_only], (path, actions)
            buttons = set(page.get_by_role("button").all_inner_texts())
            assert buttons <= READ_ONLY_BUTTONS, (path, buttons)
            assert page.get_by_role("link", name="Propose a restriction").count() == 0
        page.goto(gw.base + "/admin/audit")
        assert "does not allow" in page.content()
        page.goto(gw.base + "/admin")
        attempts = [
            ("/admin/customers", {"id": "C-V", "name": "Viewer made"}),
            ("/admin/restrictions", {"customer": "C-9", "id": "R-V", "reason": "x"}),
            ("/admin/restrictions/R-X/revoke", {"reason": "viewer"}),
            ("/admin/restrictions/R-X/suspend", {"reason": "viewer"}),
            ("/admin/restrictions/R-X/reviews", {"outcome": "revoke", "notes": "viewer"}),
            ("/admin/restrictions/R-X/appeals", {"lodged_on": "2026-01-02", "grounds": "v"}),
            ("/admin/restrictions/R-X/appeals/1/decision", {"outcome": "quash", "reason": "v"}),
            (f"/admin/held/{held_id}/review", {"note": "viewer"}),
            (f"/admin/held/{held_id}/release", {"note": "viewer"}),
            ("/admin/exemptions/routes", {"route_appeals": "viewer@example.net"}),
            ("/admin/exemptions/phrases", {"yaml": "appeal:\n  en:\n    add: [viewer]\n"}),
            ("/admin/settings", {"letter_language": "cy", "lapse_at_review": "on"}),
        ]
        for path, data in attempts:
            answer = _post(page, path, data, want=403)
            assert "does not allow" in answer.text(), path
        org = gw.run(gw.app[API].org())
        assert org.letter_language == "en" and not org.lapse_at_review
        page.goto(gw.base + "/admin/customers")
        assert "C-V" not in page.content() and "Viewer made" not in page.content()
        page.goto(gw.base + "/admin/restrictions/R-X")
        assert "active" in page.locator("h1").inner_text()
        assert "R-V" not in page.content() and "viewer" not in page.locator("main").inner_text()
        page.goto(f"{gw.base}/admin/held/{held_id}")
        assert "released" in page.locator("h1").inner_text()
        assert dialogs == []


OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"
FOCUSED = "() => [document.activeElement.id, document.activeElement.textContent.trim()]"


def _tab_to(page: Any, *, id_: str = "", text: str = "") -> None:
    """Press Tab until the element with this id (or this text) has the focus."""
    for _ in range(60):
        page.keyboard.press("Tab")
        focused_id, focused_text = page.evaluate(FOCUSED)
        if (id_ and focused_id == id_) or (text and focused_text == text):
            return
    raise AssertionError(f"Tab never reached {id_ or text!r}")


def test_phone_width_labels_and_keyboard(tmp_path: Path) -> None:
    need_chromium()
    with served_gateway(tmp_path) as gw, browser(tmp_path) as context:
        page = context.new_page()
        base = gw.base
        today = gw.app[API].today()
        login(page, base, "olivia")
        customer = {"id": "C-100", "name": "Alex Example", "emails": "alex@example.net"}
        _post(page, "/admin/customers", customer)
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
        with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=30) as smtp:
            smtp.sendmail("alex@example.net", ["housing@example.org"], message())
        page.goto(base + "/admin/held")
        held_id = int(re.search(r"Open #(\d+)", page.content())[1])  # type: ignore[index]

        page.set_viewport_size({"width": 390, "height": 844})
        for path in (
            "/admin",
            "/admin/customers",
            "/admin/customers/C-100",
            "/admin/restrictions/new?customer=C-100",
            "/admin/restrictions/R-1",
            "/admin/held",
            f"/admin/held/{held_id}?read=1",
            "/admin/explain",
            "/admin/exemptions",
            "/admin/settings",
            "/admin/evidence?verify=1&customer=C-100",
            "/admin/audit",
            "/admin/reports",
        ):
            page.goto(base + path)
            assert page.evaluate(UNLABELLED) == [], path
            assert page.evaluate(OVERFLOW) <= 0, f"{path} is wider than a phone"
            if path == "/admin":
                assert "read and file" in page.locator("main").inner_text()
                assert "read_and_file" not in page.locator("main").inner_text()
                shot(page, "dashboard-phone")
            elif path == "/admin/customers/C-100":
                shot(page, "customer-phone")
        logout(page)

        _add_admin(gw, "ada")  # an administrator sees the forms to change exemptions
        login(page, base, "ada")
        page.goto(base + "/admin/exemptions")
        page.get_by_label("Message text").fill("Mae nwy yn gollwng yn y gegin")
        page.get_by_role("button", name="Check the message").click()
        assert "Emergency repair" in page.locator("#check-result").inner_text(timeout=5000)
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(OVERFLOW) <= 0, "exemptions (a check shown) is wider than a phone"
        page.get_by_label("Phrase changes (YAML)").fill("appeal:\n  en:\n    add: ['']\n")
        page.get_by_role("button", name="Replace the phrases").click()
        summary = page.get_by_role("alert").inner_text(timeout=5000)
        assert "line 3: appeal.en.add.0: is empty" in summary
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(OVERFLOW) <= 0, "exemptions (an error shown) is wider than a phone"
        shot(page, "exemptions-phone")
        logout(page)

        page.goto(base + "/admin/login")  # sign in, and ask, by keyboard alone
        expect(page.get_by_label("User name")).to_be_focused()  # the form gives it the focus
        page.keyboard.type("olivia")
        page.keyboard.press("Tab")
        page.keyboard.type("correct horse battery staple")
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/admin")
        page.goto(base + "/admin/explain")
        _tab_to(page, id_="sender")
        page.keyboard.type("alex@example.net")
        _tab_to(page, id_="to")
        page.keyboard.type("housing@example.org")
        _tab_to(page, text="Show the decision")
        page.keyboard.press("Enter")
        assert "hold" in page.locator("#decision").inner_text(timeout=5000)
        page.goto(f"{base}/admin/held/{held_id}")
        _tab_to(page, id_="review-note")
        page.keyboard.type("Read; nothing new")
        _tab_to(page, text="Mark read")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/admin/held/{held_id}")
        assert "reviewed" in page.locator("h1").inner_text()
