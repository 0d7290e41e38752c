"""Signing in and out of the web UI.

A fresh session id is issued at every login (an id planted before login is never
honoured), the cookie is HttpOnly and SameSite=Strict (Secure over https), and the login
form has its own CSRF token (a double-submit cookie, since there is no session yet).
Failures are counted per user name and per client address in the database, so the limit
holds across processes and restarts. Behind a reverse proxy the client address is the one
the proxy forwards, if the proxy is listed in ``GATEWAY_HTTP_TRUSTED_PROXIES``
(:mod:`gateway.ui.client_address`): otherwise one client's failures would lock out everyone.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from aiohttp import web

from gateway.store.accounts.ui_sessions import (
    check_password,
    end_session,
    failures_since,
    forget_old,
    record_failure,
    start_session,
)
from gateway.store.engine import write_transaction
from gateway.ui.client_address import client_address, forwarded_but_untrusted
from gateway.ui.core import COOKIE, LOGIN_COOKIE, PREFIX, SESSION, UI, api, page, redirect, render

WINDOW = timedelta(minutes=15)
MAX_PER_NAME = 5
MAX_PER_ADDRESS = 30
LOGIN_NAME = web.RequestKey("ui_login_name", str)
LOG = logging.getLogger("gateway.ui")


def _next(raw: str) -> str:
    """Only a path inside the UI may follow a login (no open redirect)."""
    if raw.startswith(PREFIX) and not raw.startswith("//") and "\\" not in raw:
        return raw
    return PREFIX


def _login_form(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        message=message,
        next=_next(request.query.get("next", "")),
        name=request.get(LOGIN_NAME, ""),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.app[UI].secure_cookie(request),
        path=PREFIX,
        max_age=3600,
    )
    return response


async def login_get(request: web.Request) -> web.StreamResponse:
    return _login_form(request)


def _client(request: web.Request) -> str:
    """The client's address for the per-address limit: behind a trusted proxy, the one
    it forwarded (a proxy not in the list is named once in the log, since every client
    behind it would be counted as one and 30 failures would lock out them all)."""
    ui = request.app[UI]
    trusted = ui.settings.http.trusted_proxies
    if not ui.warned_untrusted_proxy and forwarded_but_untrusted(request, trusted):
        ui.warned_untrusted_proxy = True
        LOG.warning(
            "a sign-in came with X-Forwarded-For from %s, which is not in "
            "GATEWAY_HTTP_TRUSTED_PROXIES: the header is ignored and every client behind "
            "that proxy shares one sign-in limit; list the proxy if it is yours",
            request.remote,
        )
    return client_address(request, trusted)


async def login_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    request[LOGIN_NAME] = name
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("login_token", ""))
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _login_form(request, "The sign-in form had expired. Please try again.", status=403)
    ui = request.app[UI]
    now = ui.now()
    address = _client(request)
    keys = [f"name:{name.lower()}", f"address:{address}"]
    engine = api(request).admin.store.engine
    async with write_transaction(engine, "signing in") as conn:
        await forget_old(conn, now - ui.lifetime - WINDOW)
        by_name = await failures_since(conn, keys[0], now - WINDOW)
        by_address = await failures_since(conn, keys[1], now - WINDOW)
        if by_name >= MAX_PER_NAME or by_address >= MAX_PER_ADDRESS:
            return _login_form(
                request,
                "Too many unsuccessful sign-ins. Please wait 15 minutes and try again, "
                "or ask an administrator to check your account.",
                status=429,
            )
        user_name = await check_password(conn, name, password)
        if user_name is None:
            await record_failure(conn, keys, now)
            failed = True
        else:
            failed = False
            old = request.cookies.get(COOKIE)
            if old:
                await end_session(conn, old)
            session_id, _ = await start_session(conn, user_name, now, ui.lifetime)
    if failed:
        return _login_form(request, "The user name or password is not right.", status=401)
    response = redirect(_next(str(form.get("next", ""))))
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="Strict",
        secure=ui.secure_cookie(request),
        path=PREFIX,
        max_age=int(ui.lifetime.total_seconds()),
    )
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@page()
async def logout(request: web.Request) -> web.StreamResponse:
    session_id = request.cookies.get(COOKIE, "")
    async with write_transaction(api(request).admin.store.engine, "signing out") as conn:
        await end_session(conn, session_id)
    del request[SESSION]
    response = redirect(f"{PREFIX}/login")
    response.del_cookie(COOKIE, path=PREFIX)
    return response
