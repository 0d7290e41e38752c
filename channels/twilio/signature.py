"""Signature checking for every Twilio webhook, before anything else looks at it.

Twilio signs the URL it called plus the POSTed parameters with the account's auth
token (``X-Twilio-Signature``). The URL is rebuilt from GATEWAY_PUBLIC_URL and the raw
path and query of the request, never from what this process sees: behind a proxy or a
load balancer the scheme, host and port differ from what Twilio called, and trusting
``Host`` or ``X-Forwarded-*`` would let a caller choose the URL that is checked.

A missing or wrong signature is a security event: it is logged with where it came from
and answered ``403``, and nothing about it is recorded as contact. With no auth token
(or no public URL) every webhook is answered ``503`` saying which variable to set: a
gateway that cannot check signatures must not accept webhooks at all.

JSON bodies are signed differently: Twilio puts ``bodySHA256`` in the query and signs
the URL alone, so the body is checked through that hash (``RequestValidator`` does both).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from channels.twilio.ports import TwilioConfig

SIGNATURE_HEADER = "X-Twilio-Signature"
PARAMS = web.RequestKey("twilio_params", dict[str, str])

security_log = logging.getLogger("channels.twilio.security")


def signature_middleware(config: TwilioConfig) -> Middleware:
    """Middleware for the /twilio/ sub-application: 503 unconfigured, 403 unsigned."""
    refusal = config.refusal()
    validator = RequestValidator(config.auth_token) if refusal is None else None

    @web.middleware
    async def check_signature(request: web.Request, handler: Handler) -> web.StreamResponse:
        if validator is None:
            return web.Response(status=503, text=f"{refusal}\n")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return _refuse(request, "no X-Twilio-Signature header")
        url = config.public_url + request.raw_path
        try:
            body_or_form = await _read_body(request)
        except (ValueError, LookupError) as exc:  # bad multipart, bytes, or charset
            return web.Response(status=400, text=f"the request body cannot be read: {exc}\n")
        if isinstance(body_or_form, str):
            body = body_or_form
            if "bodySHA256" not in request.rel_url.query:
                return _refuse(request, "a JSON body without bodySHA256 in the URL")
            if not validator.validate(url, body, signature):
                return _refuse(request, "the signature does not match")
            params = _json_params(body)
            if params is None:
                return web.Response(status=400, text="the body is not a JSON object\n")
        else:
            # Twilio posts plain fields; a file part is never one of them (and would
            # make the validator fail), so only text fields are signed and passed on.
            fields: MultiDictProxy[Any] | MultiDict[str] = body_or_form
            if not all(isinstance(v, str) for v in body_or_form.values()):
                fields = MultiDict((k, v) for k, v in body_or_form.items() if isinstance(v, str))
            if not validator.validate(url, fields, signature):
                return _refuse(request, "the signature does not match")
            params = {key: value for key, value in fields.items()}  # the last of repeats
        request[PARAMS] = params
        return await handler(request)

    return check_signature


async def _read_body(request: web.Request) -> str | MultiDictProxy[Any]:
    """A JSON webhook's text, or a form webhook's fields."""
    if request.content_type == "application/json":
        return await request.text()
    return await request.post()


def _refuse(request: web.Request, why: str) -> web.Response:
    security_log.warning(
        "refused a Twilio webhook: %s (path %s, from %s, forwarded for %s, user agent %s)",
        why,
        request.path,
        request.remote,
        request.headers.get("X-Forwarded-For", "-"),
        request.headers.get("User-Agent", "-"),
    )
    return web.Response(status=403, text="forbidden: the Twilio signature is missing or wrong\n")


def _json_params(body: str) -> dict[str, str] | None:
    """A JSON webhook's fields as strings, the way form webhooks arrive."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, Mapping):
        return None
    return {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in data.items()
    }
