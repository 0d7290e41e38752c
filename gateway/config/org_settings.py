"""The organisation's settings that an administrator changes at run time, and the UK
bank holidays they name.

Stored, audited and versioned by the admin API; read by the API, the held-contact ages
and the reports. They live here, below the store and the API, because several parts
need them and none of those parts should reach up into another to get them.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rules.closed_days import ClosedDays
from rules.lifecycle import Period, PeriodUnit

Nation = Literal["ENG", "WLS", "SCT", "NIR"]
# What a caller from a withheld number gets: put through as any unknown caller is
# ("connect"), or told the line does not take withheld calls and offered the emergency
# option ("emergency_only").
WithheldCallers = Literal["connect", "emergency_only"]
# At most a year of closure days: more is a mistake, not a closure.
MAX_CLOSURE_DAYS = 366
# The "consider action" rule's bounds, for the settings and for a change to them alike.
IncidentThreshold = Annotated[int, Field(ge=1, le=100)]
IncidentWindowDays = Annotated[int, Field(ge=1, le=3660)]


class OrgSettings(BaseModel):
    """Settings an administrator changes at run time (stored, audited, versioned).

    ``lapse_at_review``: a restriction stops at the start of its review date unless it
    was renewed. ``appeal_period``: how long after authorisation a customer may appeal.
    ``review_period``: the default time to the next review. ``bank_holidays``: the UK
    nation whose bank holidays are not working days and have no call windows.

    ``appeal_decision_period``: from an appeal being lodged to its decision;
    ``appeal_notice_period``: from the decision to telling the customer (the reminder
    digests give both deadlines). ``incident_threshold`` incidents within
    ``incident_window_days`` put a customer on the dashboard's "consider action" list.
    ``flag_review_period``: how long after it was added a warning flag is due for review.

    Warning flags and restrictions shown to the staff who deal with the customer
    (``gateway.decisions.staff_notes``): ``flag_email_headers`` adds header fields (the
    customer, the restriction, each flag's level and category, never its reason) to
    email delivered or released to staff; ``flag_email_banner`` puts a one-line banner
    saying the same at the top of its text; ``flag_text_prefix`` starts a text passed
    on to an officer (by email and by SMS) with that line. All off until an
    administrator turns them on.

    ``closure_days``: other days the office is closed (the days between Christmas and
    New Year, say), with no call windows either. ``call_whisper``: before a restricted
    customer's call is put through, the officer hears who it is and their warning flags,
    and presses 1 to take it. ``withheld_callers``: what a caller from a withheld number
    gets (``WithheldCallers``).

    ``written_notice_required``: a restriction is authorised into force only once its
    decision letter has been sent or posted, or an exception to notice signed off.
    ``letter_language``: the language of letters to a customer whose own is not recorded
    (en, cy or bilingual).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lapse_at_review: bool = False
    appeal_period: Period = Period(amount=20, unit=PeriodUnit.WORKING_DAYS)
    review_period: Period = Period(amount=182, unit=PeriodUnit.DAYS)
    bank_holidays: Nation = "ENG"
    appeal_decision_period: Period = Period(amount=10, unit=PeriodUnit.WORKING_DAYS)
    appeal_notice_period: Period = Period(amount=5, unit=PeriodUnit.WORKING_DAYS)
    incident_threshold: IncidentThreshold = 3
    incident_window_days: IncidentWindowDays = 90
    flag_review_period: Period = Period(amount=365, unit=PeriodUnit.DAYS)
    flag_email_headers: bool = False
    flag_email_banner: bool = False
    flag_text_prefix: bool = False
    closure_days: tuple[date, ...] = ()
    call_whisper: bool = False
    withheld_callers: WithheldCallers = "connect"
    written_notice_required: bool = True
    letter_language: Literal["en", "cy", "bilingual"] = "en"

    @field_validator("closure_days")
    @classmethod
    def _closure_days(cls, days: tuple[date, ...]) -> tuple[date, ...]:
        """Kept in order, each day once, and no more than a year of them."""
        unique = tuple(sorted(set(days)))
        if len(unique) > MAX_CLOSURE_DAYS:
            raise ValueError(
                f"{len(unique)} closure days is more than {MAX_CLOSURE_DAYS}; "
                "remove the days that have passed"
            )
        return unique


def org_settings_from(stored: Mapping[str, Any]) -> OrgSettings:
    """The settings model from the stored values; other stored settings (the exemption
    phrases, the protected routes, the teams) live beside them and are not its business."""
    return OrgSettings.model_validate(
        {key: value for key, value in stored.items() if key in OrgSettings.model_fields}
    )


def closed_days(org: OrgSettings, around: date) -> ClosedDays:
    """The days the office is closed: the nation's bank holidays near ``around`` (see
    ``bank_holidays``) and every closure day an administrator set."""
    return ClosedDays(
        bank_holidays=bank_holidays(org.bank_holidays, around),
        closures=frozenset(org.closure_days),
    )


def bank_holidays(nation: Nation, around: date) -> frozenset[date]:
    """UK bank holidays of ``nation`` from the year before ``around`` to three after.

    England and Wales share their bank holidays (``holidays`` gives ENG and WLS the same
    days); Scotland and Northern Ireland have their own. A substitute day is a bank
    holiday too (Boxing Day on a Saturday gives the Monday after).
    """
    return _bank_holidays(nation, around.year)


@functools.lru_cache(maxsize=32)
def _bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    # Built once per nation and year, not on every request that checks a review date.
    years = range(year - 1, year + 4)
    calendar = _uk_calendar()
    if calendar is None:
        return frozenset(holidays.country_holidays("GB", subdiv=nation, years=years).keys())
    return frozenset(calendar(subdiv=nation, years=years).keys())


_UK_MODULE = "holidays.countries.united_kingdom"


@functools.cache
def _uk_calendar() -> type[holidays.HolidayBase] | None:
    """``holidays``' calendar of the United Kingdom, without the rest of the world.

    ``holidays.country_holidays("GB")`` imports the package ``holidays.countries``,
    whose ``__init__`` imports all of its 250 countries: about 8 MB, kept for the life
    of the process (bench/memory.py's 200 MB), when the gateway needs one. Importing
    ``holidays.countries.united_kingdom`` by name would do the same, since Python
    imports a module's package first. So the UK's module is loaded from its file, under
    its own name: whatever imports it by name later (``country_holidays`` too) gets
    this one, and the days are the library's. Should a release of ``holidays`` move
    the module, this gives None and ``country_holidays`` is used, as before.
    """
    module = sys.modules.get(_UK_MODULE)
    if module is None:
        path = Path(holidays.__file__).parent / "countries" / "united_kingdom.py"
        spec = importlib.util.spec_from_file_location(_UK_MODULE, path)
        if not path.is_file() or spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_UK_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_UK_MODULE]
            raise
    calendar = getattr(module, "UnitedKingdom", None)
    if isinstance(calendar, type) and issubclass(calendar, holidays.HolidayBase):
        return calendar
    return None
