"""The organisation's settings that an administrator changes at run time, and the UK
bank holidays they name.

Stored, audited and versioned by the admin API; read by the API, the held-contact ages
and the reports. They live here, below the store and the API, because several parts
need them and none of those parts should reach up into another to get them.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, Literal

import holidays
from pydantic import BaseModel, ConfigDict

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

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> OrgSettings:
        """These settings from the stored ones: the same table holds settings kept by
        their own parts (protected routes, exemption phrases, teams), left out here."""
        return cls.model_validate({k: v for k, v in values.items() if k in cls.model_fields})


def bank_holidays(nation: Nation, around: date) -> frozenset[date]:
    """UK bank holidays of ``nation`` from the year before ``around`` to three after."""
    return _bank_holidays(nation, around.year)


@functools.lru_cache(maxsize=32)
def _bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    # Built once per nation and year, not on every request that checks a review date.
    years = range(year - 1, year + 4)
    return frozenset(holidays.country_holidays("GB", subdiv=nation, years=years).keys())
