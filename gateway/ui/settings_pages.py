"""Settings: the organisation's run-time settings in a housing manager's words, and
(administrators) one form to change them.

Every action is the API's own route (``GET`` and ``PATCH /settings``), so the checks, the
role table and the audit entries are the API's. The form carries the ETag it was shown
with and sends it as an API client sends ``If-Match``: if someone saved the settings in
between, nothing is saved and the page shows the settings as they are now. The page adds
only words for people, and reads what a form sends (numbers typed as text, closure days
one a line) into what the API takes, naming every answer it cannot read; then nothing
is sent, so nothing is half-applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.ui.apicall import UiProblem, body_problems, call, call_with_etag
from gateway.ui.call_pages import (
    CONFLICT,
    NATIONS,
    WITHHELD,
    closure_lines,
    closure_runs,
    day_words,
    read_closure_days,
)
from gateway.ui.core import PREFIX, USER, page, redirect, render, text
from rules.lifecycle import PeriodUnit
from rules.roles import Permission

SETTINGS = "/settings"
# Every setting by name, in the page's order, in plain words.
WORDS = {
    "review_period": "Time to a restriction's next review",
    "lapse_at_review": "A restriction not renewed by its review date",
    "appeal_period": "Time a customer has to appeal",
    "appeal_decision_period": "Time to decide an appeal, once it is lodged",
    "appeal_notice_period": "Time to tell the customer the appeal decision",
    "incident_threshold": "Incidents that put a customer on the “consider action” list",
    "incident_window_days": "Days those incidents are counted over",
    "flag_review_period": "Time until a warning flag is due for review",
    "flag_email_headers": "Warning details in the headers of email passed to staff",
    "flag_email_banner": "A warning line at the top of email passed to staff",
    "flag_text_prefix": "A warning line at the start of a text passed to an officer",
    "call_whisper": "The officer's whisper before a restricted customer's call",
    "bank_holidays": "Bank holidays of",
    "closure_days": "Other days the office is closed",
    "withheld_callers": "A caller from a withheld number",
    "written_notice_required": "Written notice before a restriction comes into force",
    "letter_language": "Language of letters to a customer whose language is not recorded",
}
PERIODS = (
    "review_period",
    "appeal_period",
    "appeal_decision_period",
    "appeal_notice_period",
    "flag_review_period",
)
UNITS = {PeriodUnit.DAYS.value: "days", PeriodUnit.WORKING_DAYS.value: "working days"}
SWITCHES = (
    "lapse_at_review",
    "flag_email_headers",
    "flag_email_banner",
    "flag_text_prefix",
    "call_whisper",
    "written_notice_required",
)
COUNTS = ("incident_threshold", "incident_window_days")
LANGUAGES = {
    "en": "English",
    "cy": "Welsh (Cymraeg)",
    "bilingual": "Welsh and English (Welsh first, then English)",
}
# A select's options are short (the page explains them beside it; WITHHELD in full).
WITHHELD_SHORT = {
    "connect": "Put through as any unknown caller",
    "emergency_only": "Offered the emergency option only",
}
CHOICES = {
    "bank_holidays": NATIONS,
    "withheld_callers": WITHHELD_SHORT,
    "letter_language": LANGUAGES,
}


def _controls() -> dict[str, str]:
    """The form's controls in the page's order, each with the words an error names it by
    (a period is two: ``NAME.amount`` and ``NAME.unit``)."""
    controls: dict[str, str] = {}
    for name, words in WORDS.items():
        if name in PERIODS:
            controls[f"{name}.amount"] = f"{words}: number"
            controls[f"{name}.unit"] = f"{words}: days or working days"
        else:
            controls[name] = words
    return controls


CONTROLS = _controls()
WHOLE = re.compile(r"-?[0-9]{1,9}")


@dataclass
class Shown:
    """The form as typed when it was refused (None: as in force), and why."""

    values: dict[str, Any] | None = None
    etag: str | None = None  # None: the ETag of the settings in force
    problem: UiProblem | None = None
    sent: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


def period_words(period: dict[str, Any]) -> str:
    """``{"amount": 20, "unit": "working_days"}`` -> "20 working days" ("1 day")."""
    amount = int(period["amount"])
    unit = "working day" if period["unit"] == PeriodUnit.WORKING_DAYS.value else "day"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def form_values(org: dict[str, Any]) -> dict[str, Any]:
    """The settings in force as the form shows them."""
    values: dict[str, Any] = {name: org[name] for name in (*SWITCHES, *CHOICES)}
    values.update({name: str(org[name]) for name in COUNTS})
    for name in PERIODS:
        values[f"{name}.amount"] = str(org[name]["amount"])
        values[f"{name}.unit"] = org[name]["unit"]
    values["closure_days"] = closure_lines(org["closure_days"])
    return values


def read_form(request: web.Request) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The form as typed, every setting as ``PATCH /settings`` takes it, and a problem for
    each answer that cannot be read (its setting is then left out of the body)."""
    values: dict[str, Any] = {name: text(request, name) == "on" for name in SWITCHES}
    body: dict[str, Any] = dict(values)
    problems: dict[str, str] = {}
    for name in (*COUNTS, *CHOICES, "closure_days"):
        values[name] = text(request, name)
    for name in PERIODS:
        amount, unit = text(request, f"{name}.amount"), text(request, f"{name}.unit")
        values[f"{name}.amount"], values[f"{name}.unit"] = amount, unit
        if WHOLE.fullmatch(amount):
            body[name] = {"amount": int(amount), "unit": unit}
        else:
            problems[f"{name}.amount"] = _not_whole(amount, "20")
    for name in COUNTS:
        if WHOLE.fullmatch(values[name]):
            body[name] = int(values[name])
        else:
            problems[name] = _not_whole(values[name], "3")
    for name in CHOICES:
        body[name] = values[name]
    days, lines = read_closure_days(values["closure_days"])
    if lines:
        problems["closure_days"] = "; ".join(line[:1].upper() + line[1:] for line in lines)
    else:
        body["closure_days"] = [day.isoformat() for day in days]
    return values, body, problems


def _not_whole(typed: str, example: str) -> str:
    if not typed:
        return f"Enter a whole number, like {example}"
    return f"'{typed}' is not a whole number: enter one like {example}"


def control(name: str) -> str:
    """The form control beside which the API's problem with field ``name`` is shown."""
    if name in CONTROLS:
        return name
    setting = re.split(r"[.\[]", name, maxsplit=1)[0]
    if setting in PERIODS:
        return f"{setting}.amount"
    return setting if setting in CONTROLS else name


def _errors(problem: UiProblem | None) -> UiProblem | None:
    """The problem with its fields named by form control, in the form's order."""
    if problem is None:
        return None
    fields: dict[str, str] = {}
    for name, reason in problem.fields.items():
        fields.setdefault(control(name), reason)
    order = list(CONTROLS)
    ordered = sorted(fields, key=lambda c: order.index(c) if c in order else len(order))
    return UiProblem(problem.status, problem.message, {c: fields[c] for c in ordered})


def differs(sent: dict[str, Any], org: dict[str, Any]) -> list[str]:
    """The settings whose answers in ``sent`` are not the ones in force, in words."""
    changed = []
    for name, value in sent.items():
        if name == "closure_days":
            value = sorted(set(value))
        if value != org.get(name):
            changed.append(WORDS[name])
    return changed


def _closures(days: list[str]) -> list[str]:
    return [
        day_words(first) if first == last else f"{day_words(first)} to {day_words(last)}"
        for first, last in closure_runs(days)
    ]


async def _page(request: web.Request, shown: Shown, status: int = 200) -> web.Response:
    org, etag = await call_with_etag(request, request[USER], "GET", SETTINGS)
    problem = _errors(shown.problem)
    return render(
        request,
        "settings.html",
        status=status,
        org=org,
        periods={name: period_words(org[name]) for name in PERIODS},
        closures=_closures(org["closure_days"]),
        withheld=WITHHELD,
        words=WORDS,
        controls=CONTROLS,
        units=UNITS,
        choices=CHOICES,
        values=shown.values if shown.values is not None else form_values(org),
        etag=shown.etag if shown.etag is not None else etag,
        problem=problem,
        conflict=problem is not None and problem.status == CONFLICT,
        differs=differs(shown.sent, org) if problem and problem.status == CONFLICT else [],
        changed=shown.changed,
    )


@page()
async def view(request: web.Request) -> web.StreamResponse:
    return await _page(request, Shown(changed=request.query.get("changed") == "1"))


@page(Permission.MANAGE_SETTINGS)
async def change(request: web.Request) -> web.StreamResponse:
    """Save every setting at once, against the version the form was shown with."""
    values, body, problems = read_form(request)
    etag = text(request, "etag")
    if problems:
        # The API's own check names what is wrong with the answers that could be read.
        fields = {**body_problems(request, "PATCH", SETTINGS, body), **problems}
        message = "Some answers need changing: see the messages beside them."
        shown = Shown(values=values, etag=etag, problem=UiProblem(422, message, fields))
        return await _page(request, shown, status=400)
    try:
        await call(request, request[USER], "PATCH", SETTINGS, body=body, if_match=etag)
    except UiProblem as problem:
        # After a conflict the form keeps the answers but takes the ETag of the settings
        # now shown: saving again replaces them, knowingly.
        conflict = problem.status == CONFLICT
        shown = Shown(values=values, etag=None if conflict else etag, problem=problem, sent=body)
        return await _page(request, shown, status=400 if problem.status == 422 else problem.status)
    return redirect(f"{PREFIX}/settings?changed=1")
