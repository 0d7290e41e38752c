"""The restriction form in an officer's words, read into the API's restriction body.

A limit is "at most 5 emails a week", not ``per: P7D``; a restriction may have several
limits and several call windows, added and removed with buttons that post the form back
(no script: it works in any browser and with any assistive technology); the customer is
picked by name, email or phone; the scope and the dedicated route are fields of their
own. What is posted becomes exactly the body the API and the policy file take, so a
restriction made here equals the one the same words would make in a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import USER

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_ROWS = 20  # limits or call windows on one restriction: far more than any policy sets
_ROW = re.compile(r"^(add|remove)_(limit|window)(?:-(\d+))?$")


@dataclass
class Rows:
    """The repeated parts of the form as typed: limits and call windows."""

    limits: list[dict[str, str]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)


def blank_limit() -> dict[str, str]:
    return {"max": "", "channel": "email", "per": "P7D"}


def blank_window() -> dict[str, Any]:
    return {"days": [], "start": "", "end": ""}


def read_rows(data: MultiDictProxy[Any]) -> Rows:
    """Every limit and call window row posted, in order (blank ones included)."""
    rows = Rows()
    for i in range(MAX_ROWS):
        if f"limit-{i}-max" in data:
            rows.limits.append(
                {
                    "max": str(data.get(f"limit-{i}-max", "")).strip(),
                    "channel": str(data.get(f"limit-{i}-channel", "any")),
                    "per": str(data.get(f"limit-{i}-per", "P7D")),
                }
            )
        if f"window-{i}-start" in data:
            rows.windows.append(
                {
                    "days": [d for d in data.getall(f"window-{i}-days", []) if d in DAYS],
                    "start": str(data.get(f"window-{i}-start", "")).strip(),
                    "end": str(data.get(f"window-{i}-end", "")).strip(),
                }
            )
    return rows


def row_action(data: MultiDictProxy[Any], rows: Rows) -> bool:
    """Apply an "add" or "remove" button, if that is what was pressed (True then)."""
    match = _ROW.match(str(data.get("action", "")))
    if match is None:
        return False
    verb, kind, position = match.groups()
    found = rows.limits if kind == "limit" else rows.windows
    if verb == "add" and len(found) < MAX_ROWS:
        found.append(blank_limit() if kind == "limit" else blank_window())
    elif verb == "remove" and position is not None and int(position) < len(found):
        del found[int(position)]
    return True


def limits_body(rows: Rows) -> list[dict[str, str]]:
    """The limits as the API takes them; a row with no number is an unused row."""
    return [
        {"channel": row["channel"] or "any", "max": row["max"], "per": row["per"] or "P7D"}
        for row in rows.limits
        if row["max"]
    ]


def windows_body(rows: Rows) -> list[dict[str, Any]]:
    """The call windows as the API takes them; a row with nothing in it is unused."""
    return [
        {"days": row["days"], "start": row["start"], "end": row["end"]}
        for row in rows.windows
        if row["days"] or row["start"] or row["end"]
    ]


def listed(text: str) -> list[str]:
    """Addresses or numbers typed one a line or separated by commas."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def scope_body(teams: list[str], addresses: str, numbers: str) -> dict[str, Any] | None:
    if not teams and not listed(addresses) and not listed(numbers):
        return None
    return {"teams": teams, "addresses": listed(addresses), "numbers": listed(numbers)}


def route_body(email: str, phone: str, otherwise: str) -> dict[str, Any] | None:
    if not email and not phone:
        return None
    body: dict[str, Any] = {"otherwise": otherwise or "redirect"}
    if email:
        body["email"] = email
    if phone:
        body["phone"] = phone
    return body


async def find_customer(request: web.Request, typed: str) -> str:
    """The id of the one customer ``typed`` names: by email or phone (their own, not a
    representative's), else by name or id. Refused, naming the field, when it names
    nobody or several people."""
    user = request[USER]
    if not typed:
        raise UiProblem(422, "Say who the restriction is for.", {"customer": "Type a name."})
    if "@" in typed or re.fullmatch(r"[\d\s()+-]{6,}", typed):
        try:
            found = await call(request, user, "GET", "/identities/{value}", params={"value": typed})
        except UiProblem:
            found = {"matches": []}
        own = sorted({m["customer"] for m in found["matches"] if m["representative"] is None})
        return _one(typed, own, "email address or phone number")
    page = await call(request, user, "GET", "/customers", query={"search": typed, "limit": 50})
    people = page["items"]
    exact = [p for p in people if typed.casefold() in (p["name"].casefold(), p["id"].casefold())]
    chosen = exact or people
    return _one(typed, [p["id"] for p in chosen], "name", people=chosen)


def _one(typed: str, ids: list[str], kind: str, people: list[dict[str, Any]] | None = None) -> str:
    if len(ids) == 1:
        return ids[0]
    if not ids:
        reason = f"No customer has the {kind} '{typed}'."
    else:
        names = ", ".join(f"{p['name']} ({p['id']})" for p in (people or [])) or ", ".join(ids)
        reason = (
            f"Several customers match '{typed}': {names}. Type their email address or "
            "phone number instead."
        )
    raise UiProblem(422, "The customer could not be found.", {"customer": reason})
