"""How long held contact has waited, in working days, and when a person must have read it.

Ombudsman guidance: contact that is held (read and file included) must still be read by
a person, for new issues and safeguarding. The rule, one place for the API, the UI, the
metrics and the escalation:

An item held on day D (the day in the organisation's zone, ``GATEWAY_TIMEZONE``) must be
read by the end of the ``GATEWAY_HELD_READ_WITHIN``-th working day after D. D itself
does not count, whatever time of day it was held, as in "within N working days of
receipt" (``rules.lifecycle.add_period``). Working days are Monday to Friday less the
bank holidays of the organisation's nation (the org setting ``bank_holidays``). From
local midnight after that day the item is overdue. With ``read_within=1``: held on a
Tuesday, it is overdue from Thursday 00:00; held on the Friday before a bank-holiday
Monday, it must be read by the end of Tuesday and is overdue from Wednesday 00:00.

"Held" is the held contact's ``created_at``: when the gateway held it, which for a
letter recorded days after it came is the day it was recorded, not the date it bears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.config.org_settings import Nation, OrgSettings, bank_holidays
from gateway.config.settings import Settings
from gateway.store import Store
from gateway.store.casework.casework import read_settings
from gateway.store.engine import read_transaction
from rules.lifecycle import Period, PeriodUnit, add_period

# How far back ``held_before`` looks for the newest overdue day; read_within is at most
# 30 working days, so anything held this long ago is overdue by any rule.
_LOOK_BACK_DAYS = 400


@dataclass(frozen=True, slots=True)
class HeldAges:
    """Ages and deadlines of held contact as at ``now`` (time is a parameter)."""

    now: datetime
    read_within: int
    zone: ZoneInfo
    nation: Nation

    def _working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in bank_holidays(self.nation, day)

    def _last_day(self, held_on: date) -> date:
        period = Period(amount=self.read_within, unit=PeriodUnit.WORKING_DAYS)
        return add_period(held_on, period, bank_holidays(self.nation, held_on))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def read_by(self, held_at: datetime) -> datetime:
        """The instant an item held at ``held_at`` becomes overdue."""
        held_on = held_at.astimezone(self.zone).date()
        return self._midnight(self._last_day(held_on) + timedelta(days=1))

    def overdue(self, held_at: datetime, status: str) -> bool:
        """Unread (still ``held``) past its deadline: read or released items never are."""
        return status == "held" and self.now >= self.read_by(held_at)

    def age_seconds(self, held_at: datetime) -> int:
        return max(0, int((self.now - held_at).total_seconds()))

    def working_days(self, held_at: datetime) -> int:
        """Working days since the day it was held: 0 the same day (or over a weekend)."""
        held_on = held_at.astimezone(self.zone).date()
        today = self.now.astimezone(self.zone).date()
        count, day = 0, held_on
        while day < today:
            day += timedelta(days=1)
            count += self._working(day)
        return count

    def held_before(self) -> datetime:
        """Every unread item held before this instant is overdue now, and none after.

        The deadline only moves later as the day held moves later, so the overdue items
        are exactly those held up to the newest day whose deadline has passed: that day
        is found here once, and the store filters on ``created_at`` with it.
        """
        today = self.now.astimezone(self.zone).date()
        for back in range(1, _LOOK_BACK_DAYS):
            day = today - timedelta(days=back)
            if self._midnight(self._last_day(day) + timedelta(days=1)) <= self.now:
                return self._midnight(day + timedelta(days=1))
        return self._midnight(today - timedelta(days=_LOOK_BACK_DAYS))

    def describe(self, held_at: datetime) -> str:
        """How a person reads the age: "held today", "held 2 working days ago"."""
        days = self.working_days(held_at)
        if days == 0:
            today = self.now.astimezone(self.zone).date()
            same_day = held_at.astimezone(self.zone).date() == today
            return "held today" if same_day else "held less than a working day ago"
        return f"held {days} working day{'s' if days != 1 else ''} ago"

    def facts(self, held_at: datetime, status: str) -> dict[str, object]:
        """The age fields the API adds to a held contact."""
        return {
            "age_seconds": self.age_seconds(held_at),
            "age_working_days": self.working_days(held_at),
            "age": self.describe(held_at),
            "read_by": self.read_by(held_at),
            "overdue": self.overdue(held_at, status),
        }


async def org_nation(store: Store) -> Nation:
    """The nation whose bank holidays are not working days (an org setting, stored)."""
    async with read_transaction(store.engine, "reading the organisation's settings") as conn:
        return OrgSettings.from_stored(await read_settings(conn)).bank_holidays


async def held_ages(store: Store, settings: Settings, now: datetime) -> HeldAges:
    """Ages as at ``now`` under the gateway's settings and the stored org settings."""
    return HeldAges(
        now=now,
        read_within=settings.held.read_within,
        zone=settings.zone,
        nation=await org_nation(store),
    )
