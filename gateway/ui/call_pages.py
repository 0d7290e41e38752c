"""Calls: the days the office is closed, the officer's whisper, and withheld numbers.

The settings are the organisation's (``PATCH /settings``), so the checks, the role
table and the audit entries are the API's. The page adds only what people need: closure
days written one a line, as a day or a run of days ("2026-12-29 to 2026-12-31"), with
every line that cannot be read named; and the bank holidays coming up, so an
administrator can see which days are closed already. The form carries the version of
the settings it was shown (the ETag, sent as ``If-Match``), as the Settings page's does:
if someone saved the settings in between, nothing is saved and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from aiohttp import web

from gateway.config.org_settings import MAX_CLOSURE_DAYS, bank_holidays
from gateway.ui.apicall import UiProblem, call, call_with_etag
from gateway.ui.core import PREFIX, USER, api, page, redirect, render, text
from rules.roles import Permission
from rules.wording import date_words

NATIONS = {
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}
WITHHELD = {
    "connect": "Put them through, as any caller the gateway does not know",
    "emergency_only": "Tell them the line does not take withheld numbers, and offer the "
    "emergency option",
}
# How far ahead the page lists bank holidays.
AHEAD = timedelta(days=366)
RANGE_WORD = " to "
CONFLICT = 409  # the API's answer to a change made against an older version


@dataclass
class Shown:
    """The form as typed, when it was refused, and why."""

    closure_text: str | None = None
    problems: list[str] = field(default_factory=list)
    problem: UiProblem | None = None
    changed: bool = False
    etag: str | None = None  # None: the ETag of the settings in force


def read_closure_days(value: str) -> tuple[list[date], list[str]]:
    """The days written one a line (a day, or ``first to last``), and a problem for
    every line that cannot be read, each naming its line."""
    days: list[date] = []
    problems: list[str] = []
    for number, raw in enumerate(value.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        first_text, _, last_text = line.partition(RANGE_WORD)
        try:
            first = date.fromisoformat(first_text.strip())
            last = date.fromisoformat(last_text.strip()) if last_text else first
        except ValueError:
            problems.append(
                f"line {number}: '{line}' is not a date like 2026-12-29 or a run of days "
                "like 2026-12-29 to 2026-12-31"
            )
            continue
        if last < first:
            problems.append(f"line {number}: '{line}' ends before it starts")
            continue
        if (last - first).days >= MAX_CLOSURE_DAYS:
            problems.append(f"line {number}: '{line}' is more than {MAX_CLOSURE_DAYS} days")
            continue
        days.extend(first + timedelta(days=n) for n in range((last - first).days + 1))
    return days, problems


def closure_runs(days: list[str]) -> list[tuple[date, date]]:
    """Stored days as runs of consecutive days: each run's first and last day."""
    runs: list[tuple[date, date]] = []
    for day in sorted(date.fromisoformat(d) for d in days):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def closure_lines(days: list[str]) -> str:
    """Stored days as the form shows them: runs of consecutive days on one line."""
    return "\n".join(
        first.isoformat() if first == last else f"{first}{RANGE_WORD}{last}"
        for first, last in closure_runs(days)
    )


async def _page(request: web.Request, shown: Shown, status: int = 200) -> web.Response:
    org, etag = await call_with_etag(request, request[USER], "GET", "/settings")
    today = api(request).today()
    coming = sorted(
        day for day in bank_holidays(org["bank_holidays"], today) if today <= day < today + AHEAD
    )
    return render(
        request,
        "calls.html",
        status=status,
        shown=shown,
        org=org,
        nation=NATIONS[org["bank_holidays"]],
        coming=[day_words(day) for day in coming],
        closures=[day_words(date.fromisoformat(d)) for d in org["closure_days"]],
        closure_text=(
            shown.closure_text
            if shown.closure_text is not None
            else closure_lines(org["closure_days"])
        ),
        withheld_choices=WITHHELD,
        etag=shown.etag if shown.etag is not None else etag,
        conflict=shown.problem is not None and shown.problem.status == CONFLICT,
    )


def day_words(day: date) -> str:
    """A day as the pages write it: "Tuesday 29 December 2026"."""
    return f"{date_words(day)} {day.year}"


@page()
async def view(request: web.Request) -> web.StreamResponse:
    return await _page(request, Shown(changed=request.query.get("changed") == "1"))


@page(Permission.MANAGE_SETTINGS)
async def change(request: web.Request) -> web.StreamResponse:
    """Save the call settings; nothing changes if any closure line cannot be read."""
    closure_text = text(request, "closure_days")
    etag = text(request, "etag")
    days, problems = read_closure_days(closure_text)
    if problems:
        shown = Shown(closure_text=closure_text, problems=problems, etag=etag)
        return await _page(request, shown, 400)
    body = {
        "closure_days": [day.isoformat() for day in days],
        "call_whisper": text(request, "call_whisper") == "on",
        "withheld_callers": text(request, "withheld_callers"),
    }
    try:
        await call(request, request[USER], "PATCH", "/settings", body=body, if_match=etag)
    except UiProblem as problem:
        # After a conflict the form takes the version now shown: saving again replaces
        # the other change knowingly.
        conflict = problem.status == CONFLICT
        shown = Shown(closure_text=closure_text, problem=problem, etag=None if conflict else etag)
        return await _page(request, shown, status=400 if problem.status == 422 else problem.status)
    return redirect(f"{PREFIX}/calls?changed=1")
