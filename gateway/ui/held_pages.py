"""The held-contact queue: read a held email, SMS or voicemail reference, then release it
or mark it read with a note (saying, if so, that it raises a new matter or is urgent,
which sends it on instead). Each item shows how long it has waited in working days, and
the queue can show only the overdue ones. Reading the content is audited by the API
route it uses."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

from aiohttp import web

from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, page, redirect, render, text
from rules.roles import Permission

STATUSES = ("held", "released", "reviewed")
# What a reader may say an item raises, as the review form offers it (API: ``raises``).
RAISES = (
    ("new_matter", "A new matter"),
    ("safeguarding", "Safeguarding"),
    ("emergency_repair", "An emergency repair"),
    ("subject_access_request", "A subject access request"),
    ("appeal", "An appeal"),
    ("complaint", "A complaint"),
)


@page()
async def queue(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "held")
    query: dict[str, Any] = {"limit": 200, "status": status if status in STATUSES else None}
    for key in ("customer", "channel"):
        if request.query.get(key):
            query[key] = request.query[key][:64]
    overdue = request.query.get("overdue") == "1"
    if overdue:
        query["overdue"] = True
    try:
        found = await call(request, request[USER], "GET", "/held", query=query)
    except UiProblem as problem:
        return render(request, "refused.html", status=400, message=problem.message)
    return render(
        request,
        "held_list.html",
        items=found["items"],
        shown_status=status,
        statuses=STATUSES,
        channel=query.get("channel", ""),
        customer=query.get("customer", ""),
        overdue=overdue,
    )


def readable(content: dict[str, Any], channel: str) -> dict[str, Any]:
    """The stored bytes as a person reads them: an email's headers and text body."""
    raw = content.get("text")
    if channel != "email" or raw is None:
        return {
            "headers": [],
            "body": raw if raw is not None else f"(binary content, {content['size']} bytes)",
        }
    message = BytesParser(policy=policy.default).parsebytes(raw.encode("utf-8", "replace"))
    headers = [
        (name, str(message.get(name, "")))
        for name in ("From", "To", "Date", "Subject")
        if message.get(name)
    ]
    part = message.get_body(preferencelist=("plain", "html"))
    try:
        body = part.get_content() if part is not None else ""
    except (LookupError, ValueError):
        body = raw
    return {"headers": headers, "body": body}


@page()
async def item(request: web.Request) -> web.StreamResponse:
    return await _item(request, None)


async def _item(
    request: web.Request, problem: UiProblem | None, status: int = 200
) -> web.StreamResponse:
    user = request[USER]
    params = {"held_id": request.match_info["held_id"]}
    try:
        held = await call(request, user, "GET", "/held/{held_id}", params=params)
    except UiProblem as missing:
        return render(request, "refused.html", status=missing.status, message=missing.message)
    shown = None
    if request.query.get("read") == "1":
        try:
            content = await call(request, user, "GET", "/held/{held_id}/content", params=params)
            shown = readable(content, held["channel"])
        except UiProblem as refused:  # e.g. a viewer following a link: say so, not a 500
            problem, status = refused, refused.status
    return render(
        request,
        "held_item.html",
        status=status,
        held=held,
        shown=shown,
        problem=problem,
        raises=RAISES,
    )


async def _resolve(request: web.Request, action: str) -> web.StreamResponse:
    note = text(request, "note")
    body: dict[str, Any] = {"note": note} if note or action == "review" else {}
    raises = text(request, "raises")
    if action == "review" and raises:
        body["raises"] = raises  # the API refuses a kind it does not know (422)
    try:
        await call(
            request,
            request[USER],
            "POST",
            f"/held/{{held_id}}/{action}",
            params={"held_id": request.match_info["held_id"]},
            body=body,
        )
    except UiProblem as problem:
        return await _item(
            request, problem, status=problem.status if problem.status != 422 else 400
        )
    return redirect(f"{PREFIX}/held/{request.match_info['held_id']}")


@page(Permission.MANAGE_HELD)
async def release(request: web.Request) -> web.StreamResponse:
    return await _resolve(request, "release")


@page(Permission.MANAGE_HELD)
async def reviewed(request: web.Request) -> web.StreamResponse:
    return await _resolve(request, "review")
