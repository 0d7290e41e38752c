"""What every page stands on: templates, the signed-in user, CSRF, and security headers.

A page handler is wrapped by :func:`page`, which finds the session from its cookie,
refuses a POST whose CSRF token is not the session's, and refuses a user whose role
lacks the permission — before the handler runs, so no handler can forget to.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from gateway.api.deps import API, Api
from gateway.common.clock import Clock
from gateway.common.compiled_templates import CompiledTemplates
from gateway.common.plurals import noun
from gateway.config.settings import Settings
from gateway.store.accounts.ui_sessions import Session, find_session, touch_session
from gateway.store.accounts.users import User, get_user
from gateway.store.engine import write_transaction
from gateway.ui.apicall import may, may_do
from gateway.ui.limit_words import limit_words
from rules.roles import Permission

COOKIE = "cgw_session"
LOGIN_COOKIE = "cgw_login"
PREFIX = "/admin"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Ui:
    """The UI's dependencies, built once by ``setup_ui``."""

    settings: Settings
    clock: Clock
    templates: jinja2.Environment
    lifetime: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(minutes=30)
    warned_untrusted_proxy: bool = False

    def now(self) -> datetime:
        return self.clock()

    def secure_cookie(self, request: web.Request) -> bool:
        return request.secure or self.settings.public_url.startswith("https://")


UI = web.AppKey("ui", Ui)
USER = web.RequestKey("ui_user", User)
SESSION = web.RequestKey("ui_session", Session)
FORM = web.RequestKey("ui_form", MultiDictProxy[Any])


# The pages compiled once per process, for every gateway's environment (all alike).
_COMPILED = CompiledTemplates()


def templates() -> jinja2.Environment:
    """Jinja2 with autoescaping on for every template (script in data renders inert)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.ui", "templates"),
        bytecode_cache=_COMPILED,
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["words"] = _words
    env.filters["limit_words"] = limit_words  # "at most 5 emails a week"
    env.filters["noun"] = noun  # {{ n|noun("held contact") }}: "1 held contact", "2 held contacts"
    return env


def _when(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return str(value.strftime("%d %b %Y %H:%M"))
    return str(value)


def _words(value: Any) -> str:
    """An enum value in plain words for people: ``read_and_file`` -> ``read and file``."""
    return "" if value is None else str(value).replace("_", " ")


def api(request: web.Request) -> Api:
    return request.app[API]


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    ui = request.app[UI]
    user = request.get(USER)
    session = request.get(SESSION)
    text = ui.templates.get_template(template).render(
        user=user,
        csrf=session.csrf_token if session else "",
        path=request.path,
        may=(lambda m, p: may(user, m, p)) if user else (lambda m, p: False),
        can=(lambda perm: may_do(user, Permission(perm))) if user else (lambda perm: False),
        **context,
    )
    return web.Response(text=text, content_type="text/html", status=status)


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "refused.html", status=status, message=message)


def redirect(location: str) -> web.Response:
    """See Other: after a POST the browser fetches the result page with GET."""
    return web.Response(status=303, headers={"Location": location})


async def current_session(request: web.Request) -> tuple[User, Session] | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id or len(session_id) > 200:
        return None
    ui = request.app[UI]
    admin = api(request).admin
    now = ui.now()
    async with admin.reading("checking a sign-in") as conn:
        session = await find_session(conn, session_id, now, ui.idle)
        if session is None:
            return None
        user = await get_user(conn, session.user_name)
    async with write_transaction(admin.store.engine, "keeping a sign-in alive") as conn:
        await touch_session(conn, session_id, now)
    return user, session


def page(permission: Permission = Permission.READ) -> Callable[[Handler], Handler]:
    """Sign-in, CSRF (on every POST) and role checks around a page handler."""

    def wrap(handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            found = await current_session(request)
            if found is None:
                if request.method == "GET":
                    return redirect(f"{PREFIX}/login?next={quote(request.path_qs, safe='')}")
                return refuse(request, 403, "You are not signed in (or your session ended).")
            request[USER], request[SESSION] = found
            if request.method == "POST":
                form = await request.post()
                token = str(form.get("csrf_token", ""))
                if not hmac.compare_digest(token.encode(), found[1].csrf_token.encode()):
                    return refuse(
                        request,
                        403,
                        "This form could not be accepted because it did not come from a page "
                        "of this site in your session. Go back, reload the page and try again.",
                    )
                request[FORM] = form
            if not may_do(found[0], permission):
                return refuse(
                    request, 403, f"Your role ({found[0].role.value}) does not allow this."
                )
            return await handler(request)

        handle.__name__ = handler.__name__
        handle.__doc__ = handler.__doc__
        return handle

    return wrap


def form(request: web.Request) -> MultiDictProxy[Any]:
    return request[FORM]


def text(request: web.Request, name: str) -> str:
    return str(form(request).get(name, "")).strip()


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers that keep UI pages out of frames, caches and inline script."""
    response = await handler(request)
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith(PREFIX + "/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response
