"""Bearer-token authentication for everything under ``/api/``.

Every API path needs a valid token (401 otherwise, with ``WWW-Authenticate``), before
anything else is looked at, so an unauthenticated caller learns nothing, not even which
paths exist. Health, readiness, metrics and the channel webhooks are outside ``/api/``
and are not touched. Errors raised by aiohttp itself under ``/api/`` (an unknown path, a
wrong method) get the API's JSON error body too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.api.errors import ApiError, error_response
from gateway.api.framework import USER
from gateway.store.accounts.users import user_for_token
from gateway.store.casework.admin import AdminStore

_CHALLENGE = 'Bearer realm="contact-gateway"'
MAX_TOKEN = 512


def auth_middleware(
    admin: Callable[[web.Application], AdminStore],
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _unauthorised("send an API token: 'Authorization: Bearer <token>'")
        if len(token) > MAX_TOKEN:
            return _unauthorised("the API token is not valid", invalid=True)
        async with admin(request.app).reading("checking an API token") as conn:
            user = await user_for_token(conn, token)
        if user is None:
            return _unauthorised(
                "the API token is not valid (unknown, rotated or disabled)", invalid=True
            )
        request[USER] = user
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(ApiError(exc.status, _aiohttp_message(request, exc)))

    return middleware


def _aiohttp_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"there is no API endpoint {request.path}"
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
    return exc.reason


def _unauthorised(message: str, *, invalid: bool = False) -> web.Response:
    challenge = _CHALLENGE + (', error="invalid_token"' if invalid else "")
    return error_response(ApiError(401, message, headers={"WWW-Authenticate": challenge}))
