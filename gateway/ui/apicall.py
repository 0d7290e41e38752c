"""The web UI calls the administration API in-process, through the API's own route table.

Each page action names an API route (method and path) and hands it the fields of its
form. The route's permission, input model, handler and error table are the API's own, so
the UI enforces exactly the rules the API does: none is written twice, and a rule the
API engineer changes changes here too. Errors come back as :class:`UiProblem` in plain
language, field by field, for the form to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from gateway.api import ROUTES
from gateway.api.errors import ApiError, to_api_error, validation_error
from gateway.api.framework import Ctx, Reply, Route, region_context, respond
from gateway.store.accounts.users import User
from rules.roles import Permission, allowed

_BY_KEY: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}


@dataclass
class UiProblem(Exception):
    """Why an action was refused: a status, a sentence, and messages per form field."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass
class _UiCtx(Ctx):
    """A :class:`Ctx` whose path parameters come from the UI, not from the URL."""

    params: dict[str, str] = field(default_factory=dict)
    etag: str | None = None

    @property
    def if_match(self) -> str | None:
        return self.etag

    def path(self, name: str) -> str:
        return self.params[name]

    def path_int(self, name: str, what: str) -> int:
        raw = self.params[name]
        if not raw.isdigit() or len(raw) > 18:
            raise ApiError(404, f"there is no {what} '{raw}'")
        return int(raw)


def route(method: str, path: str) -> Route:
    """The API route ``method path`` (a path as written in the route table)."""
    return _BY_KEY[(method, path)]


def may(user: User, method: str, path: str) -> bool:
    """May ``user`` use this route? (Pages show only the buttons that would work.)"""
    return allowed(user.role, route(method, path).permission)


def may_do(user: User, permission: Permission) -> bool:
    return allowed(user.role, permission)


async def call(
    request: web.Request,
    user: User,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    if_match: str | None = None,
) -> Any:
    """Run the API route as ``user``; its JSON answer (or the raw response for files).

    ``if_match`` is what an API client sends as ``If-Match``: a route that checks it
    refuses (409) a change made against an older copy than the one stored.
    """
    answer, _ = await call_with_etag(
        request, user, method, path, params=params, body=body, query=query, if_match=if_match
    )
    return answer


async def call_with_etag(
    request: web.Request,
    user: User,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    if_match: str | None = None,
) -> tuple[Any, str | None]:
    """:func:`call`, and the ETag the API sends with the answer (None if it sends none),
    for a form to hand back as ``if_match`` when it is saved."""
    api_route = route(method, path)
    try:
        if not allowed(user.role, api_route.permission):
            raise ApiError(403, f"your role ({user.role.value}) does not allow this")
        parsed_query = None
        if api_route.query is not None:
            try:
                parsed_query = api_route.query.model_validate(query or {})
            except ValidationError as exc:
                raise validation_error(exc, "query") from None
        parsed_body = None
        if api_route.body is not None:
            try:
                parsed_body = api_route.body.model_validate(
                    body or {}, context=region_context(request)
                )
            except ValidationError as exc:
                raise validation_error(exc, "body") from None
        ctx = _UiCtx(
            request, user, parsed_body, parsed_query, params=dict(params or {}), etag=if_match
        )
        result = await api_route.handler(ctx)
    except Exception as exc:
        error = to_api_error(exc)
        if error is None:
            raise
        raise _plain(error) from None
    if isinstance(result, web.StreamResponse):
        return result, None
    assert isinstance(result, Reply)
    if api_route.response is None:
        return None, None
    return respond(api_route.response, result.body), result.etag


def body_problems(
    request: web.Request, method: str, path: str, body: dict[str, Any]
) -> dict[str, str]:
    """What the route's own input model finds wrong with ``body``, field by field, as
    :func:`call` would report them; nothing is run. A form that found problems of its own
    names these beside them, so one answer lists every problem."""
    model = route(method, path).body
    if model is None:
        return {}
    try:
        model.model_validate(body, context=region_context(request))
    except ValidationError as exc:
        return _plain(validation_error(exc, "body")).fields
    return {}


def _plain(error: ApiError) -> UiProblem:
    """The API's error, reworded for a form: field names without ``body.``."""
    fields: dict[str, str] = {}
    for problem in error.fields:
        name = problem.field.removeprefix("body.").removeprefix("query.")
        fields.setdefault(name, _sentence(problem.reason))
    message = _sentence(error.message.removeprefix("the request is not valid: "))
    if error.status == 422 and fields:
        message = "Some answers need changing: see the messages beside them."
    return UiProblem(error.status, message, fields)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text
