"""The application factory: builds everything from Settings, starts and stops it cleanly.

No module-level state (STYLE §1): ``create_app(settings, clock=...)`` opens the store,
the counters and the contact service in the app's clean-up context and keeps them under
typed ``web.AppKey``s, so tests build as many independent gateways as they like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.api import setup_api
from gateway.clock import Clock, system_clock
from gateway.counters import InProcessCounter
from gateway.mail.lifecycle import add_mail
from gateway.service import ContactService
from gateway.settings import Settings
from gateway.store import Store, StoreError
from gateway.twilio_wiring import setup_twilio
from gateway.ui import setup_ui
from rules.policy_index import DecisionSettings

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", ContactService)


def decision_settings(settings: Settings) -> DecisionSettings:
    """The organisation-wide facts ``decide`` needs, from the gateway's settings."""
    return DecisionSettings(zone=settings.zone, emergency_number=settings.emergency_number or None)


async def open_service(settings: Settings, clock: Clock) -> tuple[Store, ContactService]:
    """Open the store (applying migrations) and a contact service with rebuilt counters."""
    store = await Store.open(settings.database.url, migrate=True)
    try:
        service = ContactService(store, InProcessCounter(), decision_settings(settings), clock)
        await service.rebuild_usage()
    except BaseException:
        await store.close()
        raise
    return store, service


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """Build the HTTP application (health now; channels and admin join in their modules)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store, service = await open_service(settings, clock)
        app[STORE] = store
        app[SERVICE] = service
        try:
            yield
        finally:
            await store.close()

    app.cleanup_ctx.append(lifecycle)
    setup_twilio(app, settings, clock, service_key=SERVICE, store_key=STORE)
    add_mail(app, settings, clock, store_key=STORE, service_key=SERVICE)
    setup_api(app, settings, clock, store_key=STORE, service_key=SERVICE)
    setup_ui(app, settings, clock)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store answers, so contact can be decided and recorded."""
    try:
        await request.app[STORE].ping()
    except StoreError as exc:
        return web.json_response(
            {"status": "unavailable", "database": f"unreachable: {exc}"}, status=503
        )
    return web.json_response({"status": "ok", "database": "ok"})
