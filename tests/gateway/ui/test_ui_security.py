"""Web UI security over raw HTTP: CSRF, session fixation, roles, escaping, login limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiohttp.test_utils import TestClient

from gateway.api.deps import API
from gateway.mail.lifecycle import MAIL
from gateway.store.engine import write_transaction
from tests.gateway.api_support import START, api_settings, set_test_password, start_api
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.mail_support import message
from tests.gateway.ui.test_ui_hostile import HOSTILE, assert_inert, hostile_pages

PASSWORD = "correct horse battery staple"


async def _switch(client: TestClient, name: str) -> None:
    page = await (await client.get("/admin")).text()
    await client.post("/admin/logout", data={"csrf_token": _csrf(page)})
    assert (await _login(client, name)).status == 303


async def _ui(aiohttp_client: Any, tmp_path: Path, **overrides: Any) -> Any:
    settings = api_settings(f"sqlite+aiosqlite:///{tmp_path}/g.db", tmp_path / "mail", **overrides)
    api = await start_api(aiohttp_client, settings, FakeClock(START))
    async with write_transaction(api.app[API].admin.store.engine, "passwords") as conn:
        for name in ("viewer", "officer", "auth", "auth2"):
            await set_test_password(conn, name, PASSWORD, START)
    return api


async def _login(
    client: TestClient, name: str, password: str = PASSWORD, forwarded_for: str = ""
) -> Any:
    page = await (await client.get("/admin/login")).text()
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    return await client.post(
        "/admin/login",
        data={"name": name, "password": password, "login_token": token, "next": "/admin"},
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
        allow_redirects=False,
    )


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


async def test_login_sets_a_new_strict_httponly_session(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    client = api.client
    client.session.cookie_jar.update_cookies({"cgw_session": "planted-by-attacker"})
    answer = await _login(client, "officer")
    assert answer.status == 303
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    issued = answer.cookies["cgw_session"].value
    assert issued != "planted-by-attacker"
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"cgw_session": "planted-by-attacker"})
    refused = await client.get("/admin", allow_redirects=False)
    assert refused.status == 303 and "/admin/login" in refused.headers["Location"]


async def test_post_without_csrf_token_is_refused(aiohttp_client: Any, tmp_path: Path) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    await _login(api.client, "officer")
    answer = await api.client.post("/admin/customers", data={"id": "C-9", "name": "Nobody"})
    assert answer.status == 403
    assert "did not come from a page" in await answer.text()
    listed = await api.ok("GET", "/customers")
    assert all(c["id"] != "C-9" for c in listed["items"])


async def test_viewer_sees_no_change_buttons_and_is_refused(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    await _login(api.client, "viewer")
    page = await (await api.client.get("/admin/customers")).text()
    assert "Add customer" not in page
    answer = await api.client.post(
        "/admin/customers", data={"csrf_token": _csrf(page), "id": "C-9", "name": "Nobody"}
    )
    assert answer.status == 403
    listed = await api.ok("GET", "/customers")
    assert all(c["id"] != "C-9" for c in listed["items"])


async def test_script_in_every_text_field_renders_inert(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """Every text the UI accepts or shows carries three payloads; every page shows it escaped."""
    api = await _ui(aiohttp_client, tmp_path)
    client = api.client
    await _login(client, "officer")

    async def post(path: str, data: dict[str, str], want: int = 303) -> str:
        page = await (await client.get("/admin")).text()
        answer = await client.post(
            path, data={"csrf_token": _csrf(page), **data}, allow_redirects=False
        )
        body = await answer.text()
        assert answer.status == want, f"{path}: {answer.status} {body[:2000]}"
        assert_inert(body, where=path)
        return body

    customer = {"id": "C-9", "name": HOSTILE, "emails": "alex@example.net", "phones": ""}
    await post("/admin/customers", {**customer, "rep_name": HOSTILE, "rep_emails": "r@example.net"})
    everything = {k: HOSTILE for k in ("id", "name", "emails", "phones", "rep_name", "rep_emails")}
    assert_inert(await post("/admin/customers", everything, want=400), shown=True)
    flag = {"level": "red", "category": "verbal_or_hate_abuse", "reason": HOSTILE}
    await api.ok("POST", "/customers/C-9/flags", "auth", json=flag)
    adjustment = {"need": "email_contact", "description": HOSTILE}
    await api.ok("POST", "/customers/C-9/adjustments", "auth", json=adjustment)
    draft = {
        "customer": "C-9",
        "id": "R-X",
        "reason": HOSTILE,
        "evidence_summary": HOSTILE,
        "adjustments_considered": HOSTILE,
        "starts": "2026-11-01T09:00",
        "channels": "email",
        "handling": "read_and_file",
        "notify": "on",
    }
    await post("/admin/restrictions", draft)
    bad = {**draft, "id": HOSTILE, "limit_max": "2", "limit_per": HOSTILE, "window_start": HOSTILE}
    assert_inert(await post("/admin/restrictions", bad, want=400), shown=True)
    await _switch(client, "auth")
    await post(
        "/admin/restrictions/R-X/authorise",
        {"reason": HOSTILE, "adjustment_justification": HOSTILE},
    )
    appeal = {"lodged_on": "2026-11-24", "grounds": HOSTILE, "late_reason": HOSTILE}
    await post("/admin/restrictions/R-X/appeals", appeal)
    await _switch(client, "auth2")
    await post("/admin/restrictions/R-X/reviews", {"outcome": "renew", "notes": HOSTILE})
    appeal_id = (await api.ok("GET", "/restrictions/R-X/appeals"))["items"][0]["id"]
    await post(
        f"/admin/restrictions/R-X/appeals/{appeal_id}/decision",
        {"outcome": "uphold", "reason": HOSTILE},
    )
    await aiosmtplib.send(
        message(subject=HOSTILE, body=f"Hello {HOSTILE}"),
        sender="alex@example.net",
        recipients=["housing@example.org"],
        hostname="127.0.0.1",
        port=api.app[MAIL].listener.port,
        timeout=30,
    )
    held = (await api.ok("GET", "/held", "auth"))["items"]
    assert len(held) == 1, held
    await post(f"/admin/held/{held[0]['id']}/release", {"note": HOSTILE})
    tried = {"channel": "email", "sender": HOSTILE, "to": HOSTILE, "text": HOSTILE}
    assert_inert(await post("/admin/explain", tried, want=400), shown=True)
    tried = {**tried, "sender": "alex@example.net", "to": "housing@example.org"}
    assert_inert(await post("/admin/explain", tried, want=200), shown=True)

    for path, shown in hostile_pages(held[0]["id"]):
        answer = await client.get(path)
        assert answer.status == 200, path
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert_inert(await answer.text(), shown=shown, where=path)


async def test_login_attempts_are_limited(aiohttp_client: Any, tmp_path: Path) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    for _ in range(5):
        assert (await _login(api.client, "officer", "wrong password!!")).status == 401
    blocked = await _login(api.client, "officer")
    assert blocked.status == 429
    assert "Too many unsuccessful sign-ins" in await blocked.text()


async def _spray(client: TestClient, forwarded_for: Callable[[int], str]) -> None:
    """30 failures from one client: names nobody has, and wrong passwords for other users
    (at most 4 each, under the per-name limit), each with the header ``forwarded_for(i)``."""
    for i in range(30):
        name = f"nobody{i}" if i % 2 else ("viewer", "auth", "auth2", "admin")[i // 2 % 4]
        answer = await _login(client, name, "wrong password!!", forwarded_for(i))
        assert answer.status == 401, i


async def test_behind_a_trusted_proxy_one_clients_spray_locks_out_only_that_client(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """The test client reaches the app from 127.0.0.1, which plays the proxy: it appends
    the address it saw (the right-most entry) to what the client sent."""
    api = await _ui(aiohttp_client, tmp_path, http={"trusted_proxies": "127.0.0.1, 10.0.0.0/8"})
    attacker = "203.0.113.9"
    # The attacker makes up a new left-hand entry each time; the proxy's own is the truth.
    await _spray(api.client, lambda i: f"198.51.100.{i}, {attacker}")
    blocked = await _login(api.client, "officer", PASSWORD, f"192.0.2.1, {attacker}")
    assert blocked.status == 429
    assert "Too many unsuccessful sign-ins" in await blocked.text()
    # An officer elsewhere, through two proxies of ours, signs in with the right password.
    answer = await _login(api.client, "officer", PASSWORD, "192.0.2.44, 10.1.2.3")
    assert answer.status == 303
    # Five wrong passwords for one name still lock that name, from wherever they come.
    for i in range(5):
        wrong = await _login(api.client, "officer", "nope nope nope", f"192.0.2.{i}")
        assert wrong.status == 401
    assert (await _login(api.client, "officer", PASSWORD, "192.0.2.99")).status == 429


async def test_forwarded_for_from_a_peer_not_listed_is_ignored(
    aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the setting the header is the client's word: changing it each time does
    not escape the per-address limit (and the log says the proxy is not listed)."""
    api = await _ui(aiohttp_client, tmp_path)
    await _spray(api.client, lambda i: f"198.51.100.{i}")
    assert (await _login(api.client, "officer", PASSWORD, "192.0.2.44")).status == 429
    warnings = [r.getMessage() for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1 and "from 127.0.0.1" in warnings[0]


async def test_logout_ends_the_session(aiohttp_client: Any, tmp_path: Path) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    await _login(api.client, "officer")
    page = await (await api.client.get("/admin")).text()
    await api.client.post("/admin/logout", data={"csrf_token": _csrf(page)})
    after = await api.client.get("/admin", allow_redirects=False)
    assert after.status == 303
