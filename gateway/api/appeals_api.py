"""Appeals (decided by an authoriser not involved in the original decision) and reviews
(renew, or revoke; overdue reviews listed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.api.restriction_views import (
    ClauseChanges,
    RestrictionOut,
    apply_changes,
    check_references,
    involved,
    restriction_out,
    sweep_lapsed,
)
from gateway.api.restrictions_api import load_for_change, reply_for
from gateway.config.org_settings import bank_holidays
from gateway.store.casework.admin import Conflict, Invalid, check_version, etag
from gateway.store.casework.lifecycle import (
    decide_appeal,
    get_appeal,
    get_restriction,
    insert_appeal,
    insert_review,
    list_appeals,
    list_reviews,
    list_transitions,
    live_with_review_by,
    save_restriction,
)
from rules.lifecycle import (
    NeedsJustification,
    Transition,
    add_period,
    check_appeal_reviewer,
    check_transition,
)
from rules.roles import Permission

Words = Field(min_length=1, max_length=10_000)


class AppealIn(Strict):
    lodged_on: date
    grounds: str = Words
    late_reason: str | None = Field(default=None, min_length=1, max_length=10_000)


class AppealOut(BaseModel):
    id: int
    restriction_id: str
    lodged_on: date
    recorded_by: str
    grounds: str
    deadline: date
    in_time: bool
    late_reason: str | None
    status: Literal["open", "decided"]
    outcome: Literal["quash", "vary", "uphold"] | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime


class AppealDecisionIn(Strict):
    outcome: Literal["quash", "vary", "uphold"]
    reason: str = Words
    changes: ClauseChanges | None = None


class AppealDecided(BaseModel):
    appeal: AppealOut
    restriction: RestrictionOut


class ReviewIn(Strict):
    outcome: Literal["renew", "revoke"]
    notes: str = Words
    next_review_on: date | None = None


class ReviewOut(BaseModel):
    id: int
    restriction_id: str
    due_on: date | None
    outcome: Literal["renew", "revoke"]
    notes: str
    next_review_on: date | None
    reviewer: str
    reviewed_at: datetime


async def appeals_lodge(ctx: Ctx) -> Reply:
    body: AppealIn = ctx.body
    api = ctx.request.app[API]
    org = await api.org()
    today = api.today()
    if body.lodged_on > today:
        raise Invalid(f"lodged_on {body.lodged_on} is in the future", "lodged_on")
    async with api.admin.writing(ctx.user.name, "lodging an appeal") as tx:
        current, _ = await load_for_change(tx, ctx)
        check_transition(Transition.LODGE_APPEAL, current.status, ctx.user.role)
        authorised = [
            t for t in await list_transitions(tx.conn, current.id) if t["action"] == "authorise"
        ]
        start = authorised[-1]["at"].astimezone(api.settings.zone).date() if authorised else today
        deadline = add_period(start, org.appeal_period, bank_holidays(org.bank_holidays, start))
        in_time = body.lodged_on <= deadline
        if not in_time and body.late_reason is None:
            raise NeedsJustification(
                f"the appeal period ({org.appeal_period.describe()} from {start}) ended on "
                f"{deadline}: give a late_reason to accept this appeal late",
                field="late_reason",
            )
        appeal = await insert_appeal(
            tx,
            {
                "restriction_id": current.id,
                "lodged_on": body.lodged_on,
                "grounds": body.grounds,
                "deadline": deadline,
                "in_time": in_time,
                "late_reason": body.late_reason,
            },
        )
    return with_etag(appeal, status=201)


async def appeals_get(ctx: Ctx) -> Reply:
    appeal_id = ctx.path_int("appeal_id", "appeal")
    async with ctx.request.app[API].admin.reading("reading an appeal") as conn:
        return with_etag(await get_appeal(conn, appeal_id))


async def appeals_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing appeals") as conn:
        restriction, _ = await get_restriction(conn, ctx.path("restriction_id"))
        rows = await list_appeals(conn, restriction.id)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def appeals_decide(ctx: Ctx) -> Reply:
    """Quash (revoked), vary (clauses changed) or uphold, by someone not involved."""
    body: AppealDecisionIn = ctx.body
    api = ctx.request.app[API]
    appeal_id = ctx.path_int("appeal_id", "appeal")
    async with api.admin.writing(ctx.user.name, "deciding an appeal") as tx:
        appeal = await get_appeal(tx.conn, appeal_id)
        check_version(ctx.if_match, appeal, f"appeal {appeal_id}")
        if appeal["status"] != "open":
            raise Conflict(f"appeal {appeal_id} was already decided by {appeal['decided_by']}")
        current, version = await get_restriction(tx.conn, appeal["restriction_id"])
        transition = Transition(body.outcome)
        status = check_transition(transition, current.status, ctx.user.role)
        check_appeal_reviewer(ctx.user.name, await involved(tx.conn, current))
        new = None
        if transition is Transition.QUASH:
            new = current.model_copy(update={"status": status})
        elif transition is Transition.VARY:
            if body.changes is None:
                raise Invalid("an appeal varied needs the changes to make", "changes")
            new = apply_changes(current, body.changes)
            await check_references(tx.conn, new)
        if new is not None:
            await save_restriction(
                tx,
                new,
                action=transition.value,
                reason=f"appeal {appeal_id}: {body.reason}",
                before=current,
                version=version,
                details={"appeal": appeal_id},
            )
        decided = await decide_appeal(tx, appeal_id, body.outcome, body.reason)
    restriction = (await reply_for(api, current.id)).body
    # The ETag is the appeal's (the restriction's own is on GET /restrictions/{id}).
    return Reply({"appeal": decided, "restriction": restriction}, etag=etag(decided))


async def reviews_record(ctx: Ctx) -> Reply:
    body: ReviewIn = ctx.body
    api = ctx.request.app[API]
    org = await api.org()
    today = api.today()
    async with api.admin.writing(ctx.user.name, "reviewing a restriction") as tx:
        current, version = await load_for_change(tx, ctx)
        transition = Transition.RENEW if body.outcome == "renew" else Transition.REVOKE
        status = check_transition(transition, current.status, ctx.user.role)
        next_review = None
        if transition is Transition.RENEW:
            next_review = body.next_review_on or add_period(
                today, org.review_period, bank_holidays(org.bank_holidays, today)
            )
            if next_review <= today:
                raise Invalid(
                    f"next_review_on {next_review} is not in the future", "next_review_on"
                )
        new = current.model_copy(
            update={"status": status, "review_on": next_review or current.review_on}
        )
        await save_restriction(
            tx,
            new,
            action=transition.value,
            reason=f"review: {body.notes}",
            before=current,
            version=version,
        )
        review = await insert_review(
            tx,
            {
                "restriction_id": current.id,
                "due_on": current.review_on,
                "outcome": body.outcome,
                "notes": body.notes,
                "next_review_on": next_review,
            },
        )
    return Reply(review, status=201)


async def reviews_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing reviews") as conn:
        restriction, _ = await get_restriction(conn, ctx.path("restriction_id"))
        rows = await list_reviews(conn, restriction.id)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def reviews_overdue(ctx: Ctx) -> Reply:
    """Live restrictions whose review date has passed, the longest overdue first."""
    q: PageQuery = ctx.query
    api = ctx.request.app[API]
    await sweep_lapsed(api)
    today = api.today()
    async with api.admin.reading("listing overdue reviews") as conn:
        found = await live_with_review_by(
            conn, today - timedelta(days=1), limit=q.limit + 1, offset=q.offset
        )
        items = [await restriction_out(conn, r, v, today) for r, v in found]
    return Reply(page(items, q))


TAG = "appeals and reviews"
ONE = "/restrictions/{restriction_id}"
ROUTES = [
    Route(
        "POST",
        f"{ONE}/appeals",
        appeals_lodge,
        Permission.PROPOSE,
        "Record an appeal lodged by the customer (late appeals need a reason)",
        TAG,
        body=AppealIn,
        response=AppealOut,
        status=201,
    ),
    Route(
        "GET",
        f"{ONE}/appeals",
        appeals_list,
        Permission.READ,
        "A restriction's appeals",
        TAG,
        query=PageQuery,
        response=Page[AppealOut],
    ),
    Route(
        "GET",
        "/appeals/{appeal_id}",
        appeals_get,
        Permission.READ,
        "Read an appeal",
        TAG,
        response=AppealOut,
    ),
    Route(
        "POST",
        "/appeals/{appeal_id}/decision",
        appeals_decide,
        Permission.DECIDE,
        "Decide an appeal: quash, vary or uphold (not by anyone involved in the decision)",
        TAG,
        body=AppealDecisionIn,
        response=AppealDecided,
        if_match=True,
    ),
    Route(
        "POST",
        f"{ONE}/reviews",
        reviews_record,
        Permission.DECIDE,
        "Record a review: renew (with the next review date) or revoke",
        TAG,
        body=ReviewIn,
        response=ReviewOut,
        status=201,
        if_match=True,
    ),
    Route(
        "GET",
        f"{ONE}/reviews",
        reviews_list,
        Permission.READ,
        "A restriction's reviews",
        TAG,
        query=PageQuery,
        response=Page[ReviewOut],
    ),
    Route(
        "GET",
        "/reviews/overdue",
        reviews_overdue,
        Permission.READ,
        "Restrictions whose review date has passed",
        TAG,
        query=PageQuery,
        response=Page[RestrictionOut],
    ),
]
