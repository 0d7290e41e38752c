"""Evidence (list, read, export, verify), the audit log, explain, and contact recorded by
an officer (letters, visits, calls to staff mobiles, social media), which goes through
the same ``decide`` and into the same evidence chain as contact through the gateway."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError, FieldProblem
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page
from gateway.api.incidents_api import IncidentIn, record_incident
from gateway.chain.signing_key import SigningKeyError
from gateway.decisions.decision_json import decision_json
from gateway.evidence.checkpoints import CheckpointRefused, checkpointer_for, make_checkpoint
from gateway.evidence.export import customer_records, export_csv, export_json, record_object
from gateway.evidence.proofs import export_proofs
from gateway.mail.lifecycle import MAIL
from gateway.store.casework.admin import Invalid
from rules.casework import FlagCategory
from rules.decision import Contact
from rules.identity import IdentityError, normalise_identity
from rules.models import Channel
from rules.policy_index import recorded_sender
from rules.roles import Permission

MAX_RECORDED_BODY = 8 * 1024 * 1024


class EvidenceOut(BaseModel):
    """An evidence record: every hashed field, and its hash."""

    seq: int
    hash: str
    prev_hash: str
    recorded_at: str
    kind: str
    contact_key: str | None
    occurred_at: str
    channel: str
    sender: str
    recipient: str
    customer_id: str | None
    restriction_id: str | None
    action: str
    deliver_to: str | None
    hold_reason: str | None
    exemption: str | None
    reasons: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    counted: bool
    content_sha256: str | None
    content_ref: str | None
    policy_version: int
    degraded: bool
    details: dict[str, Any]


class EvidenceQuery(PageQuery):
    customer: str | None = Field(default=None, max_length=64)


class ExportQuery(Strict):
    customer: str = Field(min_length=1, max_length=64)
    format: Literal["json", "csv"] = "json"


class VerifyOut(BaseModel):
    ok: bool
    records_checked: int
    head_seq: int
    first_bad_seq: int | None
    problem: str
    description: str


class AuditOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


class ExplainIn(Strict):
    channel: Channel
    sender: str | None = Field(default=None, alias="from", min_length=1, max_length=320)
    customer: str | None = Field(default=None, min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=320)
    at: AwareDatetime | None = None
    text: str = Field(default="", max_length=100_000)
    emergency: bool = False
    by_appointment: bool = False


class Attachment(Strict):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    content_base64: str


class RecordedIncident(Strict):
    """Set when the contact itself was an incident of unacceptable behaviour: it is
    recorded as one (when, channel and attachments are the contact's), linked to the
    contact's evidence record."""

    category: FlagCategory
    description: str = Field(min_length=1, max_length=20_000)
    people: str = Field(default="", max_length=2_000)


class RecordedIn(Strict):
    channel: Literal["letter", "visit", "staff_mobile", "social_media"]
    customer: str = Field(min_length=1, max_length=64)
    representative: str | None = Field(default=None, min_length=1, max_length=2000)
    at: AwareDatetime
    received_by: str = Field(min_length=1, max_length=320)
    summary: str = Field(min_length=1, max_length=100_000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    by_appointment: bool = False
    reference: str | None = Field(default=None, min_length=1, max_length=200)
    incident: RecordedIncident | None = None


class RecordedOut(BaseModel):
    decision: dict[str, Any]
    evidence_seq: int | None
    held_id: int | None
    created: bool
    incident_id: int | None = None


async def evidence_list(ctx: Ctx) -> Reply:
    q: EvidenceQuery = ctx.query
    store = ctx.request.app[API].admin.store
    found = await store.list_evidence(customer_id=q.customer, limit=q.limit + 1, offset=q.offset)
    return Reply(page([record_object(r) for r in found], q))


async def evidence_get(ctx: Ctx) -> Reply:
    seq = ctx.path_int("seq", "evidence record")
    record = await ctx.request.app[API].admin.store.get_evidence(seq)
    if record is None:
        raise ApiError(404, f"there is no evidence record {seq}")
    return Reply(record_object(record))


async def evidence_export(ctx: Ctx) -> web.StreamResponse:
    q: ExportQuery = ctx.query
    api = ctx.request.app[API]
    store = api.admin.store
    records = await customer_records(store, q.customer)  # NotFound (404): no such customer
    head = await store.evidence_head()
    await store.append_audit(
        ctx.user.name, "exported", "evidence", q.customer, None, {"format": q.format}
    )
    now = api.clock()
    proofs = await export_proofs(store, api.settings, records, now, wake=_waker(ctx))
    if q.format == "csv":
        return web.Response(text=export_csv(records, head, proofs), content_type="text/csv")
    verification = await store.verify_evidence()
    text = export_json(
        records,
        head,
        customer_id=q.customer,
        exported_at=now,
        verification=verification,
        proofs=proofs,
    )
    return web.Response(text=text, content_type="application/json")


def _waker(ctx: Ctx) -> Callable[[], None]:
    """Start this gateway's mail worker (a checkpoint's witness email was queued)."""
    app = ctx.request.app

    def wake() -> None:
        runtime = app.get(MAIL)
        if runtime is not None:
            runtime.worker.wake()

    return wake


class CheckpointOut(BaseModel):
    """A signed checkpoint of the evidence log."""

    id: int
    tree_size: int
    root: str
    made_at: datetime
    signed_note: str
    verifier_key: str
    file: str | None
    witnesses: list[str]


async def checkpoint_now(ctx: Ctx) -> Reply:
    """Sign a checkpoint now: kept, written to the checkpoint directory, emailed."""
    api = ctx.request.app[API]
    try:
        checkpointer = checkpointer_for(api.settings, api.admin.store, _waker(ctx))
    except SigningKeyError as exc:
        raise ApiError(503, f"no checkpoint can be signed: {exc}") from None
    if checkpointer is None:
        raise ApiError(503, "no checkpoint can be signed: GATEWAY_EVIDENCE_SIGNING_KEY is not set")
    try:
        made = await make_checkpoint(checkpointer, api.clock())
    except CheckpointRefused as exc:
        raise ApiError(409, str(exc)) from None
    assert made is not None  # only a scheduled checkpoint can lose its period
    await api.admin.store.append_audit(
        ctx.user.name,
        "checkpointed",
        "evidence",
        str(made.id),
        None,
        {"tree_size": made.tree_size, "root": made.root.hex()},
    )
    return Reply(
        {
            "id": made.id,
            "tree_size": made.tree_size,
            "root": made.root.hex(),
            "made_at": made.made_at,
            "signed_note": made.note,
            "verifier_key": checkpointer.verifier.text(),
            "file": None if made.file is None else str(made.file),
            "witnesses": list(api.settings.evidence.witness_addresses),
        },
        status=201,
    )


def _verify(result: Any) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "records_checked": result.records_checked,
        "head_seq": result.head_seq,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
        "description": result.describe(),
    }


async def evidence_verify(ctx: Ctx) -> Reply:
    return Reply(_verify(await ctx.request.app[API].admin.store.verify_evidence()))


async def audit_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    found = await ctx.request.app[API].admin.store.list_audit(limit=q.limit + 1, offset=q.offset)
    return Reply(page([_audit(r) for r in found], q))


def _audit(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in AuditOut.model_fields}


async def audit_verify(ctx: Ctx) -> Reply:
    return Reply(_verify(await ctx.request.app[API].admin.store.verify_audit()))


async def explain(ctx: Ctx) -> Reply:
    """The decision a hypothetical contact would get; nothing is counted or recorded."""
    body: ExplainIn = ctx.body
    api = ctx.request.app[API]
    region = api.settings.default_region
    if (body.sender is None) == (body.customer is None):
        raise ApiError(
            422,
            "give either 'from' (an address or number) or 'customer'",
            [FieldProblem("body.from", "give 'from' or 'customer', not both")],
        )
    try:
        sender = (
            recorded_sender(body.customer)
            if body.customer is not None
            else normalise_identity(str(body.sender), region)
        )
    except IdentityError as exc:
        raise ApiError(422, str(exc), [FieldProblem("body.from", str(exc))]) from None
    try:
        recipient = normalise_identity(body.to, region)
    except IdentityError:
        recipient = body.to  # a letter's or visit's recipient: a name, not an address
    contact = Contact(
        channel=body.channel,
        sender=sender,
        recipient=recipient,
        at=body.at or api.clock(),
        text=body.text,
        emergency_requested=body.emergency,
        by_appointment=body.by_appointment,
    )
    return Reply(decision_json(await api.service.explain(contact)))


async def record_contact(ctx: Ctx) -> Reply:
    body: RecordedIn = ctx.body
    api = ctx.request.app[API]
    if body.at > api.clock():
        raise Invalid(f"at {body.at.isoformat()} is in the future", "at")
    index = await api.service.policy()
    customer = index.customers.get(body.customer)
    if customer is None:
        raise Invalid(f"'{body.customer}' is not a known customer id", "customer")
    position = None
    if body.representative is not None:
        names = [rep.name for rep in customer.representatives]
        if body.representative not in names:
            raise Invalid(
                f"'{body.representative}' is not one of the customer's representatives",
                "representative",
            )
        position = names.index(body.representative)
    attachments, stored = _attachments(body.attachments)
    content = json.dumps(
        {"summary": body.summary, "received_by": body.received_by, "attachments": stored},
        sort_keys=True,
        ensure_ascii=False,
    ).encode("utf-8")
    contact = Contact(
        channel=Channel(body.channel),
        sender=recorded_sender(body.customer, position),
        recipient=body.received_by,
        at=body.at,
        text=body.summary,
        by_appointment=body.by_appointment,
    )
    key = f"recorded:{body.reference}" if body.reference else f"recorded:{secrets.token_hex(16)}"
    handled = await api.service.handle(
        contact,
        contact_key=key,
        content=content,
        summary=body.summary[:200],
        details={
            "recorded_by": ctx.user.name,
            "received_by": body.received_by,
            "attachments": attachments,
        },
        notify_allowed=False,
        # An officer recorded it: it is evidence of what happened whether or not a
        # restriction applies (before any restriction is exactly when it is needed).
        record_unrestricted=True,
    )
    seq = None if handled.record is None else handled.record.seq
    incident_id = None
    if body.incident is not None and handled.created:
        incident = await record_incident(
            ctx,
            body.customer,
            IncidentIn(
                occurred_at=body.at,
                channel=body.channel,
                category=body.incident.category,
                description=body.incident.description,
                people=body.incident.people,
                attachments=[a.model_dump() for a in body.attachments],
                evidence_seq=seq,
            ),
        )
        incident_id = int(incident["id"])
    return Reply(
        {
            "decision": decision_json(handled.decision),
            "evidence_seq": seq,
            "held_id": handled.held_id,
            "created": handled.created,
            "incident_id": incident_id,
        },
        status=201 if handled.created else 200,
    )


def _attachments(items: list[Attachment]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    listed, stored = [], []
    for i, item in enumerate(items):
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                422,
                f"attachments[{i}] is not valid base64",
                [FieldProblem(f"body.attachments[{i}].content_base64", "not base64")],
            ) from None
        facts = {
            "filename": item.filename,
            "content_type": item.content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        listed.append(facts)
        stored.append({**facts, "content_base64": item.content_base64})
    return listed, stored


TAG = "evidence and audit"
R = Permission.READ
ROUTES = [
    Route(
        "GET",
        "/evidence",
        evidence_list,
        R,
        "Evidence records, newest first",
        TAG,
        query=EvidenceQuery,
        response=Page[EvidenceOut],
    ),
    Route(
        "GET",
        "/evidence/export",
        evidence_export,
        R,
        "One customer's records with the chain proof, as JSON or CSV (audited)",
        TAG,
        query=ExportQuery,
        response=dict[str, Any],
        downloads=("text/csv",),
    ),
    Route(
        "GET",
        "/evidence/verify",
        evidence_verify,
        R,
        "Check the whole evidence chain",
        TAG,
        response=VerifyOut,
    ),
    Route(
        "POST",
        "/evidence/checkpoints",
        checkpoint_now,
        Permission.MANAGE_SETTINGS,
        "Sign a checkpoint of the evidence log now: written to the checkpoint directory "
        "and emailed to the witnesses (audited)",
        TAG,
        response=CheckpointOut,
        status=201,
    ),
    Route(
        "GET", "/evidence/{seq}", evidence_get, R, "One evidence record", TAG, response=EvidenceOut
    ),
    Route(
        "GET",
        "/audit",
        audit_list,
        Permission.READ_AUDIT,
        "The audit log, newest first: who, when, what, before and after",
        TAG,
        query=PageQuery,
        response=Page[AuditOut],
    ),
    Route(
        "GET",
        "/audit/verify",
        audit_verify,
        Permission.READ_AUDIT,
        "Check the audit log's hash chain",
        TAG,
        response=VerifyOut,
    ),
    Route(
        "POST",
        "/explain",
        explain,
        R,
        "The decision and reasons a hypothetical contact would get (nothing recorded)",
        "explain",
        body=ExplainIn,
        response=dict[str, Any],
    ),
    Route(
        "POST",
        "/contacts",
        record_contact,
        Permission.RECORD_CONTACT,
        "Record a letter, visit, staff-mobile call or social-media message: decided and "
        "written to the evidence like any contact",
        "recorded contact",
        body=RecordedIn,
        response=RecordedOut,
        status=201,
        max_body=MAX_RECORDED_BODY,
    ),
]
