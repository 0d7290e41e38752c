"""The Settings page over HTTP: anyone signed in sees every organisation setting in plain
words; only an administrator changes them, all at once through the API's own route, and
against the version the form was shown with, so two administrators saving at once never
overwrite each other unseen. Bad answers are named beside their fields and change nothing."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gateway.api.deps import API
from gateway.api.users_api import SettingsChange
from gateway.config.org_settings import OrgSettings
from gateway.store.engine import write_transaction
from gateway.ui.settings_pages import CHOICES, CONTROLS, COUNTS, PERIODS, SWITCHES, WORDS
from tests.gateway.api_support import START, ApiClient, api_settings, set_test_password, start_api
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.ui.test_ui_exemptions import PASSWORD, _block, _csrf, _main, _sign_in
from tests.gateway.ui.test_ui_hostile import HOSTILE, assert_inert

PAGE = "/admin/settings"
DEFAULTS = OrgSettings().model_dump(mode="json")


@pytest.fixture
async def ui(aiohttp_client: Any, tmp_path: Path) -> ApiClient:
    """A gateway whose settings are all the defaults (written notice required too)."""
    settings = api_settings(f"sqlite+aiosqlite:///{tmp_path}/g.db", tmp_path / "mail")
    api = await start_api(aiohttp_client, settings, FakeClock(START), written_notice=True)
    async with write_transaction(api.app[API].admin.store.engine, "passwords") as conn:
        for name in ("viewer", "officer", "admin"):
            await set_test_password(conn, name, PASSWORD, START)
    return api


class _Form(HTMLParser):
    """The settings form's fields as a browser would send them, unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.fields: dict[str, str] = {}
        self.select = ""
        self.textarea = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "settings-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and "selected" in a:
            self.fields[self.select] = a["value"]
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[self.textarea] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self.textarea = ""
        elif tag == "form":
            self.inside = False


def _fields(page: str) -> dict[str, str]:
    form = _Form()
    form.feed(page)
    assert form.fields, "the page has the settings form"
    return form.fields


async def _open(api: ApiClient, name: str) -> str:
    await _sign_in(api, name)
    return await (await api.client.get(PAGE)).text()


async def _save(api: ApiClient, fields: dict[str, str]) -> tuple[int, str, str]:
    answer = await api.client.post(PAGE, data=fields, allow_redirects=False)
    return answer.status, await answer.text(), answer.headers.get("Location", "")


async def _settings_entries(api: ApiClient) -> int:
    audit = await api.ok("GET", "/audit", "admin")
    return len([e for e in audit["items"] if e["entity"] == "settings"])


def _kept(page: str, name: str) -> str:
    """The value the form shows in the text field or text area ``name``."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page) or re.search(
        rf'name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert found is not None, name
    return html.unescape(found[1])


def test_every_setting_has_words_and_a_control() -> None:
    """A setting added to the model and not to the page fails here, not in production."""
    settings = set(OrgSettings.model_fields)
    assert set(WORDS) == settings == set(SettingsChange.model_fields)
    assert {*PERIODS, *SWITCHES, *COUNTS, *CHOICES, "closure_days"} == settings


async def test_the_page_shows_every_default_in_words(ui: ApiClient) -> None:
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS
    page = await _open(ui, "admin")
    assert 'href="/admin/settings" aria-current="page">Settings</a>' in page
    shown = _main(page)
    for words in (
        "Time to a restriction's next review 182 days from its proposal, or from its last",
        "A restriction not renewed by its review date Stays in force, marked as review overdue",
        "Time a customer has to appeal 20 working days from the restriction being authorised",
        "Time to decide an appeal, once it is lodged 10 working days",
        "Time to tell the customer the appeal decision 5 working days from the decision",
        "A customer with 3 or more incidents within 90 days is listed on the dashboard",
        "Time until a warning flag is due for review 365 days after it was added",
        "Warning details in the headers of email passed to staff Off",
        "A warning line at the top of email passed to staff Off",
        "A warning line at the start of a text passed to an officer Off",
        "The officer's whisper before a restricted customer's call Off",
        "Bank holidays of England",
        "Other days the office is closed None",
        "A caller from a withheld number Put them through, as any caller the gateway does not",
        "Written notice before a restriction comes into force Required: a restriction comes",
        "Language of letters to a customer whose language is not recorded English",
    ):
        assert words in shown, words
    assert "working_days" not in shown and "ENG" not in shown, "no codes, only words"

    form = _fields(page)
    assert form["appeal_period.amount"] == "20" and form["appeal_period.unit"] == "working_days"
    assert form["review_period.amount"] == "182" and form["review_period.unit"] == "days"
    assert form["incident_threshold"] == "3" and form["incident_window_days"] == "90"
    assert form["bank_holidays"] == "ENG" and form["letter_language"] == "en"
    assert form["written_notice_required"] == "on" and "lapse_at_review" not in form
    assert form["closure_days"] == "" and form["etag"].startswith('"')
    # Every control has its label (a checkbox is inside its own), and every group a legend.
    for control in CONTROLS:
        if control in SWITCHES:
            assert f'<label><input type="checkbox" id="{control}" name="{control}"' in page
        else:
            assert f'<label for="{control}">' in page, control
    assert page.count("<fieldset>") == page.count("<legend>") == 7 + len(PERIODS)

    # The form sent as shown changes nothing.
    status, _, where = await _save(ui, form)
    assert (status, where) == (303, PAGE + "?changed=1")
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS


async def test_an_administrator_changes_several_settings(ui: ApiClient) -> None:
    page = await _open(ui, "admin")
    entries = await _settings_entries(ui)
    changes = {
        "lapse_at_review": "on",
        "flag_email_banner": "on",
        "appeal_period.amount": "15",
        "appeal_period.unit": "days",
        "incident_threshold": "5",
        "closure_days": "2026-12-29 to 2026-12-31\n\n2027-01-04",
        "bank_holidays": "WLS",
        "withheld_callers": "emergency_only",
        "letter_language": "cy",
    }
    form = {**_fields(page), **changes}
    del form["written_notice_required"]  # unticked
    status, _, where = await _save(ui, form)
    assert (status, where) == (303, PAGE + "?changed=1")

    org = await ui.ok("GET", "/settings", "viewer")
    assert org == {
        **DEFAULTS,
        "lapse_at_review": True,
        "flag_email_banner": True,
        "appeal_period": {"amount": 15, "unit": "days"},
        "incident_threshold": 5,
        "closure_days": ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-04"],
        "bank_holidays": "WLS",
        "withheld_callers": "emergency_only",
        "written_notice_required": False,
        "letter_language": "cy",
    }
    assert await _settings_entries(ui) == entries + 1, "audited, once"

    after = await (await ui.client.get(where)).text()
    shown = _main(after)
    assert "The settings were changed." in shown
    for words in (
        "review date Lapses: it stops being enforced from the start of that day",
        "Time a customer has to appeal 15 days from",
        "with 5 or more incidents within 90 days",
        "A warning line at the top of email passed to staff On",
        "Bank holidays of Wales",
        "Tuesday 29 December 2026 to Thursday 31 December 2026",
        "Monday 4 January 2027",
        "A caller from a withheld number Tell them the line does not take withheld numbers",
        "comes into force Not required",
        "whose language is not recorded Welsh (Cymraeg)",
    ):
        assert words in shown, words
    assert "Stays in force" not in shown
    # The form shows what is now in force, runs of days as they were written.
    assert _fields(after)["closure_days"] == "2026-12-29 to 2026-12-31\n2027-01-04"
    assert _fields(after)["letter_language"] == "cy" and "written_notice_required" not in (
        _fields(after)
    )


async def test_bad_answers_are_named_beside_their_fields_and_change_nothing(
    ui: ApiClient,
) -> None:
    page = await _open(ui, "admin")
    version = await ui.store.policy_version()
    entries = await _settings_entries(ui)
    bad = {
        "appeal_period.amount": "abc",
        "review_period.amount": "9999",  # a number, but more than a period may be
        "incident_threshold": "0",
        "closure_days": "2026-12-29\n2026-13-40",
        "letter_language": "cy",  # good, but not saved while anything is wrong
    }
    status, refused, _ = await _save(ui, {**_fields(page), **bad})
    assert status == 400
    summary = _block(refused, 'class="error-summary"')
    assert "Nothing was changed. Some answers need changing" in summary
    for control, words in (
        (
            "review_period.amount",
            "Time to a restriction's next review: number: "
            "Input should be less than or equal to 3660",
        ),
        (
            "appeal_period.amount",
            "Time a customer has to appeal: number: 'abc' is not a whole number: enter one like 20",
        ),
        (
            "incident_threshold",
            "Incidents that put a customer on the “consider action” list: "
            "Input should be greater than or equal to 1",
        ),
        ("closure_days", "Other days the office is closed: Line 2: '2026-13-40' is not a date"),
    ):
        assert words in summary, words
        assert f'<a href="#{control}">' in refused, control
        assert f'id="err-{control}"' in refused, control
        assert re.search(rf'id="{re.escape(control)}"[^>]*aria-invalid="true"', refused), control
    # In the order of the form.
    assert summary.index("next review: number") < summary.index("to appeal: number")
    assert summary.index("to appeal: number") < summary.index("Incidents that")
    assert summary.index("Incidents that") < summary.index("Other days the office")
    kept = _fields(refused)
    assert kept["appeal_period.amount"] == "abc" and kept["review_period.amount"] == "9999"
    assert kept["closure_days"] == "2026-12-29\n2026-13-40" and kept["letter_language"] == "cy"
    assert 'role="alert"' in refused

    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS, "nothing half-applied"
    assert await ui.store.policy_version() == version
    assert await _settings_entries(ui) == entries

    # Only the API finds this one wrong (every answer could be read): still 400, by the field.
    status, refused, _ = await _save(ui, {**_fields(page), "flag_review_period.amount": "4000"})
    assert status == 400
    assert 'id="err-flag_review_period.amount"' in refused
    assert "Input should be less than or equal to 3660" in _block(refused, 'class="error-sum')
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS


async def test_a_stale_form_is_refused_and_shows_the_settings_now(ui: ApiClient) -> None:
    page = await _open(ui, "admin")
    mine = {**_fields(page), "letter_language": "bilingual"}
    # Another administrator saves in between, through the API.
    theirs = {"appeal_period": {"amount": 25, "unit": "working_days"}}
    await ui.ok("PATCH", "/settings", "admin", json=theirs)

    status, refused, _ = await _save(ui, mine)
    assert status == 409
    summary = _block(refused, 'class="error-summary"')
    assert "Someone else changed the settings after you opened this page" in summary
    assert "nothing you sent was saved" in summary
    assert "your answers differ from them in: Time a customer has to appeal; Language of" in (
        summary
    )
    assert {**DEFAULTS, **theirs} == await ui.ok("GET", "/settings", "viewer")
    in_force = _main(refused).split("Change the settings", 1)[0]
    assert "Time a customer has to appeal 25 working days" in in_force, "theirs, shown"
    kept = _fields(refused)
    assert kept["letter_language"] == "bilingual" and kept["appeal_period.amount"] == "20"
    assert kept["etag"] != mine["etag"], "the form now carries the version shown"

    # Saving again, having seen theirs, replaces them knowingly.
    status, _, _ = await _save(ui, kept)
    assert status == 303
    org = await ui.ok("GET", "/settings", "viewer")
    assert org["letter_language"] == "bilingual" and org["appeal_period"]["amount"] == 20

    # A form without a version, or with a made-up one, saves nothing either.
    for etag in ("", '"not-a-version"'):
        status, refused, _ = await _save(ui, {**kept, "letter_language": "en", "etag": etag})
        assert status == 409, etag
        assert "Someone else changed the settings" in refused
    assert (await ui.ok("GET", "/settings", "viewer"))["letter_language"] == "bilingual"


@pytest.mark.parametrize("name", ["viewer", "officer"])
async def test_others_see_the_settings_but_no_form(ui: ApiClient, name: str) -> None:
    page = await _open(ui, name)
    assert 'href="/admin/settings" aria-current="page">Settings</a>' in page
    assert "Time a customer has to appeal 20 working days" in _main(page)
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert actions == ["/admin/logout"]
    for hidden in ("Change the settings", 'name="etag"', "Save the settings", "<select"):
        assert hidden not in page
    fields = {"csrf_token": _csrf(page), "letter_language": "cy", "lapse_at_review": "on"}
    status, refused, _ = await _save(ui, fields)
    assert status == 403
    assert f"Your role ({name}) does not allow this." in refused
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS


async def test_saving_needs_the_sessions_csrf_token(ui: ApiClient) -> None:
    page = await _open(ui, "admin")
    form = {**_fields(page), "letter_language": "cy"}
    for token in ({"csrf_token": ""}, {"csrf_token": "not-the-sessions-token"}):
        status, refused, _ = await _save(ui, {**form, **token})
        assert status == 403
        assert "did not come from a page" in refused
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS


async def test_hostile_answers_are_shown_as_text(ui: ApiClient) -> None:
    page = await _open(ui, "admin")
    form = {**_fields(page), "appeal_period.amount": HOSTILE, "closure_days": HOSTILE}
    form["letter_language"] = HOSTILE
    status, refused, _ = await _save(ui, form)
    assert status == 400
    assert_inert(refused, shown=True, where="settings")
    assert await ui.ok("GET", "/settings", "viewer") == DEFAULTS
