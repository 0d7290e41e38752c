"""Held contact: list with filters, read the stored content (audited), release to the
named officer, or mark reviewed with a note ("read and file" means a person read it)."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.api.release import release
from gateway.store import HeldStatus, NotFound
from gateway.store.admin import check_version
from gateway.store.records import list_held
from rules.decision import HoldReason
from rules.models import Channel
from rules.roles import Permission


class HeldOut(BaseModel):
    id: int
    evidence_seq: int
    customer_id: str | None
    restriction_id: str | None
    channel: str
    hold_reason: str | None
    sender: str
    recipient: str
    content_sha256: str | None
    summary: str
    created_at: datetime
    status: HeldStatus
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_note: str | None


class HeldQuery(PageQuery):
    customer: str | None = Field(default=None, max_length=64)
    status: HeldStatus | None = None
    channel: Channel | None = None
    hold_reason: HoldReason | None = None
    restriction: str | None = Field(default=None, max_length=64)


class HeldContent(BaseModel):
    """The stored content: as text when it is UTF-8, and always as base64."""

    id: int
    content_sha256: str | None
    size: int
    text: str | None
    content_base64: str


class ReleaseIn(Strict):
    note: str | None = Field(default=None, min_length=1, max_length=10_000)
    to: str | None = Field(default=None, min_length=3, max_length=254)


class ReviewedIn(Strict):
    note: str = Field(min_length=1, max_length=10_000)


class Released(BaseModel):
    held: HeldOut
    delivered_to: list[str]


async def held_list(ctx: Ctx) -> Reply:
    q: HeldQuery = ctx.query
    filters = {
        "customer_id": q.customer,
        "status": None if q.status is None else q.status.value,
        "channel": None if q.channel is None else q.channel.value,
        "hold_reason": None if q.hold_reason is None else q.hold_reason.value,
        "restriction_id": q.restriction,
    }
    async with ctx.request.app[API].admin.reading("listing held contact") as conn:
        found = await list_held(conn, filters=filters, limit=q.limit + 1, offset=q.offset)
    return Reply(page([h.as_dict() for h in found], q))


async def _held(ctx: Ctx) -> int:
    held_id = ctx.path_int("held_id", "held contact")
    if await ctx.request.app[API].admin.store.get_held(held_id) is None:
        raise NotFound(f"there is no held contact {held_id}")
    return held_id


async def held_get(ctx: Ctx) -> Reply:
    held = await ctx.request.app[API].admin.store.get_held(await _held(ctx))
    assert held is not None
    return with_etag(held.as_dict())


async def _unchanged(ctx: Ctx, held_id: int) -> None:
    """Honour ``If-Match``: act only on the held contact as the officer last saw it."""
    held = await ctx.request.app[API].admin.store.get_held(held_id)
    assert held is not None
    check_version(ctx.if_match, held.as_dict(), f"held contact {held_id}")


async def held_content(ctx: Ctx) -> Reply:
    """The stored content; each read is written to the audit log before it is answered."""
    store = ctx.request.app[API].admin.store
    held = await store.get_held(await _held(ctx))
    assert held is not None
    data = b"" if held.content_sha256 is None else await store.get_content(held.content_sha256)
    data = data or b""
    await store.append_audit(
        ctx.user.name,
        "read_content",
        "held_contact",
        str(held.id),
        None,
        {"content_sha256": held.content_sha256},
    )
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return Reply(
        {
            "id": held.id,
            "content_sha256": held.content_sha256,
            "size": len(data),
            "text": text,
            "content_base64": base64.b64encode(data).decode("ascii"),
        }
    )


async def held_release(ctx: Ctx) -> Reply:
    body: ReleaseIn = ctx.body
    held_id = await _held(ctx)
    await _unchanged(ctx, held_id)
    held, to = await release(
        ctx.request.app,
        ctx.request.app[API],
        held_id,
        actor=ctx.user.name,
        note=body.note,
        to=body.to,
    )
    return Reply({"held": held.as_dict(), "delivered_to": to})


async def held_review(ctx: Ctx) -> Reply:
    body: ReviewedIn = ctx.body
    store = ctx.request.app[API].admin.store
    held_id = await _held(ctx)
    await _unchanged(ctx, held_id)
    held = await store.mark_reviewed(held_id, actor=ctx.user.name, note=body.note)
    return with_etag(held.as_dict())


TAG = "held contact"
M = Permission.MANAGE_HELD
ONE = "/held/{held_id}"
ROUTES = [
    Route(
        "GET",
        "/held",
        held_list,
        Permission.READ,
        "Held contact, oldest first (by customer, status, channel, reason, restriction)",
        TAG,
        query=HeldQuery,
        response=Page[HeldOut],
    ),
    Route("GET", ONE, held_get, Permission.READ, "One held contact", TAG, response=HeldOut),
    Route(
        "GET",
        f"{ONE}/content",
        held_content,
        M,
        "The stored content of a held contact (audited)",
        TAG,
        response=HeldContent,
    ),
    Route(
        "POST",
        f"{ONE}/release",
        held_release,
        M,
        "Release to the named officer (or deputy), through the mail queue",
        TAG,
        body=ReleaseIn,
        response=Released,
        if_match=True,
    ),
    Route(
        "POST",
        f"{ONE}/review",
        held_review,
        M,
        "Mark read and filed, with a note of what the reader found",
        TAG,
        body=ReviewedIn,
        response=HeldOut,
        if_match=True,
    ),
]
