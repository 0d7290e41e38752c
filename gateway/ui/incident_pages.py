"""Recording an unacceptable-behaviour incident from the web UI, for any customer.

The form is reached from the customer page, the held-contact page and the explain page,
each link prefilling what it knows (customer, channel, when, what was said); the form
posts to the API's ``POST /customers/{id}/incidents``, so the checks and the audit are
the API's own. A file chosen in the form is sent as the incident's attachment.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, form, page, redirect, render, text
from rules.casework import FlagCategory
from rules.roles import Permission

CHANNELS = ("email", "sms", "voice", "letter", "visit", "staff_mobile", "social_media", "in_person")
FIELDS = ("customer", "channel", "category", "at", "description", "people")


def _local_input(value: str, request: web.Request) -> str:
    """An instant from a link (ISO 8601) as the form's local ``datetime-local`` value."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if at.tzinfo is not None:
        at = at.astimezone(api(request).settings.zone)
    return at.strftime("%Y-%m-%dT%H:%M")


@page(Permission.RECORD_CONTACT)
async def new_form(request: web.Request) -> web.StreamResponse:
    values = {k: request.query.get(k, "")[:2000] for k in FIELDS}
    values["at"] = _local_input(values["at"], request) if values["at"] else ""
    return _render(request, values, None)


def _render(
    request: web.Request, values: dict[str, str], problem: UiProblem | None, status: int = 200
) -> web.StreamResponse:
    return render(
        request,
        "incident_form.html",
        status=status,
        values=values,
        problem=problem,
        channels=CHANNELS,
        categories=[c.value for c in FlagCategory],
    )


@page(Permission.RECORD_CONTACT)
async def record(request: web.Request) -> web.StreamResponse:
    values = {k: text(request, k) for k in FIELDS}
    body: dict[str, Any] = {
        "channel": values["channel"],
        "category": values["category"],
        "description": values["description"],
        "people": values["people"],
        "occurred_at": values["at"],
    }
    try:
        local = datetime.fromisoformat(values["at"])
        body["occurred_at"] = local.replace(tzinfo=api(request).settings.zone).isoformat()
    except ValueError:
        pass  # the API names the field
    upload = form(request).get("attachment")
    if isinstance(upload, FileField) and upload.filename:
        data = upload.file.read()
        if data:
            body["attachments"] = [
                {
                    "filename": upload.filename,
                    "content_type": upload.content_type or "application/octet-stream",
                    "content_base64": base64.b64encode(data).decode(),
                }
            ]
    try:
        await call(
            request,
            request[USER],
            "POST",
            "/customers/{customer_id}/incidents",
            params={"customer_id": values["customer"]},
            body=body,
        )
    except UiProblem as problem:
        return _render(request, values, problem, status=400 if problem.status == 422 else 404)
    return redirect(f"{PREFIX}/customers/{values['customer']}#incidents")
