"""Dashboard, customers and the customer page (with the contact timeline)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.evidence.timeline import kind_of, per_day, render_svg
from gateway.store.admin_schema import appeals
from gateway.store.casework.letters import warnings_of
from gateway.store.schema import evidence
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, page, redirect, render, text
from rules.roles import Permission

ALL = {"limit": 500}


@page()
async def dashboard(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    active = await call(request, user, "GET", "/restrictions", query={**ALL, "status": "active"})
    overdue = await call(request, user, "GET", "/reviews/overdue", query=ALL)
    held = await call(request, user, "GET", "/held", query={**ALL, "status": "held"})
    consider = await call(request, user, "GET", "/consider-action")
    matches = await call(request, user, "GET", "/matches", query={**ALL, "status": "open"})
    today = api(request).today()
    due_soon = [
        r
        for r in active["items"]
        if r["review_on"]
        and not r["overdue_for_review"]
        and str(r["review_on"]) <= str(today + timedelta(days=14))
    ]
    week_ago = api(request).clock() - timedelta(days=7)
    async with api(request).admin.reading("the dashboard") as conn:
        open_appeals = (
            (await conn.execute(select(appeals).where(appeals.c.status == "open"))).mappings().all()
        )
        excess = (
            await conn.execute(
                select(evidence.c.customer_id, func.count())
                .where(evidence.c.hold_reason == "excess", evidence.c.occurred_at >= week_ago)
                .group_by(evidence.c.customer_id)
            )
        ).all()
    return render(
        request,
        "dashboard.html",
        active=active["items"],
        overdue=overdue["items"],
        due_soon=due_soon,
        held=held["items"],
        matches=matches["items"],
        appeals=[dict(a) for a in open_appeals],
        excess=[{"customer": c, "count": n} for c, n in excess],
        consider=consider,
    )


@page()
async def customers(request: web.Request) -> web.StreamResponse:
    search = request.query.get("search", "")[:200] or None
    found = await call(request, request[USER], "GET", "/customers", query={**ALL, "search": search})
    return render(
        request,
        "customers.html",
        customers=found["items"],
        search=search or "",
        problem=None,
        values={},
    )


def _lines(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", "\n").splitlines() if part.strip()]


@page(Permission.EDIT_RECORDS)
async def customer_create(request: web.Request) -> web.StreamResponse:
    values = {
        k: text(request, k)
        for k in ("id", "name", "emails", "phones", "rep_name", "rep_emails", "rep_phones")
    }
    body: dict[str, Any] = {
        "id": values["id"],
        "name": values["name"],
        "emails": _lines(values["emails"]),
        "phones": _lines(values["phones"]),
        "representatives": [],
    }
    if values["rep_name"]:
        body["representatives"] = [
            {
                "name": values["rep_name"],
                "emails": _lines(values["rep_emails"]),
                "phones": _lines(values["rep_phones"]),
            }
        ]
    try:
        await call(request, request[USER], "POST", "/customers", body=body)
    except UiProblem as problem:
        found = await call(request, request[USER], "GET", "/customers", query=ALL)
        return render(
            request,
            "customers.html",
            status=problem.status if problem.status != 422 else 400,
            customers=found["items"],
            search="",
            problem=problem,
            values=values,
        )
    return redirect(f"{PREFIX}/customers/{values['id']}")


@page()
async def customer(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    customer_id = request.match_info["customer_id"]
    params = {"customer_id": customer_id}
    try:
        person = await call(request, user, "GET", "/customers/{customer_id}", params=params)
    except UiProblem as problem:
        return render(request, "refused.html", status=problem.status, message=problem.message)
    flags = await call(
        request, user, "GET", "/customers/{customer_id}/flags", params=params, query=ALL
    )
    adjustments = await call(
        request, user, "GET", "/customers/{customer_id}/adjustments", params=params, query=ALL
    )
    incidents = await call(
        request, user, "GET", "/customers/{customer_id}/incidents", params=params, query=ALL
    )
    found = await call(
        request, user, "GET", "/restrictions", query={**ALL, "customer": customer_id}
    )
    restrictions = []
    for r in found["items"]:
        moves = await call(
            request,
            user,
            "GET",
            "/restrictions/{restriction_id}/transitions",
            params={"restriction_id": r["id"]},
            query=ALL,
        )
        restrictions.append({**r, "transitions": moves["items"]})
    reasons: dict[int, str] = {}
    if request.query.get("reasons") == "1":
        for flag in flags["items"]:
            try:
                shown = await call(
                    request,
                    user,
                    "GET",
                    "/flags/{flag_id}/reason",
                    params={"flag_id": str(flag["id"])},
                )
                reasons[flag["id"]] = shown["reason"]
            except UiProblem as problem:
                reasons[flag["id"]] = f"(not shown: {problem.message})"
    letters = await call(
        request, user, "GET", "/customers/{customer_id}/letters", params=params, query=ALL
    )
    async with api(request).admin.reading("a customer's warnings") as conn:
        warnings = await warnings_of(conn, customer_id)
    records = await api(request).admin.store.evidence_for_customer(customer_id)
    days = timeline_days(records, api(request))
    return render(
        request,
        "customer.html",
        customer=person,
        flags=flags["items"],
        reasons=reasons,
        adjustments=adjustments["items"],
        incidents=incidents["items"],
        restrictions=restrictions,
        letters=letters["items"],
        warnings=warnings,
        svg=render_svg(days, f"Contact per day from {person['name']}, by decision"),
        days=[d for d in days if d.total],
        records=records[-50:],
    )


def timeline_days(records: list[Any], deps: Any) -> list[Any]:
    contacts = [
        (r.occurred_at, kind_of(r.action, r.hold_reason, r.exemption))
        for r in records
        if r.kind == "contact"
    ]
    return per_day(contacts, deps.settings.zone, until=deps.today())
