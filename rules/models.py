"""The policy data of SPEC §3: officers, customers, restrictions, and their validation.

One schema serves YAML import/export, the JSON API and the store. Validation refuses
what a person could act on (a window that ends before it starts, a limit of 0, an unknown
officer, an unparseable number, self-authorisation) with a message naming the field and
the value, because the people who write these files are housing officers, not
programmers.

Phone numbers need a region to be read (``07700 900123`` is a UK mobile only because the
organisation is in the UK): pass ``context={"region": "GB"}`` to ``model_validate``;
GB is assumed when no context is given.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal, Self

import isodate
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rules.fields import (
    EmailList,
    Identifier,
    NonEmptyText,
    PhoneList,
    email_field,
    phones_field,
)
from rules.fields import Model as _Model
from rules.scope import (
    NO_TEAMS,
    DedicatedRoute,
    Scope,
    Teams,
    outside_message,
    route_outside_scope,
    team_problems,
)


class Channel(StrEnum):
    """An inbound channel the gateway sees."""

    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    # Contact that does not pass through the gateway, recorded by an officer afterwards
    # so the customer's record is complete (see ``RECORDED_CHANNELS``).
    LETTER = "letter"
    VISIT = "visit"
    STAFF_MOBILE = "staff_mobile"
    SOCIAL_MEDIA = "social_media"

    @property
    def recorded(self) -> bool:
        """True for contact an officer records after the fact (it cannot be held back)."""
        return self in RECORDED_CHANNELS


class Status(StrEnum):
    """Where a restriction is in its lifecycle."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    LAPSED = "lapsed"  # reached its review date unrenewed, where the organisation says so
    REJECTED = "rejected"  # a proposal an authoriser turned down, or its proposer withdrew


RECORDED_CHANNELS = frozenset(
    {Channel.LETTER, Channel.VISIT, Channel.STAFF_MOBILE, Channel.SOCIAL_MEDIA}
)


class Handling(StrEnum):
    """What happens to contact that passes the channel, window and limit clauses."""

    DELIVER = "deliver"
    READ_AND_FILE = "read_and_file"
    REPRESENTATIVE_ONLY = "representative_only"
    NO_CONTACT = "no_contact"


class Weekday(StrEnum):
    """Days of the week as policies write them; ``number`` matches ``date.weekday()``."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return _DAY_NUMBERS[self]

    @property
    def full_name(self) -> str:
        return DAY_NAMES[self.number]


# By ``date.weekday()`` (and ``Weekday.number``).
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_NUMBERS = {day: number for number, day in enumerate(Weekday)}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class Officer(_Model):
    """A member of staff who can be a customer's single point of contact."""

    id: Identifier
    name: NonEmptyText
    email: Annotated[str, AfterValidator(email_field)]
    phone: str | None = None
    deputy: Identifier | None = None
    absent: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return phones_field([value], info)[0]

    @model_validator(mode="after")
    def _not_own_deputy(self) -> Self:
        if self.deputy == self.id:
            raise ValueError(f"deputy: officer '{self.id}' cannot be their own deputy")
        return self


class Representative(_Model):
    """A designated third party (support worker, advocate, solicitor) for a customer."""

    name: NonEmptyText
    emails: EmailList = Field(default_factory=list)
    phones: PhoneList = Field(default_factory=list)


class Customer(_Model):
    """A customer and every address and number they contact us from."""

    id: Identifier
    name: NonEmptyText
    emails: EmailList = Field(default_factory=list)
    phones: PhoneList = Field(default_factory=list)
    representatives: list[Representative] = Field(default_factory=list)


def parse_clock(text: str, field: str, *, allow_next_day: bool) -> timedelta:
    """Read ``HH:MM`` as an offset from local midnight.

    An end time may pass 24:00 (``26:00`` is 02:00 the next day) so that a window that
    runs past midnight is written explicitly and still belongs to the day it starts.
    """
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{field} '{text}' is not a time of day like '10:00'")
    hours, minutes = int(match.group(1)), int(match.group(2))
    limit = 48 if allow_next_day else 24
    if minutes > 59 or hours >= limit:
        raise ValueError(f"{field} '{text}' is not a time of day like '10:00'")
    return timedelta(hours=hours, minutes=minutes)


class CallWindow(_Model):
    """Local times on given days when calls may be taken: half-open ``[start, end)``."""

    days: list[Weekday] = Field(min_length=1)
    start: str
    end: str

    @field_validator("days", mode="before")
    @classmethod
    def _lower_days(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [d.strip().lower()[:3] if isinstance(d, str) else d for d in value]
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        start = parse_clock(self.start, "start", allow_next_day=False)
        end = parse_clock(self.end, "end", allow_next_day=True)
        if end <= start:
            raise ValueError(
                f"end '{self.end}' is not after start '{self.start}'; a window that runs "
                "past midnight is written with an end after 24:00, e.g. '26:00' for 02:00 "
                "the next day"
            )
        if end - start > timedelta(hours=24):
            raise ValueError(f"window from '{self.start}' to '{self.end}' is longer than 24 hours")
        return self

    @cached_property
    def start_offset(self) -> timedelta:
        return parse_clock(self.start, "start", allow_next_day=False)

    @cached_property
    def end_offset(self) -> timedelta:
        return parse_clock(self.end, "end", allow_next_day=True)

    @cached_property
    def day_numbers(self) -> frozenset[int]:
        """The days as ``date.weekday()`` numbers, for quick membership tests."""
        return frozenset(day.number for day in self.days)


def parse_period(text: str) -> timedelta:
    """Read an ISO 8601 duration (P7D, PT12H, P1W) as a fixed length of time.

    Months and years are refused: a sliding period needs a fixed length, and "a month"
    back from 31 March is not one. A policy uses a handful of periods, read again for
    every notice about a cap, so their lengths are kept.
    """
    if isinstance(text, str):
        return _known_period(text)
    return _period(text)


@lru_cache(maxsize=256)
def _known_period(text: str) -> timedelta:
    return _period(text)


def _period(text: str) -> timedelta:
    try:
        value = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise ValueError(
            f"per '{text}' is not an ISO 8601 duration like P7D (7 days) or PT12H (12 hours)"
        ) from None
    if not isinstance(value, timedelta):
        raise ValueError(
            f"per '{text}' uses months or years, which have no fixed length; "
            "write days instead, e.g. P30D"
        )
    if value <= timedelta(0):
        raise ValueError(f"per '{text}' must be a period longer than zero")
    return value


def _check_period(text: str) -> str:
    parse_period(text)
    return text


class Limit(_Model):
    """A frequency cap: at most ``max`` delivered contacts on ``channel`` per sliding ``per``."""

    channel: Channel | Literal["any"]
    max: int = Field(ge=1, le=100_000)
    per: Annotated[str, AfterValidator(_check_period)]

    @cached_property
    def period(self) -> timedelta:
        return parse_period(self.per)

    def applies_to(self, channel: Channel) -> bool:
        return self.channel == "any" or self.channel == channel


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """The one textual form of an instant used in files, the API and evidence."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]


class Restriction(_Model):
    """A senior manager's decision restricting how one customer may contact us."""

    id: Identifier
    customer: Identifier
    reason: NonEmptyText
    proposed_by: NonEmptyText
    authorised_by: str | None = None
    status: Status = Status.DRAFT
    starts: UtcDatetime
    review_on: date | None = None
    ends: UtcDatetime | None = None
    channels: list[Channel] = Field(default_factory=list)
    named_officer: Identifier | None = None
    call_windows: list[CallWindow] = Field(default_factory=list)
    call_time_limit: int | None = Field(default=None, ge=30, le=14400)
    record_calls: bool = False
    limits: list[Limit] = Field(default_factory=list)
    handling: Handling = Handling.DELIVER
    notify_customer: bool = True
    # Where visits are an allowed channel, only visits by appointment are (the usual
    # wording of the policies); false allows calling in without one.
    visits_by_appointment: bool = True
    # The staff it covers, when not all (rules.scope); contact outside it is untouched.
    scope: Scope | None = None
    # The one address or number the customer must use; contact elsewhere is redirected
    # there, or held when it says so (rules.scope).
    dedicated_route: DedicatedRoute | None = None

    @field_validator("dedicated_route")
    @classmethod
    def _route_fits(
        cls, value: DedicatedRoute | None, info: ValidationInfo
    ) -> DedicatedRoute | None:
        """A route for a channel the restriction does not allow, or outside a scope of
        addresses and numbers, would be a contradiction (a scope of teams is checked
        against the organisation's teams, by ``reference_problems``)."""
        if value is None:
            return None
        channels = info.data.get("channels")
        if channels is None:
            return value  # channels itself is wrong, and says so
        if value.email is not None and Channel.EMAIL not in channels:
            raise ValueError(
                f"email '{value.email}' is a dedicated route for email, but channels does "
                "not allow email"
            )
        if value.phone is not None and not _NUMBERED.intersection(channels):
            raise ValueError(
                f"phone '{value.phone}' is a dedicated route for texts and calls, but "
                "channels allows neither sms nor voice"
            )
        scope = info.data.get("scope")
        if isinstance(scope, Scope) and not scope.teams:
            outside = route_outside_scope(value, scope.identities(NO_TEAMS))
            if outside is not None:
                raise ValueError(outside_message(*outside))
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[Channel]) -> list[Channel]:
        return list(dict.fromkeys(value))

    @field_validator("authorised_by")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.authorised_by and self.authorised_by.casefold() == self.proposed_by.casefold():
            raise ValueError(
                f"authorised_by '{self.authorised_by}' is also proposed_by: a restriction "
                "must be authorised by a different senior manager from the one who proposed it"
            )
        if self.status not in _UNAUTHORISED and not self.authorised_by:
            raise ValueError(
                f"status '{self.status.value}' needs authorised_by: only a draft (or a "
                "rejected proposal) can be unauthorised"
            )
        if self.ends is not None and self.ends <= self.starts:
            raise ValueError(
                f"ends '{format_utc(self.ends)}' is not after starts '{format_utc(self.starts)}'"
            )
        if not self.channels and self.handling is not Handling.NO_CONTACT:
            raise ValueError(
                f"channels is empty but handling is '{self.handling.value}': a restriction "
                "that allows no channel must have handling 'no_contact'"
            )
        return self

    def is_active(self, now: datetime) -> bool:
        """Active means authorised, status active, and ``now`` in ``[starts, ends)``."""
        return (
            self.status is Status.ACTIVE
            and bool(self.authorised_by)
            and self.starts <= now
            and (self.ends is None or now < self.ends)
        )

    def review_overdue(self, today: date) -> bool:
        """A passed review date keeps the restriction active but must be seen to."""
        return self.review_on is not None and self.review_on < today


_UNAUTHORISED = frozenset({Status.DRAFT, Status.REJECTED})
_NUMBERED = frozenset({Channel.SMS, Channel.VOICE})


class Policy(_Model):
    """Everything ``decide`` needs to know about who is restricted and how."""

    officers: list[Officer] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(p.describe() for p in problems))
        return self


class Problem(BaseModel):
    """One thing wrong with a policy, located by its path (e.g. restrictions, 3, customer)."""

    model_config = ConfigDict(frozen=True)

    loc: tuple[str | int, ...]
    message: str

    def describe(self) -> str:
        return f"{format_loc(self.loc)}: {self.message}"


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``('restrictions', 3, 'customer')`` -> ``restrictions[3].customer``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(whole file)"


def reference_problems(policy: Policy, teams: Teams | None = None) -> list[Problem]:
    """Cross-references a single field cannot check: ids, officers, shared identities,
    and (given the organisation's ``teams``) the teams a scope names."""
    problems: list[Problem] = []
    officers = _unique("officers", [o.id for o in policy.officers], problems)
    customers = _unique("customers", [c.id for c in policy.customers], problems)
    _unique("restrictions", [r.id for r in policy.restrictions], problems)
    for i, officer in enumerate(policy.officers):
        if officer.deputy is not None and officer.deputy not in officers:
            problems.append(
                Problem(
                    loc=("officers", i, "deputy"),
                    message=f"'{officer.deputy}' is not a known officer id",
                )
            )
    for i, restriction in enumerate(policy.restrictions):
        if restriction.customer not in customers:
            problems.append(
                Problem(
                    loc=("restrictions", i, "customer"),
                    message=f"'{restriction.customer}' is not a known customer id",
                )
            )
        if restriction.named_officer is not None and restriction.named_officer not in officers:
            problems.append(
                Problem(
                    loc=("restrictions", i, "named_officer"),
                    message=f"'{restriction.named_officer}' is not a known officer id",
                )
            )
        if teams is not None:
            for loc, message in team_problems(
                restriction.scope, restriction.dedicated_route, teams
            ):
                problems.append(Problem(loc=("restrictions", i, *loc), message=message))
    owners: dict[str, str] = {}
    for i, customer in enumerate(policy.customers):
        for kind, values in (("emails", customer.emails), ("phones", customer.phones)):
            for j, value in enumerate(values):
                other = owners.setdefault(value, customer.id)
                if other != customer.id:
                    problems.append(
                        Problem(
                            loc=("customers", i, kind, j),
                            message=f"'{value}' already belongs to customer '{other}'; "
                            "one address or number identifies one customer",
                        )
                    )
    return problems


def _unique(kind: str, ids: list[str], problems: list[Problem]) -> set[str]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            problems.append(Problem(loc=(kind, i, "id"), message=f"'{value}' is used twice"))
        seen.add(value)
    return seen
