"""The application factory: builds everything from Settings, starts and stops it cleanly.

No module-level state (STYLE §1): ``create_app(settings, clock=...)`` opens the store,
the counters and the contact service in the app's clean-up context and keeps them under
typed ``web.AppKey``s, so tests build as many independent gateways as they like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from gateway.api import setup_api
from gateway.common.clock import Clock, system_clock
from gateway.config.exemption_phrases import load_classifier
from gateway.config.settings import Settings
from gateway.counters.in_process import InProcessCounter, UsageCounter
from gateway.counters.redis_client import REDIS, REDIS_PATIENT, add_redis
from gateway.counters.shared import SharedCounter
from gateway.decisions.service import ContactService
from gateway.evidence.checkpoint_task import add_checkpoints
from gateway.evidence.tree_upkeep import add_tree_upkeep
from gateway.health import setup_health
from gateway.held.escalation import add_held_escalation
from gateway.mail.lifecycle import MAIL, add_mail
from gateway.ops.logs import setup_request_ids
from gateway.ops.metrics import METRICS, Metrics
from gateway.reminders.digest import add_reminders
from gateway.shared_state import redis_tasks, shared_counter
from gateway.store import Store
from gateway.store.casework.letters import letters_not_sent
from gateway.twilio.wiring import setup_twilio
from gateway.ui import setup_ui
from rules.policy_index import DecisionSettings

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", ContactService)


def decision_settings(settings: Settings) -> DecisionSettings:
    """The organisation-wide facts ``decide`` needs, from the gateway's settings."""
    return DecisionSettings(
        zone=settings.zone,
        emergency_number=settings.emergency_number or None,
        exemptions=load_classifier(settings.exemption_phrases, model=settings.exemption_model),
        protected=settings.protected.routes(settings.emergency_number),
    )


async def open_service(
    settings: Settings,
    clock: Clock,
    metrics: Metrics | None = None,
    *,
    redis: tuple[Redis, Redis] | None = None,
) -> tuple[Store, ContactService]:
    """Open the store (applying migrations) and a contact service with rebuilt counters.

    With ``redis`` (the quick and the patient client of GATEWAY_REDIS_URL) the counters
    are shared with every gateway on that Redis (gateway.shared_state).
    """
    store = await Store.open(settings.database.url, migrate=True, clock=clock)
    try:
        counter: UsageCounter | SharedCounter = InProcessCounter()
        if redis is not None:
            counter = shared_counter(
                *redis,
                timeout_s=settings.redis.timeout_s,
                evidence=lambda: service.counted_entries(),
                prefix=settings.redis.prefix,
            )
        service = ContactService(
            store, counter, decision_settings(settings), clock, metrics=metrics
        )
        await service.rebuild_usage()
    except BaseException:
        await store.close()
        raise
    return store, service


def wake_mail(app: web.Application) -> None:
    """Start this gateway's mail worker now, if it runs (mail queued outside it)."""
    runtime = app.get(MAIL)
    if runtime is not None:
        runtime.worker.wake()


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """Build the HTTP application (health now; channels and admin join in their modules)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    metrics = app[METRICS] = Metrics()
    setup_request_ids(app)
    add_redis(app, settings)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        quick, patient = app.get(REDIS), app.get(REDIS_PATIENT)
        redis = None if quick is None or patient is None else (quick, patient)
        store, service = await open_service(settings, clock, metrics, redis=redis)
        app[STORE] = store
        app[SERVICE] = service
        try:
            async with redis_tasks(service, store, patient, prefix=settings.redis.prefix):
                yield
        finally:
            await store.close()

    app.cleanup_ctx.append(lifecycle)
    setup_twilio(app, settings, clock, service_key=SERVICE, store_key=STORE)
    add_mail(app, settings, clock, store_key=STORE, service_key=SERVICE)
    add_held_escalation(app, settings, clock, store_key=STORE, service_key=SERVICE)
    add_reminders(app, settings, clock, store_key=STORE, letters=letters_not_sent)
    add_tree_upkeep(app, store_key=STORE)
    add_checkpoints(app, settings, clock, store_key=STORE, wake=wake_mail)
    setup_api(app, settings, clock, store_key=STORE, service_key=SERVICE)
    setup_ui(app, settings, clock)
    setup_health(app, settings, store_key=STORE, service_key=SERVICE)
    return app
