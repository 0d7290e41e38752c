"""Start and stop the email channel inside the aiohttp application's clean-up context.

``add_mail(app, ...)`` is called once from ``create_app``. At start-up (after the store
and contact service are open) it builds the transport, the mail queue and its worker,
the ``MailGateway`` sink and the aiosmtpd listener on the same event loop as HTTP.

Shutdown comes in two steps. First, in the app's ``on_shutdown`` (before any clean-up
context ends, so the background loops and the store are all still there): stop
listening, let messages already received finish, close client sessions with ``421``
and stop relays still waiting for a slow upstream (their messages stay queued). Then,
when this clean-up context ends (after the other parts' background loops have stopped
between passes): stop the possible-match task, the worker and the transport — all
before the store closes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from channels.smtp import HandlerConfig, ListenerConfig, SmtpHandler, SmtpListener, start_server
from gateway.common import background
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.decisions.staff_notes import StaffNotes
from gateway.mail.queue import QueueWorker
from gateway.mail.sink import MailGateway
from gateway.mail.transport import MaildirTransport, SmtpTransport, UpstreamLogin, transport_for
from gateway.matching.matcher import MATCHER, Matcher, running
from gateway.ops.metrics import METRICS
from gateway.store import MailQueue, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MailRuntime:
    """Everything the email channel runs on, for the admin API, the CLI and tests."""

    listener: SmtpListener
    worker: QueueWorker
    gateway: MailGateway
    queue: MailQueue
    transport: SmtpTransport | MaildirTransport
    hostname: str


MAIL = web.AppKey("mail", MailRuntime)


def add_mail(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    store_key: web.AppKey[Store],
    service_key: web.AppKey[ContactService],
) -> None:
    """Run the SMTP listener and the mail queue for as long as ``app`` runs."""

    async def mail_lifecycle(app: web.Application) -> AsyncIterator[None]:
        smtp = settings.smtp
        # aiosmtpd logs every command at INFO; one line per message (ours) is enough.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        hostname = smtp.hostname or await asyncio.to_thread(socket.getfqdn)
        transport = transport_for(
            settings.upstream,
            org_domains=settings.org_domains,
            local_hostname=hostname,
            timeout=smtp.relay_timeout,
            login=UpstreamLogin(smtp.upstream_username, smtp.upstream_password.get_secret_value())
            if smtp.upstream_username
            else None,
            ca_file=smtp.upstream_ca_file,
        )
        queue = MailQueue(app[store_key].engine)
        metrics = app.get(METRICS)
        worker = QueueWorker(
            queue,
            transport,
            clock=clock,
            hostname=hostname,
            lifetime=smtp.queue_lifetime,
            metrics=metrics,
        )
        matcher = Matcher(app[service_key], app[store_key], clock, zone=settings.zone)
        app[MATCHER] = matcher
        gateway = MailGateway(
            app[service_key],
            app[store_key],
            worker,
            transport,
            hostname=hostname,
            clock=clock,
            relay_timeout=smtp.relay_timeout,
            metrics=metrics,
            notes=StaffNotes(app[store_key]),
            matcher=matcher,
        )
        handler = SmtpHandler(
            gateway,
            HandlerConfig(
                org_domains=settings.org_domains,
                hostname=hostname,
                max_recipients=smtp.max_recipients,
                max_received=smtp.max_received,
                trusted_authserv_id=smtp.trusted_authserv_id,
            ),
            clock,
        )
        listener = await start_server(
            handler,
            ListenerConfig(
                host=smtp.host,
                port=smtp.port,
                hostname=hostname,
                max_bytes=smtp.max_bytes,
                command_limit=smtp.command_limit,
                session_timeout=smtp.session_timeout,
                tls_cert=smtp.tls_cert,
                tls_key=smtp.tls_key,
            ),
        )
        # Who claims queued mail: this machine and port, which no other live process has.
        worker.instance = f"{socket.gethostname()}:{listener.port}"
        app[MAIL] = MailRuntime(listener, worker, gateway, queue, transport, hostname)
        log.info("SMTP on %s:%d, delivering to %s", smtp.host, listener.port, settings.upstream)
        try:
            async with background.running(worker.run, "mail-queue"), running(matcher):
                try:
                    yield
                finally:  # drained at on_shutdown already, unless the app never shut down
                    await stop_receiving(app)
        finally:
            await transport.close()

    receiving = True

    async def stop_receiving(app: web.Application) -> None:
        """Drain the SMTP listener, once; mail being received can still be stored."""
        nonlocal receiving
        runtime = app.get(MAIL)
        if runtime is None or not receiving:
            return
        receiving = False
        await runtime.listener.close(grace=settings.smtp.relay_timeout + 5)
        await runtime.worker.stop_following(grace=5)

    app.on_shutdown.append(stop_receiving)
    app.cleanup_ctx.append(mail_lifecycle)
