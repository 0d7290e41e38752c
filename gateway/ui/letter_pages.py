"""Letters not yet sent (the ones kept to print and post, with a button to mark each
posted, and the draft restrictions that wait for their decision letter: the page the
reminder digest links to), and the warning letter written against a customer's
incidents. Writing and posting go through the API's own routes (its rules, its audit)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.store.casework.letters import letters_waiting, warnings_of
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, form, page, redirect, render, text
from rules.roles import Permission

ALL = {"limit": 500}


@page()
async def waiting(request: web.Request) -> web.StreamResponse:
    return await _waiting(request)


async def _waiting(
    request: web.Request, problem: UiProblem | None = None, status: int = 200
) -> web.Response:
    async with api(request).admin.reading("letters not yet sent") as conn:
        found = await letters_waiting(conn)
    return render(
        request,
        "letters.html",
        status=status,
        to_post=found["to_post"],
        awaiting=found["awaiting_letter"],
        problem=problem,
    )


@page(Permission.PROPOSE)
async def posted(request: web.Request) -> web.StreamResponse:
    """Mark a letter printed and posted, then back to the list."""
    try:
        await call(
            request,
            request[USER],
            "POST",
            "/letters/{letter_id}/posted",
            params={"letter_id": request.match_info["letter_id"]},
            body={},
        )
    except UiProblem as problem:
        return await _waiting(request, problem, problem.status if problem.status != 422 else 400)
    return redirect(f"{PREFIX}/letters")


@page(Permission.PROPOSE)
async def warning_form(request: web.Request) -> web.StreamResponse:
    """Write a warning letter naming the customer's incidents (the warning stage)."""
    return await _warning_form(request, request.match_info["customer_id"])


async def _warning_form(
    request: web.Request,
    customer_id: str,
    problem: UiProblem | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> web.Response:
    user = request[USER]
    params = {"customer_id": customer_id}
    try:
        person = await call(request, user, "GET", "/customers/{customer_id}", params=params)
    except UiProblem as missing:
        return render(request, "refused.html", status=missing.status, message=missing.message)
    found = await call(
        request, user, "GET", "/customers/{customer_id}/incidents", params=params, query=ALL
    )
    async with api(request).admin.reading("a customer's warnings") as conn:
        warnings = await warnings_of(conn, customer_id)
    covered = {i for w in warnings for i in w["incidents"]}
    chosen = (values or {}).get("incidents")
    if chosen is None:  # at first, every incident no earlier warning named
        chosen = {i["id"] for i in found["items"] if i["id"] not in covered}
    return render(
        request,
        "warning_form.html",
        status=status,
        customer=person,
        incidents=found["items"],
        covered=covered,
        chosen=chosen,
        values=values or {},
        problem=problem,
    )


@page(Permission.PROPOSE)
async def warning_send(request: web.Request) -> web.StreamResponse:
    customer_id = request.match_info["customer_id"]
    picked = [str(v) for v in form(request).getall("incident", [])]
    values: dict[str, Any] = {
        "incidents": {int(v) for v in picked if v.isdigit()},
        "behaviour": text(request, "behaviour"),
        "delivery": text(request, "delivery"),
    }
    body: dict[str, Any] = {
        "kind": "warning",
        "delivery": values["delivery"],
        "incidents": sorted(values["incidents"]),
    }
    if values["behaviour"]:
        body["behaviour"] = values["behaviour"]
    try:
        await call(
            request,
            request[USER],
            "POST",
            "/customers/{customer_id}/letters",
            params={"customer_id": customer_id},
            body=body,
        )
    except UiProblem as problem:
        code = problem.status if problem.status != 422 else 400
        return await _warning_form(request, customer_id, problem, code, values)
    return redirect(f"{PREFIX}/customers/{customer_id}#warning")
