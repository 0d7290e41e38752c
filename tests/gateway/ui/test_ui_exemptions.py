"""The Exemptions page over HTTP: anyone signed in checks a message and sees the routes and
phrases in force; only an administrator changes them, checked whole (a bad line changes
nothing), and every change needs the session's CSRF token."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.api.deps import API
from gateway.store.engine import write_transaction
from tests.gateway.api_support import START, ApiClient, api_settings, set_test_password, start_api
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.ui.test_ui_hostile import HOSTILE, assert_inert

PASSWORD = "correct horse battery staple"
PAGE = "/admin/exemptions"
BAD_YAML = "emergency_repair:\n  en:\n    add:\n      - stairlift stuck\n      - ''\n  xx: {}\n"


async def _start(aiohttp_client: Any, tmp_path: Path, **settings: Any) -> ApiClient:
    url = f"sqlite+aiosqlite:///{tmp_path}/g.db"
    api = await start_api(
        aiohttp_client, api_settings(url, tmp_path / "mail", **settings), FakeClock(START)
    )
    async with write_transaction(api.app[API].admin.store.engine, "passwords") as conn:
        for name in ("viewer", "officer", "admin"):
            await set_test_password(conn, name, PASSWORD, START)
    return api


@pytest.fixture
async def ui(aiohttp_client: Any, tmp_path: Path) -> ApiClient:
    return await _start(
        aiohttp_client, tmp_path, protected={"complaints": "complaints@example.org"}
    )


async def _sign_in(api: ApiClient, name: str) -> str:
    """Sign in as ``name``; the Exemptions page as they see it."""
    page = await (await api.client.get("/admin/login")).text()
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    signed = await api.client.post(
        "/admin/login",
        data={"name": name, "password": PASSWORD, "login_token": token, "next": "/admin"},
        allow_redirects=False,
    )
    assert signed.status == 303
    return await (await api.client.get(PAGE)).text()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


async def _post(api: ApiClient, path: str, data: dict[str, str], page: str) -> tuple[int, str]:
    answer = await api.client.post(
        path, data={"csrf_token": _csrf(page), **data}, allow_redirects=False
    )
    return answer.status, await answer.text()


def _text(markup: str) -> str:
    """Markup as a reader sees it: tags removed, spaces collapsed."""
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))
    return html.unescape(re.sub(r" ([,.;:)])", r"\1", spaced).replace("( ", "("))


def _main(page: str) -> str:
    return _text(page.split('<main id="main">', 1)[1])


def _block(page: str, marker: str) -> str:
    """The text of the block (up to its first ``</div>``) that starts at ``marker``."""
    return _text(page.split(marker, 1)[1].split("</div>", 1)[0])


async def test_check_shows_the_class_the_words_and_the_phrase(ui: ApiClient) -> None:
    page = await _sign_in(ui, "viewer")
    assert 'aria-current="page">Exemptions</a>' in page
    status, shown = await _post(ui, PAGE, {"text": "Mae nwy yn gollwng yn y gegin"}, page)
    assert status == 200
    result = _block(shown, 'id="check-result"')
    assert "Exempt: Emergency repair" in result
    assert "The words that matched “nwy gollwng”" in result
    assert "The phrase {gas} ~ {smell}" in result
    assert "Mae nwy yn gollwng yn y gegin</textarea>" in shown, "the message is kept"

    status, shown = await _post(ui, PAGE, {"text": "Could you send me the bin dates?"}, page)
    assert status == 200
    none = _main(shown)
    assert "No exemption: it would be held like any other contact under a restriction." in none
    assert "trained model" not in none
    meeting = "councillor Jones is coming to the residents meeting on tuesday, what time is it"
    status, shown = await _post(ui, PAGE, {"text": meeting}, page)
    assert status == 200
    held = _block(shown, 'id="check-result"')
    assert "No exemption: it would be held" in held
    assert "The phrase councillor matched the words “councillor”, but the trained model" in held
    assert re.search(r"finds the whole message \d+% likely to be ordinary contact", held)
    thanks = "thank you for fixing the burst pipe so fast, the plumber was lovely"
    status, shown = await _post(ui, PAGE, {"text": thanks}, page)
    assert status == 200
    settled = _block(shown, 'id="check-result"')
    assert "but the second look (a model trained on what phrases matched) finds" in settled
    status, shown = await _post(ui, PAGE, {"text": "   "}, page)
    assert status == 400
    assert 'class="error-summary" role="alert"' in shown and 'href="#check-text"' in shown
    status, shown = await _post(ui, PAGE, {"text": HOSTILE}, page)
    assert status == 200
    assert_inert(shown, shown=True, where="check")


async def test_an_administrator_sets_the_appeals_route_and_it_is_in_force(ui: ApiClient) -> None:
    page = await _sign_in(ui, "admin")
    assert 'action="/admin/exemptions/routes"' in page
    in_force = _main(page)
    assert "Complaints complaints@example.org The gateway's settings" in in_force

    fields = {"route_appeals": "Appeals@Example.org, +44 1632 960123"}
    answer = await ui.client.post(
        PAGE + "/routes", data={"csrf_token": _csrf(page), **fields}, allow_redirects=False
    )
    assert answer.status == 303
    assert answer.headers["Location"] == PAGE + "?changed=routes#routes"
    routes = await ui.ok("GET", "/exemptions/routes", "viewer")
    assert routes == {
        "routes": {
            "appeals": ["appeals@example.org", "+441632960123"],
            "complaints": ["complaints@example.org"],  # an empty field leaves it to settings
        },
        "stored": {"appeals": "appeals@example.org,+441632960123"},
    }
    index = await ui.next_decision()
    assert index.settings.protected.route_of("appeals@example.org") == "appeals"
    after = await (await ui.client.get(PAGE + "?changed=routes")).text()
    assert "The protected routes were changed." in after
    shown = _main(after)
    assert "Appeals appeals@example.org, +441632960123 An administrator, here" in shown
    assert 'value="appeals@example.org,+441632960123"' in after

    bad = {"route_appeals": "appeals@example.org", "route_safeguarding": "the duty desk"}
    status, refused = await _post(ui, PAGE + "/routes", bad, after)
    assert status == 400
    summary = _block(refused, 'class="error-summary"')
    assert "The protected routes were not changed." in summary
    assert "Safeguarding: 'the duty desk' is neither an email address nor a number" in summary
    assert 'value="the duty desk"' in refused and 'aria-invalid="true"' in refused
    assert (await ui.ok("GET", "/exemptions/routes"))["stored"] == routes["stored"]


async def test_bad_yaml_is_refused_line_by_line_and_nothing_changes(ui: ApiClient) -> None:
    page = await _sign_in(ui, "admin")
    assert "In force: the defaults" in _main(page)
    version = await ui.store.policy_version()
    status, refused = await _post(ui, PAGE + "/phrases", {"yaml": BAD_YAML}, page)
    assert status == 400
    summary = _block(refused, 'class="error-summary"')
    assert "The phrases were not changed" in summary
    for line in (
        "line 5: emergency_repair.en.add.1: is empty: a phrase needs at least one word",
        "line 6: emergency_repair.xx: 'xx' is not a language (en, cy)",
    ):
        assert line in summary
    kept = re.search(r'<textarea id="phrases-yaml"[^>]*>(.*?)</textarea>', refused, re.S)
    assert kept is not None and html.unescape(kept[1]) == BAD_YAML, "the input is kept"
    assert await ui.ok("GET", "/exemptions/phrases") == {
        "yaml": "",
        "source": "defaults",
        "classes": [
            "safeguarding",
            "emergency_repair",
            "subject_access_request",
            "appeal",
            "complaint",
        ],
        "languages": ["en", "cy"],
    }
    assert await ui.store.policy_version() == version, "nothing was half-applied"

    good = "emergency_repair:\n  en:\n    add: [stairlift stuck]\n"
    answer = await ui.client.post(
        PAGE + "/phrases", data={"csrf_token": _csrf(page), "yaml": good}, allow_redirects=False
    )
    assert answer.status == 303
    after = await (await ui.client.get(answer.headers["Location"])).text()
    assert "The exemption phrases were changed." in after
    assert "In force: the stored setting" in _main(after)
    status, checked = await _post(ui, PAGE, {"text": "the stairlift is stuck"}, after)
    assert "Exempt: Emergency repair" in _main(checked)


@pytest.mark.parametrize("name", ["viewer", "officer"])
async def test_only_an_administrator_sees_and_may_use_the_forms(ui: ApiClient, name: str) -> None:
    page = await _sign_in(ui, name)
    assert "Protected routes in force" in page and "complaints@example.org" in page
    assert "The organisation's phrase changes" in page
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert actions == ["/admin/logout", PAGE], "only the check and signing out"
    for hidden in ("Save the protected routes", "Replace the phrases", 'name="yaml"'):
        assert hidden not in page
    for path, data in (
        (PAGE + "/routes", {"route_appeals": "appeals@example.org"}),
        (PAGE + "/phrases", {"yaml": "emergency_repair:\n  en:\n    add: [lift stuck]\n"}),
    ):
        status, refused = await _post(ui, path, data, page)
        assert status == 403, path
        assert f"Your role ({name}) does not allow this." in refused
    assert (await ui.ok("GET", "/exemptions/routes"))["stored"] == {}
    assert (await ui.ok("GET", "/exemptions/phrases"))["source"] == "defaults"


async def test_every_form_needs_the_sessions_csrf_token(ui: ApiClient) -> None:
    page = await _sign_in(ui, "admin")
    for path, data in (
        (PAGE, {"text": "Mae nwy yn gollwng yn y gegin"}),
        (PAGE + "/routes", {"route_appeals": "appeals@example.org"}),
        (PAGE + "/phrases", {"yaml": "emergency_repair:\n  en:\n    add: [lift stuck]\n"}),
    ):
        for token in ({}, {"csrf_token": "not-the-sessions-token"}):
            answer = await ui.client.post(path, data={**token, **data}, allow_redirects=False)
            assert answer.status == 403, (path, token)
            assert "did not come from a page" in await answer.text()
    assert (await ui.ok("GET", "/exemptions/routes"))["stored"] == {}
    assert (await ui.ok("GET", "/exemptions/phrases"))["source"] == "defaults"
    assert _csrf(page)  # the page's own token is there to be sent


async def test_the_page_says_the_phrases_come_from_the_file(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text("emergency_repair:\n  en:\n    add: [stairlift stuck]\n", encoding="utf-8")
    ui = await _start(aiohttp_client, tmp_path, exemption_phrases=phrases)
    page = await _sign_in(ui, "viewer")
    assert f"In force: the file {phrases} (GATEWAY_EXEMPTION_PHRASES)" in _main(page)
    assert "add: [stairlift stuck]\n</pre>" in page
