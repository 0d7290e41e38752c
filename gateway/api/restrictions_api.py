"""Restrictions: propose (draft), edit the draft, authorise (four eyes), reject, suspend,
resume, revoke; their transitions and versions. Every change is a new version, a
transition with who, when and why, an audit entry and a new policy version."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from gateway.api.deps import API, Api
from gateway.api.errors import ApiError
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.api.restriction_views import (
    ClauseChanges,
    Clauses,
    RestrictionOut,
    apply_changes,
    check_references,
    involved,
    restriction_out,
    sweep_lapsed,
)
from gateway.config.org_settings import bank_holidays
from gateway.store import NotFound, Store
from gateway.store.casework.admin import Invalid, Tx, check_version
from gateway.store.casework.casework import list_adjustments
from gateway.store.casework.letters import delivered_decision_letter, get_notice_exception
from gateway.store.casework.lifecycle import (
    get_restriction,
    insert_proposal,
    list_restrictions,
    list_transitions,
    save_restriction,
)
from rules.casework import Need, adjustment_conflicts
from rules.fields import Identifier
from rules.lifecycle import (
    NeedsJustification,
    Transition,
    WrongState,
    add_period,
    check_four_eyes,
    check_transition,
    check_written_notice,
)
from rules.models import Restriction, Status
from rules.roles import Permission

Words = Field(min_length=1, max_length=10_000)


class ProposalIn(Clauses):
    id: Identifier | None = None
    customer: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    evidence: list[int] = Field(default_factory=list, max_length=1000)
    evidence_summary: str = Words
    adjustments_considered: str = Words
    review_on: date | None = None


class ReasonIn(Strict):
    reason: str = Words


class AuthoriseIn(Strict):
    reason: str = Field(default="authorised", min_length=1, max_length=10_000)
    starts: AwareDatetime | None = None
    adjustment_justification: str | None = Field(default=None, min_length=1, max_length=10_000)


class RestrictionQuery(PageQuery):
    customer: str | None = Field(default=None, max_length=64)
    status: Status | None = None


class TransitionOut(BaseModel):
    version: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    reason: str
    details: dict[str, Any]


class VersionOut(BaseModel):
    version: int
    action: str
    actor: str
    at: datetime
    data: dict[str, Any]


async def reply_for(api: Api, restriction_id: str, status: int = 200) -> Reply:
    async with api.admin.reading("reading a restriction") as conn:
        restriction, version = await get_restriction(conn, restriction_id)
        body = await restriction_out(conn, restriction, version, api.today())
    return with_etag(body, status)


async def load_for_change(tx: Tx, ctx: Ctx) -> tuple[Restriction, int]:
    """The restriction named in the path, checked against ``If-Match``."""
    api = ctx.request.app[API]
    restriction, version = await get_restriction(tx.conn, ctx.path("restriction_id"))
    current = await restriction_out(tx.conn, restriction, version, api.today())
    check_version(ctx.if_match, current, f"restriction {restriction.id}")
    return restriction, version


async def restrictions_list(ctx: Ctx) -> Reply:
    q: RestrictionQuery = ctx.query
    api = ctx.request.app[API]
    await sweep_lapsed(api)
    status = None if q.status is None else q.status.value
    async with api.admin.reading("listing restrictions") as conn:
        found = await list_restrictions(
            conn, customer=q.customer, status=status, limit=q.limit + 1, offset=q.offset
        )
        items = [await restriction_out(conn, r, v, api.today()) for r, v in found]
    return Reply(page(items, q))


async def restrictions_propose(ctx: Ctx) -> Reply:
    body: ProposalIn = ctx.body
    api = ctx.request.app[API]
    org = await api.org()
    today = api.today()
    review_on = body.review_on or add_period(
        today, org.review_period, bank_holidays(org.bank_holidays, today)
    )
    if review_on <= today:
        raise Invalid(f"review_on {review_on} is not in the future", "review_on")
    clauses = body.model_dump(mode="json", include=set(Clauses.model_fields), exclude_unset=False)
    restriction = Restriction.model_validate(
        {
            **clauses,
            "id": body.id or f"R-{today.year}-{secrets.token_hex(3).upper()}",
            "customer": body.customer,
            "reason": body.reason,
            "proposed_by": ctx.user.name,
            "status": Status.DRAFT.value,
            "review_on": review_on.isoformat(),
        }
    )
    await _check_evidence(api.admin.store, restriction.customer, body.evidence)
    async with api.admin.writing(ctx.user.name, "proposing a restriction") as tx:
        await check_references(tx.conn, restriction)
        try:
            await get_restriction(tx.conn, restriction.id)
        except NotFound:
            pass
        else:
            raise ApiError(409, f"there is already a restriction '{restriction.id}'")
        await save_restriction(
            tx, restriction, action="proposed", reason=body.reason, before=None, version=0
        )
        await insert_proposal(
            tx,
            restriction.id,
            {
                "evidence_seqs": body.evidence,
                "evidence_summary": body.evidence_summary,
                "adjustments_considered": body.adjustments_considered,
                "proposed_review_on": review_on,
            },
        )
    return await reply_for(api, restriction.id, 201)


async def _check_evidence(store: Store, customer: str, seqs: list[int]) -> None:
    for seq in dict.fromkeys(seqs):
        record = await store.get_evidence(seq)
        if record is None or record.customer_id != customer:
            raise Invalid(f"evidence record {seq} is not one of customer {customer}'s", "evidence")


async def restrictions_get(ctx: Ctx) -> Reply:
    api = ctx.request.app[API]
    await sweep_lapsed(api)
    return await reply_for(api, ctx.path("restriction_id"))


async def restrictions_edit(ctx: Ctx) -> Reply:
    """A draft may be edited (by any officer; an editor then counts as a proposer)."""
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "editing a restriction") as tx:
        current, version = await load_for_change(tx, ctx)
        if current.status is not Status.DRAFT:
            raise WrongState(
                f"restriction {current.id} is {current.status.value}: only a draft is edited; "
                "an authorised restriction changes on review or appeal"
            )
        new = apply_changes(current, ctx.body)
        await check_references(tx.conn, new)
        await save_restriction(
            tx, new, action="edited", reason="draft edited", before=current, version=version
        )
    return await reply_for(api, new.id)


async def restrictions_authorise(ctx: Ctx) -> Reply:
    body: AuthoriseIn = ctx.body
    api = ctx.request.app[API]
    org = await api.org()
    async with api.admin.writing(ctx.user.name, "authorising a restriction") as tx:
        current, version = await load_for_change(tx, ctx)
        status = check_transition(Transition.AUTHORISE, current.status, ctx.user.role)
        for person in await involved(tx.conn, current):
            check_four_eyes(person, ctx.user.name)
        new = current.model_copy(
            update={
                "status": status,
                "authorised_by": ctx.user.name,
                "starts": body.starts or current.starts,
            }
        )
        new = Restriction.model_validate(new.model_dump(mode="json"))
        await check_references(tx.conn, new)
        needs = [Need(a["need"]) for a in await list_adjustments(tx.conn, current.customer)]
        conflicts = adjustment_conflicts(new, needs)
        if conflicts and body.adjustment_justification is None:
            raise NeedsJustification(
                "this restriction conflicts with the customer's reasonable adjustments ("
                + "; ".join(conflicts)
                + "): give a written adjustment_justification to authorise it anyway",
                field="adjustment_justification",
            )
        details: dict[str, Any] = {}
        if conflicts:
            details = {
                "adjustment_conflicts": conflicts,
                "adjustment_justification": body.adjustment_justification,
            }
        notice, new = await _written_notice(
            tx, current, version, new, required=org.written_notice_required
        )
        details.update(notice)
        await save_restriction(
            tx,
            new,
            action=Transition.AUTHORISE.value,
            reason=body.reason,
            before=current,
            version=version,
            details=details,
        )
    return await reply_for(api, new.id)


async def _written_notice(
    tx: Tx, current: Restriction, version: int, new: Restriction, *, required: bool
) -> tuple[dict[str, Any], Restriction]:
    """The decision letter sent (or posted) for this version of the draft, or the signed-off
    exception to notice; without one, authorising is refused where the organisation
    requires notice first. Under the exception the gateway's own notices are turned off:
    they speak of "the arrangement we have written to you about", which would be untrue."""
    letter = await delivered_decision_letter(tx.conn, current.id, version)
    exception = await get_notice_exception(tx.conn, current.id)
    signed = exception is not None and exception["signed_off_by"] is not None
    how = check_written_notice(
        current.id, required=required, letter_sent=letter is not None, exception_signed_off=signed
    )
    if how == "exception":
        assert exception is not None
        notice = {"notice": "exception", "exception_signed_off_by": exception["signed_off_by"]}
        return notice, new.model_copy(update={"notify_customer": False})
    if how == "letter":
        assert letter is not None
        return {"notice": "letter", "letter": letter["id"], "letter_sha256": letter["sha256"]}, new
    return {}, new


def _simple(transition: Transition) -> Any:
    async def handler(ctx: Ctx) -> Reply:
        body: ReasonIn = ctx.body
        api = ctx.request.app[API]
        async with api.admin.writing(ctx.user.name, f"{transition.value} a restriction") as tx:
            current, version = await load_for_change(tx, ctx)
            status = check_transition(transition, current.status, ctx.user.role)
            new = current.model_copy(update={"status": status})
            if transition is Transition.RESUME:
                await check_references(tx.conn, new, named_officer=False)
            await save_restriction(
                tx,
                new,
                action=transition.value,
                reason=body.reason,
                before=current,
                version=version,
            )
        return await reply_for(api, new.id)

    handler.__name__ = f"restrictions_{transition.value}"
    return handler


async def transitions_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing transitions") as conn:
        restriction, _ = await get_restriction(conn, ctx.path("restriction_id"))
        rows = await list_transitions(conn, restriction.id)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def history_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    api = ctx.request.app[API]
    async with api.admin.reading("reading a restriction") as conn:
        await get_restriction(conn, ctx.path("restriction_id"))
    versions = await api.admin.store.restriction_history(ctx.path("restriction_id"))
    rows = [
        {"version": v.version, "action": v.action, "actor": v.actor, "at": v.at, "data": v.data}
        for v in versions
    ]
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


TAG = "restrictions"
D = Permission.DECIDE
ONE = "/restrictions/{restriction_id}"


def _step(name: str, transition: Transition, summary: str) -> Route:
    return Route(
        "POST",
        f"{ONE}/{name}",
        _simple(transition),
        D,
        summary,
        TAG,
        body=ReasonIn,
        response=RestrictionOut,
        if_match=True,
    )


ROUTES = [
    Route(
        "GET",
        "/restrictions",
        restrictions_list,
        Permission.READ,
        "List restrictions (by customer, by status)",
        TAG,
        query=RestrictionQuery,
        response=Page[RestrictionOut],
    ),
    Route(
        "POST",
        "/restrictions",
        restrictions_propose,
        Permission.PROPOSE,
        "Propose a restriction (a draft): reason, evidence, adjustments considered, review date",
        TAG,
        body=ProposalIn,
        response=RestrictionOut,
        status=201,
    ),
    Route(
        "GET",
        ONE,
        restrictions_get,
        Permission.READ,
        "Read a restriction",
        TAG,
        response=RestrictionOut,
    ),
    Route(
        "PATCH",
        ONE,
        restrictions_edit,
        Permission.PROPOSE,
        "Edit a draft restriction",
        TAG,
        body=ClauseChanges,
        response=RestrictionOut,
        if_match=True,
    ),
    Route(
        "POST",
        f"{ONE}/authorise",
        restrictions_authorise,
        D,
        "Authorise a draft (not by anyone who proposed or edited it); enforced from starts",
        TAG,
        body=AuthoriseIn,
        response=RestrictionOut,
        if_match=True,
    ),
    _step("reject", Transition.REJECT, "Turn down a proposed restriction"),
    _step("suspend", Transition.SUSPEND, "Suspend an active restriction"),
    _step("resume", Transition.RESUME, "Resume a suspended restriction"),
    _step("revoke", Transition.REVOKE, "Revoke a restriction"),
    Route(
        "GET",
        f"{ONE}/transitions",
        transitions_list,
        Permission.READ,
        "Every transition: who, when, why",
        TAG,
        query=PageQuery,
        response=Page[TransitionOut],
    ),
    Route(
        "GET",
        f"{ONE}/history",
        history_list,
        Permission.READ,
        "Every version of the restriction",
        TAG,
        query=PageQuery,
        response=Page[VersionOut],
    ),
]
