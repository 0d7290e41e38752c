"""Warning flags (reasons on a need-to-know basis, every read audited) and reasonable
adjustments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.store.casework.admin import Tx, check_version
from gateway.store.casework.casework import (
    add_adjustment,
    add_flag,
    get_adjustment,
    get_flag,
    is_assigned,
    list_adjustments,
    list_flags,
    read_flag_reason,
    remove_adjustment,
    remove_flag,
)
from gateway.store.casework.records import customer_exists
from gateway.store.errors import NotFound
from rules.casework import FlagCategory, FlagLevel, Need, may_read_flag_reason
from rules.roles import Permission

Text = Field(min_length=1, max_length=10_000)


class FlagIn(Strict):
    level: FlagLevel
    category: FlagCategory
    reason: str = Text


class RemovalIn(Strict):
    reason: str = Text


class FlagOut(BaseModel):
    """A flag as everyone with read access sees it: no reason."""

    id: int
    customer_id: str
    level: FlagLevel
    category: FlagCategory
    created_by: str
    created_at: datetime
    active: bool
    removed_by: str | None
    removed_at: datetime | None
    removal_reason: str | None


class FlagWithReason(FlagOut):
    reason: str


class AdjustmentIn(Strict):
    need: Need
    description: str = Text


class AdjustmentOut(BaseModel):
    id: int
    customer_id: str
    need: Need
    description: str
    recorded_by: str
    recorded_at: datetime
    active: bool
    removed_by: str | None
    removed_at: datetime | None


class CaseListQuery(PageQuery):
    include_removed: bool = False


async def _customer(conn: Any, customer_id: str) -> None:
    if not await customer_exists(conn, customer_id):
        raise NotFound(f"there is no customer '{customer_id}'")


async def flags_list(ctx: Ctx) -> Reply:
    q: CaseListQuery = ctx.query
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.reading("listing flags") as conn:
        await _customer(conn, customer_id)
        rows = await list_flags(conn, customer_id, include_removed=q.include_removed)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def flags_create(ctx: Ctx) -> Reply:
    body: FlagIn = ctx.body
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "adding a flag") as tx:
        await _customer(tx.conn, customer_id)
        flag = await add_flag(tx, customer_id, body.level.value, body.category.value, body.reason)
    return with_etag(flag, status=201)


async def flags_get(ctx: Ctx) -> Reply:
    flag_id = ctx.path_int("flag_id", "flag")
    async with ctx.request.app[API].admin.reading("reading a flag") as conn:
        return with_etag(await get_flag(conn, flag_id))


async def flag_reason(ctx: Ctx) -> Reply:
    """A flag's reason, for those with a need; each read is written to the audit log."""
    flag_id = ctx.path_int("flag_id", "flag")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "reading a flag reason") as tx:
        await _may_read(tx, ctx, flag_id)
        return Reply(await read_flag_reason(tx, flag_id))


async def _may_read(tx: Tx, ctx: Ctx, flag_id: int) -> None:
    flag = await get_flag(tx.conn, flag_id)
    assigned = await is_assigned(tx.conn, flag["customer_id"], ctx.user.name)
    if not may_read_flag_reason(ctx.user.role, assigned=assigned):
        raise ApiError(
            403,
            "a flag's reason is for those with a need to know: an authoriser, or an officer "
            f"assigned to customer '{flag['customer_id']}'",
        )


async def flags_remove(ctx: Ctx) -> Reply:
    body: RemovalIn = ctx.body
    flag_id = ctx.path_int("flag_id", "flag")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "removing a flag") as tx:
        check_version(ctx.if_match, await get_flag(tx.conn, flag_id), f"flag {flag_id}")
        return with_etag(await remove_flag(tx, flag_id, body.reason))


async def adjustments_list(ctx: Ctx) -> Reply:
    q: CaseListQuery = ctx.query
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.reading("listing adjustments") as conn:
        await _customer(conn, customer_id)
        rows = await list_adjustments(conn, customer_id, include_removed=q.include_removed)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def adjustments_create(ctx: Ctx) -> Reply:
    body: AdjustmentIn = ctx.body
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "adding an adjustment") as tx:
        await _customer(tx.conn, customer_id)
        adjustment = await add_adjustment(tx, customer_id, body.need.value, body.description)
    return with_etag(adjustment, status=201)


async def adjustments_get(ctx: Ctx) -> Reply:
    adjustment_id = ctx.path_int("adjustment_id", "adjustment")
    async with ctx.request.app[API].admin.reading("reading an adjustment") as conn:
        return with_etag(await get_adjustment(conn, adjustment_id))


async def adjustments_remove(ctx: Ctx) -> Reply:
    adjustment_id = ctx.path_int("adjustment_id", "adjustment")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "removing an adjustment") as tx:
        current = await get_adjustment(tx.conn, adjustment_id)
        check_version(ctx.if_match, current, f"adjustment {adjustment_id}")
        return with_etag(await remove_adjustment(tx, adjustment_id))


TAG = "flags and adjustments"
R, W = Permission.READ, Permission.MANAGE_FLAGS
ROUTES = [
    Route(
        "GET",
        "/customers/{customer_id}/flags",
        flags_list,
        R,
        "A customer's warning flags (level and category; the reason is read separately)",
        TAG,
        query=CaseListQuery,
        response=Page[FlagOut],
    ),
    Route(
        "POST",
        "/customers/{customer_id}/flags",
        flags_create,
        W,
        "Add a warning flag",
        TAG,
        body=FlagIn,
        response=FlagOut,
        status=201,
    ),
    Route(
        "GET",
        "/flags/{flag_id}",
        flags_get,
        R,
        "Read a warning flag (without its reason)",
        TAG,
        response=FlagOut,
    ),
    Route(
        "GET",
        "/flags/{flag_id}/reason",
        flag_reason,
        R,
        "Read a flag's reason (authorisers, or officers assigned to the customer); audited",
        TAG,
        response=FlagWithReason,
    ),
    Route(
        "POST",
        "/flags/{flag_id}/remove",
        flags_remove,
        W,
        "Remove a warning flag",
        TAG,
        body=RemovalIn,
        response=FlagOut,
        if_match=True,
    ),
    Route(
        "GET",
        "/customers/{customer_id}/adjustments",
        adjustments_list,
        R,
        "A customer's recorded reasonable adjustments",
        TAG,
        query=CaseListQuery,
        response=Page[AdjustmentOut],
    ),
    Route(
        "POST",
        "/customers/{customer_id}/adjustments",
        adjustments_create,
        W,
        "Record a reasonable adjustment",
        TAG,
        body=AdjustmentIn,
        response=AdjustmentOut,
        status=201,
    ),
    Route(
        "GET",
        "/adjustments/{adjustment_id}",
        adjustments_get,
        R,
        "Read a reasonable adjustment",
        TAG,
        response=AdjustmentOut,
    ),
    Route(
        "POST",
        "/adjustments/{adjustment_id}/remove",
        adjustments_remove,
        W,
        "Mark a reasonable adjustment as no longer needed",
        TAG,
        response=AdjustmentOut,
        if_match=True,
    ),
]
