"""Unacceptable-behaviour incidents, for any customer, restricted or not, and the
"consider action" list: customers whose incidents reach the organisation's rule
(``incident_threshold`` in ``incident_window_days``, org settings; 3 in 90 by default)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError, FieldProblem
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.store.casework.admin import Invalid
from gateway.store.casework.incidents import (
    add_incident,
    customers_to_consider,
    get_incident,
    list_incidents,
)
from gateway.store.casework.letters import warnings_of
from gateway.store.casework.records import customer_exists
from gateway.store.errors import NotFound
from rules.casework import FlagCategory
from rules.roles import Permission

IncidentChannel = Literal[
    "email", "sms", "voice", "letter", "visit", "staff_mobile", "social_media", "in_person"
]
MAX_INCIDENT_BODY = 8 * 1024 * 1024


class IncidentAttachment(Strict):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    content_base64: str


class IncidentIn(Strict):
    """What happened: when, how, of what kind, in words, and who was there."""

    occurred_at: AwareDatetime
    channel: IncidentChannel
    category: FlagCategory
    description: str = Field(min_length=1, max_length=20_000)
    people: str = Field(default="", max_length=2_000)
    attachments: list[IncidentAttachment] = Field(default_factory=list, max_length=20)
    evidence_seq: int | None = Field(default=None, ge=1)


class AttachmentFacts(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class IncidentOut(BaseModel):
    id: int
    customer_id: str
    occurred_at: datetime
    channel: str
    category: FlagCategory
    description: str
    people: str
    attachments: list[AttachmentFacts]
    evidence_seq: int | None
    recorded_by: str
    recorded_at: datetime


class WarningStage(BaseModel):
    """A warning letter: when it reached the customer, and the incidents it names."""

    letter: int
    warned_at: datetime | None = Field(description="emailed or posted; none while to post")
    status: str
    incidents: list[int]


def warning_stage(warnings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest warning letter of a customer's, as ``WarningStage``."""
    if not warnings:
        return None
    latest = warnings[-1]
    return {
        "letter": latest["id"],
        "warned_at": latest["warned_at"],
        "status": latest["status"],
        "incidents": latest["incidents"],
    }


class ConsiderOut(BaseModel):
    """A customer whose incidents reach the rule, with those incidents."""

    customer_id: str
    count: int
    incidents: list[IncidentOut]
    warning: WarningStage | None = Field(
        description="the customer's latest warning letter (the warning stage), if any"
    )


class ConsiderList(BaseModel):
    threshold: int
    window_days: int
    items: list[ConsiderOut]


def check_attachments(items: list[Any], field: str = "body.attachments") -> None:
    """Every attachment must be base64; the error names the one that is not."""
    for i, item in enumerate(items):
        try:
            base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                422,
                f"attachments[{i}] is not valid base64",
                [FieldProblem(f"{field}[{i}].content_base64", "not base64")],
            ) from None


async def record_incident(ctx: Ctx, customer_id: str, body: IncidentIn) -> dict[str, Any]:
    """Record ``body`` for ``customer_id`` (also used by ``POST /contacts``)."""
    api = ctx.request.app[API]
    if body.occurred_at > api.clock():
        raise Invalid(f"occurred_at {body.occurred_at.isoformat()} is in the future", "occurred_at")
    check_attachments(body.attachments)
    async with api.admin.writing(ctx.user.name, "recording an incident") as tx:
        if not await customer_exists(tx.conn, customer_id):
            raise NotFound(f"there is no customer '{customer_id}'")
        return await add_incident(
            tx,
            customer_id,
            occurred_at=body.occurred_at,
            channel=body.channel,
            category=body.category.value,
            description=body.description,
            people=body.people,
            attachments=[a.model_dump() for a in body.attachments],
            evidence_seq=body.evidence_seq,
        )


async def incidents_create(ctx: Ctx) -> Reply:
    incident = await record_incident(ctx, ctx.path("customer_id"), ctx.body)
    return with_etag(incident, status=201)


async def incidents_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.reading("listing incidents") as conn:
        if not await customer_exists(conn, customer_id):
            raise NotFound(f"there is no customer '{customer_id}'")
        rows = await list_incidents(conn, customer_id)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def incidents_get(ctx: Ctx) -> Reply:
    incident_id = ctx.path_int("incident_id", "incident")
    async with ctx.request.app[API].admin.reading("reading an incident") as conn:
        return with_etag(await get_incident(conn, incident_id))


async def consider_list(ctx: Ctx) -> Reply:
    api = ctx.request.app[API]
    org = await api.org()
    async with api.admin.reading("finding customers to consider") as conn:
        items = await customers_to_consider(
            conn,
            api.clock(),
            threshold=org.incident_threshold,
            window_days=org.incident_window_days,
        )
        for item in items:
            item["warning"] = warning_stage(await warnings_of(conn, item["customer_id"]))
    return Reply(
        {
            "threshold": org.incident_threshold,
            "window_days": org.incident_window_days,
            "items": items,
        }
    )


TAG = "incidents"
ROUTES = [
    Route(
        "POST",
        "/customers/{customer_id}/incidents",
        incidents_create,
        Permission.RECORD_CONTACT,
        "Record an unacceptable-behaviour incident for a customer, restricted or not (audited)",
        TAG,
        body=IncidentIn,
        response=IncidentOut,
        status=201,
        max_body=MAX_INCIDENT_BODY,
    ),
    Route(
        "GET",
        "/customers/{customer_id}/incidents",
        incidents_list,
        Permission.READ,
        "A customer's incidents, oldest first",
        TAG,
        query=PageQuery,
        response=Page[IncidentOut],
    ),
    Route(
        "GET",
        "/incidents/{incident_id}",
        incidents_get,
        Permission.READ,
        "One incident",
        TAG,
        response=IncidentOut,
    ),
    Route(
        "GET",
        "/consider-action",
        consider_list,
        Permission.READ,
        "Customers whose incidents reach the organisation's rule (N incidents in P days), "
        "with those incidents: for a manager to consider action",
        TAG,
        response=ConsiderList,
    ),
]
