"""What the API's handlers stand on, built once at start-up and kept under one AppKey.

The organisation's settings as a model, and the bank holidays for working-day periods,
are in ``gateway.config.org_settings``: the held-contact ages need them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from aiohttp import web

from gateway.common.clock import Clock
from gateway.config.org_settings import OrgSettings, org_settings_from
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.letters.service import Letters
from gateway.mail.lifecycle import MAIL
from gateway.store.casework.admin import AdminStore
from gateway.store.casework.casework import read_settings


@dataclass
class Api:
    """The API's dependencies."""

    admin: AdminStore
    service: ContactService
    settings: Settings
    clock: Clock
    letters: Letters
    app: web.Application | None = field(default=None, repr=False)

    def wake_mail(self) -> None:
        """Have this gateway's mail worker look at the queue now (a letter was queued)."""
        runtime = None if self.app is None else self.app.get(MAIL)
        if runtime is not None:
            runtime.worker.wake()

    def today(self) -> date:
        """Today in the organisation's time zone (review and appeal dates are local)."""
        return self.clock().astimezone(self.settings.zone).date()

    async def org(self) -> OrgSettings:
        async with self.admin.reading("reading the organisation's settings") as conn:
            return org_settings_from(await read_settings(conn))


API = web.AppKey("api", Api)
