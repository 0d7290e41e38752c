"""Possible matches: unknown senders who look like a restricted customer, to confirm
(the address or number is added to the customer) or dismiss. Both are audited."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.store.casework.admin import check_version
from gateway.store.casework.matches import confirm_match, dismiss_match, get_match, list_matches
from rules.roles import Permission

Status = Literal["open", "confirmed", "dismissed"]


class MatchQuery(PageQuery):
    status: Status | Literal["any"] = Field(default="open", description="'any' for all")


class Clue(BaseModel):
    clue: str = Field(description="display_name, signed_name, phone_in_text or email_in_text")
    value: str


class MatchOut(BaseModel):
    id: int
    customer_id: str
    identity: str = Field(description="the unknown address or number (normalised)")
    channel: str
    clues: list[Clue]
    summary: str
    contact_key: str | None
    first_seen: datetime
    last_seen: datetime
    seen: int
    status: Status
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


class DecisionIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


async def matches_list(ctx: Ctx) -> Reply:
    q: MatchQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing possible matches") as conn:
        status = None if q.status == "any" else q.status
        rows = await list_matches(conn, status=status, limit=q.limit + 1, offset=q.offset)
    return Reply(page(rows, q))


async def matches_get(ctx: Ctx) -> Reply:
    match_id = ctx.path_int("match_id", "possible match")
    async with ctx.request.app[API].admin.reading("reading a possible match") as conn:
        return with_etag(await get_match(conn, match_id))


async def matches_confirm(ctx: Ctx) -> Reply:
    body: DecisionIn = ctx.body
    match_id = ctx.path_int("match_id", "possible match")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "confirming a match") as tx:
        check_version(ctx.if_match, await get_match(tx.conn, match_id), f"match {match_id}")
        return with_etag(await confirm_match(tx, match_id, body.note))


async def matches_dismiss(ctx: Ctx) -> Reply:
    body: DecisionIn = ctx.body
    match_id = ctx.path_int("match_id", "possible match")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "dismissing a match") as tx:
        check_version(ctx.if_match, await get_match(tx.conn, match_id), f"match {match_id}")
        return with_etag(await dismiss_match(tx, match_id, body.note))


TAG = "possible matches"
ROUTES = [
    Route(
        "GET",
        "/matches",
        matches_list,
        Permission.READ,
        "Unknown senders who look like a restricted customer (open ones unless status says)",
        TAG,
        query=MatchQuery,
        response=Page[MatchOut],
    ),
    Route(
        "GET",
        "/matches/{match_id}",
        matches_get,
        Permission.READ,
        "Read a possible match",
        TAG,
        response=MatchOut,
    ),
    Route(
        "POST",
        "/matches/{match_id}/confirm",
        matches_confirm,
        Permission.EDIT_RECORDS,
        "It is the customer: add the address or number to them (their restriction then "
        "applies to it); audited",
        TAG,
        body=DecisionIn,
        response=MatchOut,
        if_match=True,
    ),
    Route(
        "POST",
        "/matches/{match_id}/dismiss",
        matches_dismiss,
        Permission.EDIT_RECORDS,
        "It is not the customer: the address or number stays unknown, and the pair is not "
        "listed again; audited",
        TAG,
        body=DecisionIn,
        response=MatchOut,
        if_match=True,
    ),
]
