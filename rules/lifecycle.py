"""The restriction lifecycle as a state machine, and the rules about who may move it.

A restriction is proposed (draft) by an officer, authorised by a senior manager who did
not propose it (four eyes), and then suspended, resumed, revoked, renewed at review or
left to lapse; an appeal is decided by an authoriser who had no part in the original
decision. These rules are values and small functions so the gateway applies them, the
tests read them as a table and docs/administrator.md can state them without drift.

Periods (for appeals and reviews) are counted in calendar days or UK working days; the
bank holidays are passed in, because looking them up is the gateway's business.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from rules.models import Status
from rules.roles import Permission, Role, allowed


class LifecycleError(ValueError):
    """A lifecycle rule refused the change; ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotPermitted(LifecycleError):
    """This person may not make this change (role, four eyes, appeal independence)."""


class WrongState(LifecycleError):
    """The restriction is not in a state this change can start from."""


class NeedsJustification(LifecycleError):
    """The change needs a written justification that was not given."""


class Transition(StrEnum):
    """A recorded step in a restriction's life."""

    AUTHORISE = "authorise"
    REJECT = "reject"
    SUSPEND = "suspend"
    RESUME = "resume"
    REVOKE = "revoke"
    LAPSE = "lapse"
    RENEW = "renew"
    LODGE_APPEAL = "lodge_appeal"
    QUASH = "quash"
    VARY = "vary"
    UPHOLD = "uphold"


@dataclass(frozen=True, slots=True)
class TransitionRule:
    """Where a transition may start, where it leads (None: status unchanged), and who.

    ``permission`` None means only the gateway itself makes it (a lapse at review).
    """

    start: frozenset[Status]
    to: Status | None
    permission: Permission | None


_LIVE = frozenset({Status.ACTIVE, Status.SUSPENDED})
_DECIDED = _LIVE | {Status.LAPSED, Status.REVOKED}

TRANSITIONS: Mapping[Transition, TransitionRule] = {
    Transition.AUTHORISE: TransitionRule(
        frozenset({Status.DRAFT}), Status.ACTIVE, Permission.DECIDE
    ),
    Transition.REJECT: TransitionRule(
        frozenset({Status.DRAFT}), Status.REJECTED, Permission.DECIDE
    ),
    Transition.SUSPEND: TransitionRule(
        frozenset({Status.ACTIVE}), Status.SUSPENDED, Permission.DECIDE
    ),
    Transition.RESUME: TransitionRule(
        frozenset({Status.SUSPENDED}), Status.ACTIVE, Permission.DECIDE
    ),
    Transition.REVOKE: TransitionRule(_LIVE, Status.REVOKED, Permission.DECIDE),
    Transition.LAPSE: TransitionRule(_LIVE, Status.LAPSED, None),
    Transition.RENEW: TransitionRule(_LIVE, None, Permission.DECIDE),
    Transition.LODGE_APPEAL: TransitionRule(_LIVE, None, Permission.PROPOSE),
    Transition.QUASH: TransitionRule(_LIVE, Status.REVOKED, Permission.DECIDE),
    Transition.VARY: TransitionRule(_LIVE, None, Permission.DECIDE),
    # An appeal can always be closed, even once the restriction has ended meanwhile.
    Transition.UPHOLD: TransitionRule(_DECIDED, None, Permission.DECIDE),
}


def check_transition(transition: Transition, status: Status, role: Role | None) -> Status:
    """The status after ``transition`` from ``status`` by someone with ``role``.

    ``role`` None is the gateway itself. Raises :class:`NotPermitted` or
    :class:`WrongState` with a message for the person who tried.
    """
    rule = TRANSITIONS[transition]
    if role is not None and (rule.permission is None or not allowed(role, rule.permission)):
        raise NotPermitted(f"a user with role '{role.value}' cannot {_words(transition)}")
    if status not in rule.start:
        starts = ", ".join(sorted(s.value for s in rule.start))
        raise WrongState(
            f"cannot {_words(transition)} a restriction that is {status.value}: "
            f"only one that is {starts}"
        )
    return status if rule.to is None else rule.to


def _words(transition: Transition) -> str:
    if transition in (Transition.QUASH, Transition.VARY, Transition.UPHOLD):
        return f"{transition.value} on appeal"
    return transition.value.replace("_", " ") + (
        " a restriction" if transition is Transition.LODGE_APPEAL else ""
    )


def same_person(a: str | None, b: str | None) -> bool:
    """Names compare without regard to case, as people write them."""
    return a is not None and b is not None and a.casefold() == b.casefold()


def check_four_eyes(proposed_by: str, actor: str) -> None:
    """A restriction is authorised by a senior manager who did not propose it."""
    if same_person(proposed_by, actor):
        raise NotPermitted(
            f"'{actor}' proposed this restriction, so cannot also authorise it: another "
            "authoriser must (four-eyes rule)"
        )


def check_appeal_reviewer(actor: str, involved: Iterable[str | None]) -> None:
    """An appeal is decided by an authoriser with no part in the original decision."""
    for person in involved:
        if same_person(person, actor):
            raise NotPermitted(
                f"'{actor}' took part in the original decision, so cannot decide the appeal: "
                "an authoriser who was not involved must"
            )


class NeedsNotice(WrongState):
    """The customer has not been told in writing, and no exception to notice applies."""


def check_written_notice(
    restriction_id: str, *, required: bool, letter_sent: bool, exception_signed_off: bool
) -> str | None:
    """How the customer knows of a restriction about to be put in force.

    Every policy requires written notice (what, why, how long, review, appeal, what
    stays open), except where telling the customer would create a serious risk and a
    director has signed that off. Returns ``"exception"``, ``"letter"``, or None when
    the organisation does not require notice first and neither exists.
    """
    if exception_signed_off:
        return "exception"
    if letter_sent:
        return "letter"
    if not required:
        return None
    raise NeedsNotice(
        f"restriction {restriction_id} cannot be put in force before the customer has been "
        "told in writing: send its decision letter by email, or mark it printed and posted, "
        "or have an exception to notice signed off (the organisation's setting "
        "written_notice_required is on)",
        field="notice",
    )


class PeriodUnit(StrEnum):
    DAYS = "days"
    WORKING_DAYS = "working_days"  # Monday to Friday, not a bank holiday


class Period(BaseModel):
    """A period such as "20 working days" for appeals or "182 days" for reviews."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(ge=0, le=3660)
    unit: PeriodUnit = PeriodUnit.DAYS

    def describe(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


def add_period(start: date, period: Period, holidays: Collection[date]) -> date:
    """The date ``period`` after ``start``: the last day of the period.

    Working days skip Saturdays, Sundays and ``holidays``; ``start`` itself does not
    count, as when a letter says "within 10 working days of the date of this letter".
    """
    if period.unit is PeriodUnit.DAYS:
        return start + timedelta(days=period.amount)
    day, left = start, period.amount
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day


def lapse_instant(review_on: date, zone: ZoneInfo) -> datetime:
    """The instant a restriction lapses: the start of its review date, local time."""
    return datetime.combine(review_on, time(0), tzinfo=zone).astimezone(UTC)
