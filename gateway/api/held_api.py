"""Held contact: list with filters, read the stored content (audited), release to the
named officer, or mark reviewed with a note ("read and file" means a person read it).

Each held contact is shown with its age and read-by deadline (gateway.held.age), and the
list filters on ``overdue``. A reader marking an item read may say it raises a new
matter or is urgent (``raises``): then it is not filed but released, an appeal to the
appeals address and so on (the protected route of its class, from the settings), a new
matter or a class with no route to the named officer, as a release does.
"""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.api.deps import API, Api
from gateway.api.errors import ApiError
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page
from gateway.api.release import release
from gateway.held.age import HeldAges, held_ages
from gateway.store import ContentAltered, HeldContact, HeldStateError, HeldStatus, NotFound
from gateway.store.casework.admin import check_version, etag
from gateway.store.casework.records import list_held
from rules.decision import HoldReason
from rules.models import Channel, Handling
from rules.protected import ExemptClass
from rules.roles import Permission


class Raises(StrEnum):
    """What a reader says a held contact raises: a new matter, or a kind of urgent
    contact no restriction may stop (rules.protected.ExemptClass)."""

    NEW_MATTER = "new_matter"
    EMERGENCY_REPAIR = "emergency_repair"
    SAFEGUARDING = "safeguarding"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"
    APPEAL = "appeal"
    COMPLAINT = "complaint"


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
    raises: Raises | None = Field(description="what its reader said it raises, if released so")
    escalated_at: datetime | None = Field(description="when it was escalated, left unread")
    age_seconds: int = Field(ge=0, description="seconds since it was held")
    age_working_days: int = Field(ge=0, description="working days since the day it was held")
    age: str = Field(description='the age as a person reads it: "held 2 working days ago"')
    read_by: datetime = Field(description="when it becomes overdue if nobody has read it")
    overdue: bool = Field(description="still unread (status held) past read_by")


class HeldQuery(PageQuery):
    customer: str | None = Field(default=None, max_length=64)
    status: HeldStatus | None = None
    channel: Channel | None = None
    hold_reason: HoldReason | None = None
    restriction: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None


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
    raises: Raises | None = Field(
        default=None,
        description="it raises a new matter or is urgent: release it to where that kind goes "
        "instead of filing it",
    )


class Released(BaseModel):
    held: HeldOut
    delivered_to: list[str]


class ReviewedOut(HeldOut):
    delivered_to: list[str] = Field(description="where it went, when ``raises`` released it")


def _out(held: HeldContact, ages: HeldAges) -> dict[str, Any]:
    return held.as_dict() | ages.facts(held.created_at, held.status)


async def _ages(ctx: Ctx) -> HeldAges:
    api = ctx.request.app[API]
    return await held_ages(api.admin.store, api.settings, api.clock())


def _with_version(held: HeldContact, body: dict[str, Any]) -> Reply:
    """The ETag covers the stored contact, not its age, which changes by the second."""
    return Reply(body=body, etag=etag(held.as_dict()))


async def held_list(ctx: Ctx) -> Reply:
    q: HeldQuery = ctx.query
    filters = {
        "customer_id": q.customer,
        "status": None if q.status is None else q.status.value,
        "channel": None if q.channel is None else q.channel.value,
        "hold_reason": None if q.hold_reason is None else q.hold_reason.value,
        "restriction_id": q.restriction,
    }
    ages = await _ages(ctx)
    overdue = None if q.overdue is None else (q.overdue, ages.held_before())
    async with ctx.request.app[API].admin.reading("listing held contact") as conn:
        found = await list_held(
            conn, filters=filters, limit=q.limit + 1, offset=q.offset, overdue=overdue
        )
    return Reply(page([_out(h, ages) for h in found], q))


async def _held(ctx: Ctx) -> int:
    held_id = ctx.path_int("held_id", "held contact")
    if await ctx.request.app[API].admin.store.get_held(held_id) is None:
        raise NotFound(f"there is no held contact {held_id}")
    return held_id


async def held_get(ctx: Ctx) -> Reply:
    held = await ctx.request.app[API].admin.store.get_held(await _held(ctx))
    assert held is not None
    return _with_version(held, _out(held, await _ages(ctx)))


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
    try:
        data = await store.get_content(held.content_sha256) if held.content_sha256 else None
    except ContentAltered as exc:
        raise ApiError(
            409,
            f"the stored content of held contact {held.id} has been altered since it was "
            f"recorded (evidence record {held.evidence_seq}), so it is not shown: "
            f"{exc.detail}",
        ) from None
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
    return Reply({"held": _out(held, await _ages(ctx)), "delivered_to": to})


async def held_review(ctx: Ctx) -> Reply:
    """Mark read and filed; or, when the reader says it raises something, send it on."""
    body: ReviewedIn = ctx.body
    api = ctx.request.app[API]
    held_id = await _held(ctx)
    await _unchanged(ctx, held_id)
    delivered: list[str] = []
    if body.raises is None:
        held = await api.admin.store.mark_reviewed(held_id, actor=ctx.user.name, note=body.note)
    else:
        held, delivered = await _release_raised(
            ctx.request.app, api, held_id, body.raises, actor=ctx.user.name, note=body.note
        )
    return _with_version(held, _out(held, await _ages(ctx)) | {"delivered_to": delivered})


async def _release_raised(
    app: web.Application, api: Api, held_id: int, raises: Raises, *, actor: str, note: str
) -> tuple[HeldContact, list[str]]:
    """Release an unread item its reader says raises ``raises``, where that kind goes.

    An urgent class goes to its protected route (a complaint under no contact to the
    head of service, where named); a new matter, or a class the organisation gave no
    address, goes to the named officer (or the covering deputy) as any release does.
    """
    held = await api.admin.store.get_held(held_id)
    assert held is not None
    if held.status != HeldStatus.HELD.value:
        by = f" by {held.resolved_by}" if held.resolved_by else ""
        raise HeldStateError(
            f"held contact {held_id} is already {held.status}{by}, so it cannot be marked read"
        )
    destination = None
    if raises is not Raises.NEW_MATTER:
        index = await api.service.policy()
        restriction = index.restriction(held.restriction_id)
        no_contact = restriction is not None and restriction.handling is Handling.NO_CONTACT
        destination = index.settings.protected.destination(
            ExemptClass(raises.value), no_contact=no_contact
        )
    return await release(
        app,
        api,
        held_id,
        actor=actor,
        note=note,
        to=None,
        destination=destination,
        raises=raises.value,
    )


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
        "Mark read and filed, with a note of what the reader found; with 'raises' (a new "
        "matter or an urgent kind) release it instead, to that kind's protected route or "
        "the named officer",
        TAG,
        body=ReviewedIn,
        response=ReviewedOut,
        if_match=True,
    ),
]
