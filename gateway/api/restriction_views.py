"""What restriction routes share: the clause bodies, the answer shape, the lapse sweep.

The lapse at review is enforced at decision time by the rules (so nothing slips through
between sweeps); the sweep here only brings the recorded status into line, with a
transition by "gateway", so the record shows when and why each restriction lapsed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.api.deps import Api
from gateway.api.framework import Strict
from gateway.config.teams import stored_teams, team_members
from gateway.store.casework.admin import Invalid, Tx
from gateway.store.casework.casework import read_settings
from gateway.store.casework.lifecycle import (
    get_proposal,
    list_transitions,
    live_with_review_by,
    save_restriction,
)
from gateway.store.casework.records import (
    customer_exists,
    customer_retired,
    officer_exists,
    officer_retired,
)
from rules.lifecycle import Transition, check_transition, lapse_instant
from rules.models import CallWindow, Channel, Handling, Limit, Restriction, format_loc
from rules.scope import DedicatedRoute, Scope, team_problems

GATEWAY_ACTOR = "gateway"


class Clauses(Strict):
    """What a restriction enforces (SPEC §3)."""

    starts: AwareDatetime
    ends: AwareDatetime | None = None
    channels: list[Channel] = Field(default_factory=list)
    named_officer: str | None = None
    call_windows: list[CallWindow] = Field(default_factory=list)
    call_time_limit: int | None = None
    record_calls: bool = False
    limits: list[Limit] = Field(default_factory=list)
    handling: Handling = Handling.DELIVER
    notify_customer: bool = True
    visits_by_appointment: bool = True
    scope: Scope | None = None
    dedicated_route: DedicatedRoute | None = None


class ClauseChanges(Strict):
    """Clauses to change; those left out stay as they are."""

    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    review_on: date | None = None
    starts: AwareDatetime | None = None
    ends: AwareDatetime | None = None
    channels: list[Channel] | None = None
    named_officer: str | None = None
    call_windows: list[CallWindow] | None = None
    call_time_limit: int | None = None
    record_calls: bool | None = None
    limits: list[Limit] | None = None
    handling: Handling | None = None
    notify_customer: bool | None = None
    visits_by_appointment: bool | None = None
    scope: Scope | None = None
    dedicated_route: DedicatedRoute | None = None


class ProposalOut(BaseModel):
    evidence_seqs: list[int]
    evidence_summary: str
    adjustments_considered: str
    proposed_review_on: date | None
    proposed_by: str
    proposed_at: datetime


class RestrictionOut(Restriction):
    """A restriction as stored, with its version and where it stands."""

    version: int
    overdue_for_review: bool  # the review date has passed (SPEC §3 "review overdue")
    proposal: ProposalOut | None = None


def apply_changes(current: Restriction, changes: ClauseChanges, **fixed: Any) -> Restriction:
    """``current`` with ``changes`` applied, validated again as a whole."""
    data = current.model_dump(mode="json")
    data.update(changes.model_dump(mode="json", exclude_unset=True))
    data.update(fixed)
    return Restriction.model_validate(data)


async def check_references(
    conn: AsyncConnection, restriction: Restriction, *, named_officer: bool = True
) -> None:
    """The customer and named officer must exist (the file import checks the same) and
    not be retired, and the teams a scope names must be the organisation's;
    ``named_officer=False`` skips the officer (a change of status only, where there is
    no officer to choose)."""
    if not await customer_exists(conn, restriction.customer):
        raise Invalid(f"'{restriction.customer}' is not a known customer id", "customer")
    if await customer_retired(conn, restriction.customer):
        raise Invalid(
            f"customer '{restriction.customer}' is retired: a restriction on them cannot "
            "be proposed, changed or put in force",
            "customer",
        )
    teams = team_members(stored_teams(await read_settings(conn)))
    for loc, message in team_problems(restriction.scope, restriction.dedicated_route, teams):
        raise Invalid(message, format_loc(loc))
    officer = restriction.named_officer
    if officer is None or not named_officer:
        return
    if not await officer_exists(conn, officer):
        raise Invalid(f"'{officer}' is not a known officer id", "named_officer")
    if await officer_retired(conn, officer):
        raise Invalid(
            f"officer '{officer}' is retired: name another officer for this restriction",
            "named_officer",
        )


async def restriction_out(
    conn: AsyncConnection, restriction: Restriction, version: int, today: date
) -> dict[str, Any]:
    return {
        **restriction.model_dump(mode="json"),
        "version": version,
        "overdue_for_review": restriction.status.value in ("active", "suspended")
        and restriction.review_overdue(today),
        "proposal": await get_proposal(conn, restriction.id),
    }


async def involved(conn: AsyncConnection, restriction: Restriction) -> list[str]:
    """Everyone who shaped the decision: proposer, editors of the draft, authoriser."""
    people = [restriction.proposed_by, restriction.authorised_by]
    for t in await list_transitions(conn, restriction.id):
        if t["action"] in ("proposed", "edited", "authorise"):
            people.append(t["actor"])
    return [p for p in dict.fromkeys(people) if p]


async def sweep_lapsed(api: Api) -> int:
    """Record as lapsed each live restriction past its review date, where reviews lapse.

    Looked for first in a read (cheap, and usually nothing), then again inside the write
    transaction, so two gateways sweeping together record each lapse once.
    """
    if not (await api.org()).lapse_at_review:
        return 0
    async with api.admin.reading("finding lapsed restrictions") as conn:
        if not await _due(conn, api):
            return 0
    async with api.admin.writing(GATEWAY_ACTOR, "recording lapsed restrictions") as tx:
        due = await _due(tx.conn, api)
        for restriction, version in due:
            await _lapse(tx, restriction, version)
    return len(due)


async def _due(conn: AsyncConnection, api: Api) -> list[tuple[Restriction, int]]:
    now = api.clock()
    return [
        (r, v)
        for r, v in await live_with_review_by(conn, api.today())
        if r.review_on is not None and now >= lapse_instant(r.review_on, api.settings.zone)
    ]


async def _lapse(tx: Tx, restriction: Restriction, version: int) -> None:
    status = check_transition(Transition.LAPSE, restriction.status, None)
    new = restriction.model_copy(update={"status": status})
    await save_restriction(
        tx,
        new,
        action=Transition.LAPSE.value,
        reason=f"reached its review date {restriction.review_on} without being renewed, "
        "and the organisation's setting is that restrictions lapse at review",
        before=restriction,
        version=version,
    )
