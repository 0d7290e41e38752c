"""Possible matches: unknown senders who look like a restricted customer, to confirm or
dismiss (through the API's own routes, so the rules and the audit are the API's)."""

from __future__ import annotations

from aiohttp import web

from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, page, redirect, render, text
from rules.roles import Permission

STATUSES = ("open", "confirmed", "dismissed", "any")
CLUES = {
    "display_name": "the name they wrote under",
    "signed_name": "signed with the customer's name",
    "phone_in_text": "the customer's phone number in the text",
    "email_in_text": "the customer's email address in the text",
    "same_text": "the same text the customer sent",
}


@page()
async def matches(request: web.Request) -> web.StreamResponse:
    return await _list(request)


async def _list(
    request: web.Request, problem: UiProblem | None = None, status: int = 200
) -> web.Response:
    shown = request.query.get("status", "open")
    shown = shown if shown in STATUSES else "open"
    found = await call(
        request, request[USER], "GET", "/matches", query={"status": shown, "limit": 200}
    )
    return render(
        request,
        "matches.html",
        status=status,
        items=found["items"],
        statuses=STATUSES,
        shown_status=shown,
        clues=CLUES,
        problem=problem,
    )


@page(Permission.EDIT_RECORDS)
async def decide(request: web.Request) -> web.StreamResponse:
    action = request.match_info["action"]
    if action not in ("confirm", "dismiss"):
        raise web.HTTPNotFound()
    note = text(request, "note")
    try:
        await call(
            request,
            request[USER],
            "POST",
            f"/matches/{{match_id}}/{action}",
            params={"match_id": request.match_info["match_id"]},
            body={"note": note} if note else {},
        )
    except UiProblem as problem:
        return await _list(request, problem, problem.status if problem.status != 422 else 400)
    return redirect(f"{PREFIX}/matches")
