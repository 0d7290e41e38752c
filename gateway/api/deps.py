"""What the API's handlers stand on, built once at start-up and kept under one AppKey.

Also the organisation's settings as a model (with their defaults) and the bank holidays
for working-day periods: the ``holidays`` package is consulted here, in the gateway, and
the dates handed to the pure rules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Literal

import holidays
from aiohttp import web
from pydantic import BaseModel, ConfigDict

from gateway.clock import Clock
from gateway.service import ContactService
from gateway.settings import Settings
from gateway.store.admin import AdminStore
from gateway.store.casework import read_settings
from rules.lifecycle import Period, PeriodUnit

Nation = Literal["ENG", "WLS", "SCT", "NIR"]


class OrgSettings(BaseModel):
    """Settings an administrator changes at run time (stored, audited, versioned).

    ``lapse_at_review``: a restriction stops at the start of its review date unless it
    was renewed. ``appeal_period``: how long after authorisation a customer may appeal.
    ``review_period``: the default time to the next review. ``bank_holidays``: the UK
    nation whose bank holidays are not working days.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lapse_at_review: bool = False
    appeal_period: Period = Period(amount=20, unit=PeriodUnit.WORKING_DAYS)
    review_period: Period = Period(amount=182, unit=PeriodUnit.DAYS)
    bank_holidays: Nation = "ENG"


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
            return OrgSettings.model_validate(await read_settings(conn))


API = web.AppKey("api", Api)


def bank_holidays(nation: Nation, around: date) -> frozenset[date]:
    """UK bank holidays of ``nation`` from the year before ``around`` to three after."""
    return _bank_holidays(nation, around.year)


@functools.lru_cache(maxsize=32)
def _bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    # Built once per nation and year, not on every request that checks a review date.
    years = range(year - 1, year + 4)
    return frozenset(holidays.country_holidays("GB", subdiv=nation, years=years).keys())
