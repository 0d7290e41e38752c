"""Routes as data: each says its method, path, permission, body, query and response.

The same table registers the aiohttp handlers, checks roles, validates input and builds
``/api/v1/openapi.json``, so what is documented is what is enforced. A route handler
receives a :class:`Ctx` with the authenticated user and the validated body and query,
and returns a :class:`Reply` (or a ready response for CSV downloads).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gateway.api.deps import API
from gateway.api.errors import (
    ApiError,
    FieldProblem,
    error_response,
    to_api_error,
    validation_error,
)
from gateway.api.json_body import BodyProblem, parse_json
from gateway.store.accounts.users import User
from gateway.store.casework.admin import etag
from rules.roles import Permission, allowed, roles_with

LOG = logging.getLogger("gateway.api")
PREFIX = "/api/v1"
DEFAULT_MAX_BODY = 64 * 1024
USER = web.RequestKey("api_user", User)

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Request bodies: unknown fields are mistakes worth reporting, not ignoring."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageQuery(BaseModel):
    """Every list is paged: ``limit`` items from ``offset``."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next_offset`` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def page(items: Sequence[Any], query: PageQuery) -> dict[str, Any]:
    """A page from ``items`` fetched with ``limit + 1`` (the extra one says "more")."""
    more = len(items) > query.limit
    return {
        "items": list(items[: query.limit]),
        "limit": query.limit,
        "offset": query.offset,
        "next_offset": query.offset + query.limit if more else None,
    }


@dataclass
class Reply:
    """A JSON answer; ``etag`` is sent as the ETag header (for a later ``If-Match``)."""

    body: Any
    status: int = 200
    etag: str | None = None


@dataclass
class Ctx:
    """What a handler needs: the request, who is asking, and the validated input."""

    request: web.Request
    user: User
    body: Any
    query: Any

    @property
    def if_match(self) -> str | None:
        return self.request.headers.get("If-Match")

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    def path_int(self, name: str, what: str) -> int:
        raw = self.request.match_info[name]
        if not raw.isdigit() or len(raw) > 18:
            raise ApiError(404, f"there is no {what} '{raw}'")
        return int(raw)


Handler = Callable[[Ctx], Awaitable[Reply | web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One API operation, and everything the docs say about it."""

    method: str
    path: str
    handler: Handler
    permission: Permission
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model type (or Page[...]); None: no body
    status: int = 200
    max_body: int = DEFAULT_MAX_BODY
    if_match: bool = False
    downloads: tuple[str, ...] = field(default_factory=tuple)  # other media types

    @property
    def full_path(self) -> str:
        return PREFIX + self.path


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def respond(model: Any, data: Any) -> Any:
    """Pass ``data`` through the response model, so the answer is exactly as documented."""
    adapter = _adapter(model)
    return adapter.dump_python(adapter.validate_python(data), mode="json")


async def read_body(request: web.Request, limit: int) -> Any:
    """The JSON body, refusing oversized, non-JSON and malformed input with a reason (the
    reading itself, and the shapes it refuses, are in :mod:`gateway.api.json_body`)."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    media = request.content_type
    json_like = media in ("application/json", "application/octet-stream") or media.endswith("+json")
    if request.body_exists and not json_like:
        raise ApiError(415, f"send the body as application/json, not {media}")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit)
    if not raw.strip():
        raise ApiError(400, "this request needs a JSON body", [_body_problem("missing")])
    try:
        return parse_json(bytes(raw))
    except BodyProblem as exc:
        raise ApiError(400, exc.message, [FieldProblem(exc.where, exc.message)]) from None


def _body_problem(reason: str) -> FieldProblem:
    return FieldProblem("body", reason)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the body is larger than this endpoint accepts ({limit} bytes at most)")


def _query(request: web.Request, model: type[BaseModel] | None) -> Any:
    if model is None:
        return None
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_error(exc, "query") from None


def region_context(request: web.Request) -> dict[str, str]:
    """Phone numbers without a country code are read in the organisation's region."""
    return {"region": request.app[API].settings.default_region}


def wrap(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler for ``route``: role check, input, handler, errors."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            user = request[USER]
            if not allowed(user.role, route.permission):
                roles = ", ".join(r.value for r in roles_with(route.permission))
                raise ApiError(
                    403,
                    f"a user with role '{user.role.value}' cannot do this: it needs the "
                    f"'{route.permission.value}' permission (roles: {roles})",
                )
            query = _query(request, route.query)
            body = None
            if route.body is not None:
                data = await read_body(request, route.max_body)
                try:
                    body = route.body.model_validate(data, context=region_context(request))
                except ValidationError as exc:
                    raise validation_error(exc, "body") from None
            result = await route.handler(Ctx(request, user, body, query))
        except Exception as exc:
            error = to_api_error(exc)
            if error is None:
                LOG.exception("unexpected error in %s %s", route.method, route.full_path)
                error = ApiError(500, "the gateway failed to do this; the error has been logged")
            return error_response(error)
        if isinstance(result, web.StreamResponse):
            return result
        if route.response is None:
            return web.Response(status=204)
        headers = {"ETag": result.etag} if result.etag else {}
        return web.json_response(
            respond(route.response, result.body), status=result.status, headers=headers
        )

    return handle


def with_etag(body: Any, status: int = 200) -> Reply:
    return Reply(body=body, status=status, etag=etag(body))
