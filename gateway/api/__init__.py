"""The administration API under ``/api/v1`` (SPEC §6): one setup call for ``create_app``.

Resources live in small modules, each with its route table; the tables together are
registered here, guarded by the bearer-token middleware, and described by
``/api/v1/openapi.json``.

May use: ``held``, ``twilio``, ``mail``, ``evidence``, ``casework``, ``policy``,
``decisions``, ``counters``, ``spool``, ``store``, ``config``, ``ops``, ``common``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.api import (
    appeals_api,
    casework_api,
    evidence_api,
    exemptions_api,
    held_api,
    incidents_api,
    letters_api,
    matches_api,
    records_api,
    restrictions_api,
    teams_api,
    users_api,
)
from gateway.api.auth import auth_middleware
from gateway.api.deps import API, Api
from gateway.api.framework import Ctx, Reply, Route, wrap
from gateway.api.openapi import openapi_for
from gateway.api.restriction_views import sweep_lapsed
from gateway.common.background import Loop, every, running
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.letters.letter import check_letter_templates
from gateway.letters.service import Letters
from gateway.letters.templates import LetterTemplates
from gateway.store import Store, StoreError
from gateway.store.casework.admin import AdminStore
from rules.roles import Permission

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


async def openapi_json(ctx: Ctx) -> Reply:
    return Reply(ctx.request.app[OPENAPI])


OPENAPI = web.AppKey("openapi", dict[str, Any])

ROUTES: list[Route] = [
    Route(
        "GET",
        "/openapi.json",
        openapi_json,
        Permission.READ,
        "This document",
        "meta",
        response=dict[str, Any],
    ),
    *users_api.ROUTES,
    *records_api.ROUTES,
    *casework_api.ROUTES,
    *incidents_api.ROUTES,
    *restrictions_api.ROUTES,
    *appeals_api.ROUTES,
    *letters_api.ROUTES,
    *held_api.ROUTES,
    *evidence_api.ROUTES,
    *exemptions_api.ROUTES,
    *matches_api.ROUTES,
    *teams_api.ROUTES,
]


def setup_api(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    store_key: web.AppKey[Store],
    service_key: web.AppKey[ContactService],
) -> None:
    """Register the API's routes and middleware, and build its dependencies at start-up.

    The letter templates are checked here, as the app is built: a template that cannot
    render every letter stops the gateway starting (``TemplateProblem`` names the file
    and line)."""
    templates = LetterTemplates(settings.letter.templates)
    check_letter_templates(templates, settings.letter_org_name, settings.zone)

    async def api_lifecycle(app: web.Application) -> AsyncIterator[None]:
        api = Api(
            admin=AdminStore(app[store_key], clock),
            service=app[service_key],
            settings=settings,
            clock=clock,
            letters=Letters(AdminStore(app[store_key], clock), settings, templates, clock),
            app=app,
        )
        app[API] = api
        async with running(_sweeping(api), "lapse-sweep"):
            yield

    app.cleanup_ctx.append(api_lifecycle)
    app.middlewares.append(auth_middleware(lambda a: a[API].admin))
    app[OPENAPI] = openapi_for(tuple(ROUTES))
    for route in ROUTES:
        app.router.add_route(route.method, route.full_path, wrap(route))


def _sweeping(api: Api) -> Loop:
    """Record lapses at review even when nobody looks at the restrictions."""
    return every(
        lambda: SWEEP_SECONDS,
        lambda: sweep_lapsed(api),
        log=log,
        could_not="record lapsed restrictions",
        failing="recording lapsed restrictions",
        passing=(StoreError,),
    )
