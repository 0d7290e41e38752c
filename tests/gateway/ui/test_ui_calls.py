"""The Calls page: anyone signed in sees the closed days and the call settings; only an
administrator changes them, through the API's own settings route (checked and audited),
and a closure line that cannot be read is named and changes nothing."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.ui.call_pages import closure_lines, read_closure_days
from tests.gateway.api_support import ApiClient
from tests.gateway.ui.test_ui_exemptions import _csrf, _main, _sign_in, _start

PAGE = "/admin/calls"


@pytest.fixture
async def ui(aiohttp_client: Any, tmp_path: Path) -> ApiClient:
    return await _start(aiohttp_client, tmp_path)


async def _page(api: ApiClient, name: str) -> str:
    await _sign_in(api, name)
    return await (await api.client.get(PAGE)).text()


async def test_an_administrator_sets_closure_days_whisper_and_withheld_callers(
    ui: ApiClient,
) -> None:
    page = await _page(ui, "admin")
    shown = _main(page)
    # Tuesday 24 November 2026: Christmas Day and the substitute Boxing Day are coming.
    assert "Bank holidays in the coming year" in shown
    assert "Friday 25 December 2026" in shown and "Monday 28 December 2026" in shown
    assert "None set." in shown

    fields = {
        "closure_days": "2026-12-29 to 2026-12-31\n\n2027-01-04",
        "call_whisper": "on",
        "withheld_callers": "emergency_only",
    }
    answer = await ui.client.post(
        PAGE, data={"csrf_token": _csrf(page), "etag": _etag(page), **fields}, allow_redirects=False
    )
    assert answer.status == 303 and answer.headers["Location"] == PAGE + "?changed=1"
    org = await ui.ok("GET", "/settings", "viewer")
    assert org["closure_days"] == ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-04"]
    assert org["call_whisper"] is True and org["withheld_callers"] == "emergency_only"
    audit = await ui.ok("GET", "/audit", "admin")
    changed = [e for e in audit["items"] if e["entity"] == "settings"]
    assert changed and changed[0]["after"]["closure_days"] == org["closure_days"]

    page = await (await ui.client.get(PAGE + "?changed=1")).text()
    shown = _main(page)
    assert "The call settings were changed." in shown
    assert "Tuesday 29 December 2026" in shown and "Monday 4 January 2027" in shown
    # Runs of days come back as they were written.
    assert "2026-12-29 to 2026-12-31\n2027-01-04</textarea>" in page


def _etag(page: str) -> str:
    found = re.search(r'name="etag" value="([^"]*)"', page)
    assert found, "the form carries the version of the settings it shows"
    return html.unescape(found.group(1))


async def test_a_stale_form_is_refused_and_saving_again_works(ui: ApiClient) -> None:
    page = await _page(ui, "admin")
    fields = {
        "csrf_token": _csrf(page),
        "closure_days": "2026-12-29",
        "withheld_callers": "connect",
        "etag": _etag(page),
    }
    # Another administrator saves in between, through the API.
    await ui.ok("PATCH", "/settings", "admin", json={"withheld_callers": "emergency_only"})

    answer = await ui.client.post(PAGE, data=fields, allow_redirects=False)
    assert answer.status == 409
    refused = await answer.text()
    assert "Someone else changed the settings after you opened this page" in refused
    assert "2026-12-29</textarea>" in refused, "the answer typed is kept"
    org = await ui.ok("GET", "/settings", "viewer")
    assert org["closure_days"] == [] and org["withheld_callers"] == "emergency_only"
    assert _etag(refused) != fields["etag"], "the form now carries the version shown"

    # A made-up or missing version saves nothing either.
    for etag in ('"not-a-version"', ""):
        answer = await ui.client.post(PAGE, data={**fields, "etag": etag}, allow_redirects=False)
        assert answer.status == 409, etag
    assert (await ui.ok("GET", "/settings", "viewer"))["closure_days"] == []

    # Saving again from the page shown, having seen the other change, saves.
    again = {**fields, "csrf_token": _csrf(refused), "etag": _etag(refused)}
    again["withheld_callers"] = "emergency_only"
    answer = await ui.client.post(PAGE, data=again, allow_redirects=False)
    assert answer.status == 303
    assert (await ui.ok("GET", "/settings", "viewer"))["closure_days"] == ["2026-12-29"]


async def test_a_bad_closure_line_is_named_and_changes_nothing(ui: ApiClient) -> None:
    page = await _page(ui, "admin")
    fields = {
        "closure_days": "2026-12-29\n29/12/2026\n2026-12-31 to 2026-12-30",
        "withheld_callers": "emergency_only",
    }
    answer = await ui.client.post(
        PAGE, data={"csrf_token": _csrf(page), "etag": _etag(page), **fields}
    )
    assert answer.status == 400
    shown = _main(await answer.text())
    assert "line 2: '29/12/2026' is not a date like 2026-12-29" in shown
    assert "line 3: '2026-12-31 to 2026-12-30' ends before it starts" in shown
    org = await ui.ok("GET", "/settings", "viewer")
    assert org["closure_days"] == [] and org["withheld_callers"] == "connect"


async def test_only_an_administrator_changes_them(ui: ApiClient) -> None:
    page = await _page(ui, "officer")
    assert 'action="/admin/calls"' not in page
    assert "Callers from withheld numbers" in _main(page)
    answer = await ui.client.post(
        PAGE, data={"csrf_token": _csrf(page), "closure_days": "2026-12-29"}
    )
    assert answer.status == 403
    assert (await ui.ok("GET", "/settings", "viewer"))["closure_days"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"closure_days": ["2026-02-30"]}, "body.closure_days[0]", "date"),
        ({"closure_days": ["2026-01-01"] * 2 + ["2027-13-01"]}, "body.closure_days[2]", "date"),
        ({"withheld_callers": "hang_up"}, "body.withheld_callers", "connect"),
        ({"call_whisper": "perhaps"}, "body.call_whisper", "boolean"),
    ],
)
async def test_the_api_names_what_is_wrong(
    ui: ApiClient, body: dict[str, Any], field: str, words: str
) -> None:
    answer = await ui.call("PATCH", "/settings", "admin", json=body)
    assert answer.status == 422
    problems = (await answer.json())["error"]["fields"]
    assert any(p["field"] == field and words in p["reason"] for p in problems), problems


async def test_more_than_a_year_of_closure_days_is_refused(ui: ApiClient) -> None:
    days, problems = read_closure_days("2026-01-01 to 2026-12-31\n2027-01-01 to 2027-01-02")
    assert problems == [] and len(days) == 367
    answer = await ui.call(
        "PATCH", "/settings", "admin", json={"closure_days": [d.isoformat() for d in days]}
    )
    assert answer.status == 422
    assert "367 closure days is more than 366" in await answer.text()


def test_closure_lines_read_back_as_written() -> None:
    text = "2026-12-24\n2026-12-29 to 2026-12-31"
    days, problems = read_closure_days(text)
    assert problems == []
    assert closure_lines([d.isoformat() for d in days]) == text
    _, problems = read_closure_days("2026-01-01 to 2027-06-01")
    assert problems == ["line 1: '2026-01-01 to 2027-06-01' is more than 366 days"]


async def test_the_settings_read_beside_the_stored_phrases_and_routes(ui: ApiClient) -> None:
    """The phrases and protected routes are stored beside the settings; reading and
    changing the settings takes no notice of them (it used to refuse them as unknown)."""
    await ui.ok("PUT", "/exemptions/phrases", json={"yaml": ""})
    await ui.ok("PUT", "/exemptions/routes", json={"routes": {"appeals": "appeals@example.org"}})
    assert (await ui.ok("GET", "/settings", "viewer"))["withheld_callers"] == "connect"
    changed = await ui.ok("PATCH", "/settings", json={"call_whisper": True})
    assert changed["call_whisper"] is True
