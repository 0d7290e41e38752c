"""The API's one error table: domain exceptions in, HTTP statuses and JSON bodies out.

Every error body has the same shape, so an integration handles them in one place::

    {"error": {"status": 422, "title": "Unprocessable Content",
               "message": "...", "fields": [{"field": "body.channels[0]", "reason": "..."}]}}

``fields`` names each input at fault (``body.x``, ``query.limit``, ``path.id``) and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from gateway.store import (
    ContentAltered,
    HeldStateError,
    NotFound,
    PolicyConflict,
    StoreUnavailable,
)
from gateway.store.casework.admin import Conflict, Invalid
from rules.lifecycle import LifecycleError, NeedsJustification, NotPermitted, WrongState
from rules.models import format_loc


@dataclass
class FieldProblem:
    field: str
    reason: str


@dataclass
class ApiError(Exception):
    """An answer other than success, raised anywhere below a route."""

    status: int
    message: str
    fields: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {
        "status": error.status,
        "title": HTTPStatus(error.status).phrase,
        "message": error.message,
        "fields": [{"field": f.field, "reason": f.reason} for f in error.fields],
    }
    return web.json_response({"error": body}, status=error.status, headers=error.headers)


def validation_error(exc: ValidationError, where: str) -> ApiError:
    """A pydantic error as 422, one entry per field, located under ``where``."""
    problems = []
    for item in exc.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if isinstance(part, str | int))
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(FieldProblem(field=format_loc((where, *loc)), reason=message))
    summary = "; ".join(f"{p.field}: {p.reason}" for p in problems[:5])
    return ApiError(422, f"the request is not valid: {summary}", problems)


# (exception type, status) - the first match wins, so subclasses come first.
_TABLE: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (HeldStateError, 409),
    (PolicyConflict, 409),
    (ContentAltered, 409),  # stored content no longer matches its record: never served
    (NotPermitted, 403),
    (WrongState, 409),
    (NeedsJustification, 422),
    (LifecycleError, 422),
    (StoreUnavailable, 503),
)


def to_api_error(exc: Exception) -> ApiError | None:
    """The answer for a known exception; None for one that is a bug (answered 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ValidationError):
        return validation_error(exc, "body")
    if isinstance(exc, Invalid):
        return ApiError(422, str(exc), [FieldProblem(f"body.{exc.field}", str(exc))])
    for kind, status in _TABLE:
        if isinstance(exc, kind):
            fields = []
            name = getattr(exc, "field", None)
            if name:
                fields.append(FieldProblem(f"body.{name}", str(exc)))
            return ApiError(status, str(exc), fields)
    return None
