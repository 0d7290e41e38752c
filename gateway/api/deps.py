"""What the API's handlers stand on, built once at start-up and kept under one AppKey.

The organisation's settings as a model, and the bank holidays for working-day periods,
are in ``gateway.config.org_settings``: the held-contact ages need them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web

from gateway.common.clock import Clock
from gateway.config.org_settings import OrgSettings
from gateway.config.settings import Settings
from gateway.decisions.service import ContactService
from gateway.store.casework.admin import AdminStore
from gateway.store.casework.casework import read_settings


@dataclass
class Api:
    """The API's dependencies."""

    admin: AdminStore
    service: ContactService
    settings: Settings
    clock: Clock

    def today(self) -> date:
        """Today in the organisation's time zone (review and appeal dates are local)."""
        return self.clock().astimezone(self.settings.zone).date()

    async def org(self) -> OrgSettings:
        async with self.admin.reading("reading the organisation's settings") as conn:
            return OrgSettings.from_stored(await read_settings(conn))


API = web.AppKey("api", Api)
