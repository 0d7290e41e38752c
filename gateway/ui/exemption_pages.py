"""Exemptions: check a message for what always gets through, see the protected routes and
the organisation's phrase changes in force, and (administrators) change both.

Every action is the API's own route (``/exemptions/...``), so the checks, the role table
and the audit entries are the API's. The page adds only words for people: a class and a
route by name, and every problem with the phrases listed with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.config.exemption_phrases import PhraseFileError, read_phrases
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, form, page, redirect, render, text
from rules.exemptions import READER_NAMES
from rules.protected import ExemptClass, RouteName
from rules.roles import Permission

CLASS_WORDS = {
    ExemptClass.SAFEGUARDING: "Safeguarding",
    ExemptClass.EMERGENCY_REPAIR: "Emergency repair",
    ExemptClass.SUBJECT_ACCESS_REQUEST: "A request for one's own data (subject access)",
    ExemptClass.APPEAL: "An appeal against the restriction",
    ExemptClass.COMPLAINT: "A complaint",
}
ROUTE_WORDS = {
    RouteName.EMERGENCY_REPAIRS: "Emergency repairs",
    RouteName.SAFEGUARDING: "Safeguarding",
    RouteName.DATA_PROTECTION: "Data protection (requests for one's own data)",
    RouteName.APPEALS: "Appeals",
    RouteName.COMPLAINTS: "Complaints",
    RouteName.HEAD_OF_SERVICE: "Head of service",
    RouteName.OTHER: "Other",
}
CHANGED = {
    "routes": "The protected routes were changed.",
    "phrases": "The exemption phrases were changed.",
}


@dataclass
class Shown:
    """What the page shows besides what is in force: a check, and the admin forms' input."""

    check_text: str = ""
    result: dict[str, Any] | None = None
    check_problem: UiProblem | None = None
    routes_values: dict[str, str] | None = None
    routes_problem: UiProblem | None = None
    phrases_value: str | None = None
    phrase_problems: list[str] = field(default_factory=list)
    changed: str = ""


async def _page(request: web.Request, shown: Shown, status: int = 200) -> web.Response:
    user = request[USER]
    routes = await call(request, user, "GET", "/exemptions/routes")
    phrases = await call(request, user, "GET", "/exemptions/phrases")
    stored: dict[str, str] = routes["stored"]
    result = shown.result
    return render(
        request,
        "exemptions.html",
        status=status,
        shown=shown,
        check_class=CLASS_WORDS.get(result["exempt_class"]) if result else None,
        reader_names=READER_NAMES,
        route_rows=[
            {
                "name": name.value,
                "label": label,
                "in_force": routes["routes"].get(name.value, []),
                "stored": name.value in stored,
                "variable": f"GATEWAY_PROTECTED_{name.value.upper()}",
            }
            for name, label in ROUTE_WORDS.items()
        ],
        routes_values=(
            shown.routes_values
            if shown.routes_values is not None
            else {name.value: stored.get(name.value, "") for name in RouteName}
        ),
        phrases=phrases,
        phrases_file=api(request).settings.exemption_phrases,
        phrases_value=shown.phrases_value if shown.phrases_value is not None else phrases["yaml"],
        changed=CHANGED.get(shown.changed, ""),
    )


@page()
async def view(request: web.Request) -> web.StreamResponse:
    return await _page(request, Shown(changed=request.query.get("changed", "")))


@page()
async def check(request: web.Request) -> web.StreamResponse:
    """Which class a message falls in, and on which words (nothing is stored)."""
    # Kept as typed: only surrounding blank lines are trimmed, as text() trims every field.
    shown = Shown(check_text=text(request, "text"))
    try:
        shown.result = await call(
            request, request[USER], "POST", "/exemptions/check", body={"text": shown.check_text}
        )
    except UiProblem as problem:
        shown.check_problem = problem
    return await _page(request, shown, status=400 if shown.check_problem else 200)


@page(Permission.MANAGE_SETTINGS)
async def set_routes(request: web.Request) -> web.StreamResponse:
    """Each filled field replaces the GATEWAY_PROTECTED_* route of its name; an empty one
    leaves that route to the gateway's settings."""
    values = {name.value: text(request, f"route_{name.value}") for name in RouteName}
    body = {"routes": {name: value for name, value in values.items() if value}}
    try:
        await call(request, request[USER], "PUT", "/exemptions/routes", body=body)
    except UiProblem as problem:
        shown = Shown(routes_values=values, routes_problem=problem)
        return await _page(request, shown, status=400 if problem.status == 422 else problem.status)
    return redirect(f"{PREFIX}/exemptions?changed=routes#routes")


@page(Permission.MANAGE_SETTINGS)
async def set_phrases(request: web.Request) -> web.StreamResponse:
    """Replace the organisation's phrase changes; checked whole, so a bad line changes nothing."""
    yaml_text = str(form(request).get("yaml", ""))
    try:
        await call(request, request[USER], "PUT", "/exemptions/phrases", body={"yaml": yaml_text})
    except UiProblem as problem:
        shown = Shown(phrases_value=yaml_text, phrase_problems=_every_problem(problem, yaml_text))
        return await _page(request, shown, status=400 if problem.status == 422 else problem.status)
    return redirect(f"{PREFIX}/exemptions?changed=phrases#phrases")


def _every_problem(problem: UiProblem, yaml_text: str) -> list[str]:
    """Every problem with the YAML, each starting with its line.

    The API refused it and names every problem, but a form shows one message per field;
    the YAML is one field, so the list comes from the same check the API ran.
    """
    if "yaml" in problem.fields:
        try:
            read_phrases(yaml_text, "the phrases")
        except PhraseFileError as exc:
            return list(exc.problems)
    return [problem.fields.get("yaml") or problem.message]
