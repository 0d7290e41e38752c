"""The restriction form (a draft), a restriction's page, and its lifecycle buttons.

Every button posts to one handler per action, which calls the API route of the same
name; a button is shown only when the user's role holds that route's permission and
the restriction's status allows the step (``rules.lifecycle``), so people are not
offered what would be refused — and it is refused anyway if posted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.store.casework.letters import letter_pdf as letter_pdf_of
from gateway.store.errors import NotFound
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, form, page, redirect, render, text
from gateway.ui.limit_words import LIMIT_PERIODS, LIMIT_THINGS
from gateway.ui.restriction_form import (
    DAYS,
    Rows,
    blank_limit,
    blank_window,
    find_customer,
    limits_body,
    read_rows,
    route_body,
    row_action,
    scope_body,
    windows_body,
)
from rules.roles import Permission

ALL = {"limit": 500}
CHANNELS = ("email", "sms", "voice", "letter", "visit", "staff_mobile", "social_media")
HANDLING = {
    "deliver": "Deliver (to the named officer, if any)",
    "read_and_file": "Read and file (held for reading, not answered)",
    "representative_only": "Only through a representative",
    "no_contact": "No contact (except what the law requires)",
}
LETTER_KINDS = {
    "decision": "Decision (before it is put in force)",
    "variation": "Variation",
    "review": "Review outcome (the latest review)",
    "appeal_acknowledgement": "Appeal received (the latest appeal)",
    "appeal_outcome": "Appeal outcome (the latest appeal)",
}
# Which lifecycle steps each status offers (the API checks again when one is posted).
STEPS = {
    "draft": ("authorise", "reject"),
    "active": ("suspend", "revoke"),
    "suspended": ("resume", "revoke"),
}


def _local(value: str, deps: Any) -> str | None:
    """A ``datetime-local`` field, read in the organisation's time zone, as ISO 8601."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value  # passed on: the API names the field and says why
    return naive.replace(tzinfo=deps.settings.zone).isoformat()


async def _form_page(
    request: web.Request,
    values: dict[str, Any],
    rows: Rows,
    problem: UiProblem | None,
    status: int = 200,
) -> web.Response:
    user = request[USER]
    officers = await call(request, user, "GET", "/officers", query=ALL)
    customers = await call(request, user, "GET", "/customers", query=ALL)
    teams = await call(request, user, "GET", "/teams")
    return render(
        request,
        "restriction_form.html",
        status=status,
        values=values,
        limits=rows.limits or [blank_limit()],
        windows=rows.windows or [blank_window()],
        problem=problem,
        officers=officers["items"],
        customers=customers["items"],
        teams=teams["teams"],
        channels=CHANNELS,
        handling=HANDLING,
        days=DAYS,
        things=LIMIT_THINGS,
        periods=LIMIT_PERIODS,
    )


@page(Permission.PROPOSE)
async def new_form(request: web.Request) -> web.StreamResponse:
    now = api(request).clock().astimezone(api(request).settings.zone)
    values = {
        "customer": request.query.get("customer", "")[:200],
        "channels": ["email"],
        "starts": now.strftime("%Y-%m-%dT%H:%M"),
        "handling": "deliver",
        "notify": "on",
        "scope_teams": [],
        "route_otherwise": "redirect",
    }
    return await _form_page(request, values, Rows(), None)


_TEXT_FIELDS = (
    "id",
    "customer",
    "reason",
    "evidence_summary",
    "adjustments_considered",
    "starts",
    "ends",
    "review_on",
    "named_officer",
    "handling",
    "call_time_limit",
    "notify",
    "scope_addresses",
    "scope_numbers",
    "route_email",
    "route_phone",
    "route_otherwise",
)


@page(Permission.PROPOSE)
async def propose(request: web.Request) -> web.StreamResponse:
    data = form(request)
    values: dict[str, Any] = {k: text(request, k) for k in _TEXT_FIELDS}
    values["channels"] = [c for c in data.getall("channels", []) if c in CHANNELS]
    values["scope_teams"] = [str(t) for t in data.getall("scope_teams", [])]
    rows = read_rows(data)
    if row_action(data, rows):  # "add another" or "remove": the form again, nothing saved
        return await _form_page(request, values, rows, None)
    deps = api(request)
    try:
        customer = await find_customer(request, values["customer"])
    except UiProblem as problem:
        return await _form_page(request, values, rows, problem, status=400)
    body: dict[str, Any] = {
        "customer": customer,
        "reason": values["reason"],
        "evidence_summary": values["evidence_summary"],
        "adjustments_considered": values["adjustments_considered"],
        "starts": _local(values["starts"], deps),
        "ends": _local(values["ends"], deps),
        "channels": values["channels"],
        "handling": values["handling"] or "deliver",
        "notify_customer": values["notify"] == "on",
        "limits": limits_body(rows),
        "call_windows": windows_body(rows),
        "scope": scope_body(
            values["scope_teams"], values["scope_addresses"], values["scope_numbers"]
        ),
        "dedicated_route": route_body(
            values["route_email"], values["route_phone"], values["route_otherwise"]
        ),
    }
    for key in ("id", "review_on", "named_officer", "call_time_limit"):
        if values[key]:
            body[key] = values[key]
    try:
        made = await call(request, request[USER], "POST", "/restrictions", body=body)
    except UiProblem as problem:
        return await _form_page(request, values, rows, problem, status=400)
    return redirect(f"{PREFIX}/restrictions/{made['id']}")


@page()
async def view(request: web.Request) -> web.StreamResponse:
    return await _view(request, None)


async def _view(request: web.Request, problem: UiProblem | None, status: int = 200) -> web.Response:
    user = request[USER]
    params = {"restriction_id": request.match_info["restriction_id"]}
    try:
        restriction = await call(
            request, user, "GET", "/restrictions/{restriction_id}", params=params
        )
    except UiProblem as missing:
        return render(request, "refused.html", status=missing.status, message=missing.message)
    moves = await call(
        request, user, "GET", "/restrictions/{restriction_id}/transitions", params=params, query=ALL
    )
    appeal_list = await call(
        request, user, "GET", "/restrictions/{restriction_id}/appeals", params=params, query=ALL
    )
    review_list = await call(
        request, user, "GET", "/restrictions/{restriction_id}/reviews", params=params, query=ALL
    )
    letter_list = await call(
        request, user, "GET", "/restrictions/{restriction_id}/letters", params=params, query=ALL
    )
    try:
        exception = await call(
            request, user, "GET", "/restrictions/{restriction_id}/notice-exception", params=params
        )
    except UiProblem:
        exception = None
    return render(
        request,
        "restriction.html",
        status=status,
        r=restriction,
        transitions=moves["items"],
        appeals=appeal_list["items"],
        reviews=review_list["items"],
        letters=letter_list["items"],
        exception=exception,
        letter_kinds=LETTER_KINDS,
        steps=STEPS.get(restriction["status"], ()),
        problem=problem,
        handling=HANDLING,
        today=api(request).today(),
    )


async def _act(
    request: web.Request, path: str, body: dict[str, Any], params: dict[str, str] | None = None
) -> web.StreamResponse:
    rid = request.match_info["restriction_id"]
    try:
        await call(
            request,
            request[USER],
            "POST",
            path,
            params=params or {"restriction_id": rid},
            body=body,
        )
    except UiProblem as problem:
        return await _view(
            request, problem, status=problem.status if problem.status != 422 else 400
        )
    return redirect(f"{PREFIX}/restrictions/{rid}")


@page(Permission.DECIDE)
async def step(request: web.Request) -> web.StreamResponse:
    """Authorise, reject, suspend, resume or revoke (the API decides who may)."""
    name = request.match_info["step"]
    if name not in ("authorise", "reject", "suspend", "resume", "revoke"):
        raise web.HTTPNotFound()
    body: dict[str, Any] = {"reason": text(request, "reason") or name}
    if name == "authorise" and text(request, "adjustment_justification"):
        body["adjustment_justification"] = text(request, "adjustment_justification")
    return await _act(request, f"/restrictions/{{restriction_id}}/{name}", body)


@page(Permission.DECIDE)
async def review(request: web.Request) -> web.StreamResponse:
    body: dict[str, Any] = {"outcome": text(request, "outcome"), "notes": text(request, "notes")}
    if text(request, "next_review_on"):
        body["next_review_on"] = text(request, "next_review_on")
    return await _act(request, "/restrictions/{restriction_id}/reviews", body)


@page(Permission.PROPOSE)
async def appeal(request: web.Request) -> web.StreamResponse:
    body: dict[str, Any] = {
        "lodged_on": text(request, "lodged_on"),
        "grounds": text(request, "grounds"),
    }
    if text(request, "late_reason"):
        body["late_reason"] = text(request, "late_reason")
    return await _act(request, "/restrictions/{restriction_id}/appeals", body)


@page(Permission.DECIDE)
async def appeal_decision(request: web.Request) -> web.StreamResponse:
    body = {"outcome": text(request, "outcome"), "reason": text(request, "reason")}
    return await _act(
        request,
        "/appeals/{appeal_id}/decision",
        body,
        params={"appeal_id": request.match_info["appeal_id"]},
    )


@page(Permission.PROPOSE)
async def send_letter(request: web.Request) -> web.StreamResponse:
    """Write a letter about this restriction: emailed now, or kept to print and post."""
    rid = request.match_info["restriction_id"]
    try:
        restriction = await call(
            request,
            request[USER],
            "GET",
            "/restrictions/{restriction_id}",
            params={"restriction_id": rid},
        )
    except UiProblem as missing:
        return render(request, "refused.html", status=missing.status, message=missing.message)
    body = {
        "kind": text(request, "kind"),
        "delivery": text(request, "delivery"),
        "restriction": rid,
    }
    return await _act(
        request,
        "/customers/{customer_id}/letters",
        body,
        params={"customer_id": restriction["customer"]},
    )


@page(Permission.PROPOSE)
async def letter_posted(request: web.Request) -> web.StreamResponse:
    return await _act(
        request,
        "/letters/{letter_id}/posted",
        {},
        params={"letter_id": request.match_info["letter_id"]},
    )


@page(Permission.PROPOSE)
async def ask_exception(request: web.Request) -> web.StreamResponse:
    body = {"reasons": text(request, "reasons")}
    return await _act(request, "/restrictions/{restriction_id}/notice-exception", body)


@page(Permission.DECIDE)
async def sign_off_exception(request: web.Request) -> web.StreamResponse:
    body = {"reason": text(request, "reason")}
    return await _act(request, "/restrictions/{restriction_id}/notice-exception/sign-off", body)


@page()
async def letter_pdf(request: web.Request) -> web.StreamResponse:
    """The stored PDF, to read or reprint (the API's own route, for the signed-in user)."""
    letter_id = request.match_info["letter_id"]
    if not letter_id.isdigit() or len(letter_id) > 18:
        raise web.HTTPNotFound()
    async with api(request).admin.reading("reading a letter") as conn:
        try:
            letter, pdf = await letter_pdf_of(conn, int(letter_id))
        except NotFound as missing:
            return render(request, "refused.html", status=404, message=str(missing))
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{letter["id"]}.pdf"'},
    )
