"""Explain ("what would happen if…"), evidence export and verification, the audit log,
and the committee reports."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.casework.reports import Quarter, build_report
from gateway.evidence.pack import build_pdf
from gateway.store import NotFound
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import USER, api, page, render, text
from rules.roles import Permission

CHANNELS = ("email", "sms", "voice", "letter", "visit", "staff_mobile", "social_media")


@page()
async def explain_form(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "explain.html",
        values={"channel": "email"},
        result=None,
        problem=None,
        channels=CHANNELS,
    )


@page()
async def explain(request: web.Request) -> web.StreamResponse:
    values = {k: text(request, k) for k in ("channel", "sender", "to", "at", "text")}
    body: dict[str, Any] = {
        "channel": values["channel"],
        "from": values["sender"],
        "to": values["to"],
        "text": values["text"],
    }
    if values["at"]:
        try:
            from datetime import datetime

            body["at"] = (
                datetime.fromisoformat(values["at"])
                .replace(tzinfo=api(request).settings.zone)
                .isoformat()
            )
        except ValueError:
            body["at"] = values["at"]
    try:
        result = await call(request, request[USER], "POST", "/explain", body=body)
        problem = None
    except UiProblem as refused:
        result, problem = None, refused
    return render(
        request,
        "explain.html",
        status=400 if problem else 200,
        values=values,
        result=result,
        problem=problem,
        channels=CHANNELS,
    )


@page()
async def evidence(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    customer = request.query.get("customer", "")[:64]
    verify = None
    if request.query.get("verify") == "1":
        verify = await call(request, user, "GET", "/evidence/verify")
    query: dict[str, Any] = {"limit": 100}
    if customer:
        query["customer"] = customer
    records = await call(request, user, "GET", "/evidence", query=query)
    return render(
        request, "evidence.html", customer=customer, verify=verify, records=records["items"]
    )


@page()
async def export(request: web.Request) -> web.StreamResponse:
    customer = request.query.get("customer", "")[:64]
    fmt = request.query.get("format", "pdf")
    deps = api(request)
    filename = f"evidence-{customer}.{fmt if fmt in ('csv', 'json', 'pdf') else 'txt'}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    try:
        if fmt == "pdf":
            data = await build_pdf(
                deps.admin,
                customer,
                zone=deps.settings.zone,
                today=deps.today(),
                now=deps.clock(),
                actor=request[USER].name,
                settings=deps.settings,
            )
            return web.Response(body=data, content_type="application/pdf", headers=disposition)
        answer = await call(
            request,
            request[USER],
            "GET",
            "/evidence/export",
            query={"customer": customer, "format": fmt},
        )
    except (UiProblem, NotFound) as problem:
        return render(request, "refused.html", status=404, message=str(problem))
    assert isinstance(answer, web.StreamResponse)
    answer.headers.update(disposition)
    return answer


@page(Permission.READ_AUDIT)
async def audit(request: web.Request) -> web.StreamResponse:
    offset = int(request.query["offset"]) if request.query.get("offset", "").isdigit() else 0
    found = await call(
        request, request[USER], "GET", "/audit", query={"limit": 50, "offset": offset}
    )
    verify = await call(request, request[USER], "GET", "/audit/verify")
    return render(
        request,
        "audit.html",
        items=found["items"],
        next_offset=found["next_offset"],
        offset=offset,
        verify=verify,
    )


@page()
async def reports(request: web.Request) -> web.StreamResponse:
    deps = api(request)
    try:
        quarter = (
            Quarter.parse(request.query.get("quarter", ""))
            if request.query.get("quarter")
            else Quarter.of(deps.today())
        )
    except ValueError as exc:
        return render(request, "refused.html", status=400, message=str(exc))
    nation = (await deps.org()).bank_holidays
    async with deps.admin.reading("building a report") as conn:
        report = await build_report(conn, quarter, deps.settings.zone, nation=nation)
    if request.query.get("format") == "csv":
        return web.Response(
            text=report.csv(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="report-{quarter}.csv"'},
        )
    return render(request, "reports.html", report=report, quarter=quarter)
