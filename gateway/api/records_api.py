"""Officers (with absence and deputy), customers (identities, representatives), who an
address belongs to, and which users are assigned to a customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError, FieldProblem
from gateway.api.framework import (
    Ctx,
    Page,
    PageQuery,
    Reply,
    Route,
    Strict,
    page,
    region_context,
    with_etag,
)
from gateway.store import NotFound
from gateway.store.accounts.users import get_user
from gateway.store.casework.casework import assign, list_assignments, unassign
from gateway.store.casework.records import (
    customer_exists,
    find_identity,
    get_customer,
    get_officer,
    list_customers,
    list_officers,
    policy_fields,
    retire_customer,
    retire_officer,
    save_customer,
    save_officer,
)
from rules.identity import IdentityError, normalise_identity
from rules.models import Customer, Officer, Representative
from rules.roles import Permission


class OfficerChange(Strict):
    """Fields to change; a field left out stays as it is, ``null`` clears it."""

    name: str | None = Field(default=None, min_length=1, max_length=2000)
    email: str | None = None
    phone: str | None = None
    deputy: str | None = None
    absent: bool | None = None


class CustomerChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=2000)
    emails: list[str] | None = None
    phones: list[str] | None = None
    representatives: list[Representative] | None = None


class RetiredFields(BaseModel):
    """When and by whom a record was retired (null while it is in use)."""

    retired_at: datetime | None = None
    retired_by: str | None = None


class OfficerOut(Officer, RetiredFields):
    pass


class CustomerOut(Customer, RetiredFields):
    pass


class RecordQuery(PageQuery):
    include_retired: bool = False


class CustomerQuery(RecordQuery):
    search: str | None = Field(default=None, max_length=200)


class IdentityMatch(BaseModel):
    customer: str
    kind: str
    representative: str | None


class IdentityOut(BaseModel):
    value: str
    matches: list[IdentityMatch]


class AssignmentOut(BaseModel):
    customer_id: str
    user_name: str
    assigned_by: str
    assigned_at: datetime


def _merge(ctx: Ctx, current: dict[str, Any], model: type[Any]) -> Any:
    changes = ctx.body.model_dump(mode="json", exclude_unset=True)
    for key in ("name", "absent", "emails", "phones", "representatives"):
        if key in changes and changes[key] is None:
            raise ApiError(422, f"{key} cannot be null", [FieldProblem(f"body.{key}", "null")])
    merged = {**policy_fields(current), **changes}
    return model.model_validate(merged, context=region_context(ctx.request))


async def officers_list(ctx: Ctx) -> Reply:
    q: RecordQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing officers") as conn:
        found = await list_officers(
            conn, limit=q.limit + 1, offset=q.offset, include_retired=q.include_retired
        )
    return Reply(page(found, q))


async def officers_create(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.writing(ctx.user.name, "adding an officer") as tx:
        saved = await save_officer(tx, ctx.body, create=True)
    return with_etag(saved, status=201)


async def officers_get(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.reading("reading an officer") as conn:
        return with_etag(await get_officer(conn, ctx.path("officer_id")))


async def officers_change(ctx: Ctx) -> Reply:
    officer_id = ctx.path("officer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "changing an officer") as tx:
        current = await get_officer(tx.conn, officer_id)
        officer = _merge(ctx, current, Officer)
        saved = await save_officer(tx, officer, create=False, if_match=ctx.if_match)
    return with_etag(saved)


async def customers_list(ctx: Ctx) -> Reply:
    q: CustomerQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing customers") as conn:
        found = await list_customers(
            conn,
            limit=q.limit + 1,
            offset=q.offset,
            search=q.search,
            include_retired=q.include_retired,
        )
    return Reply(page(found, q))


async def customers_create(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.writing(ctx.user.name, "adding a customer") as tx:
        saved = await save_customer(tx, ctx.body, create=True)
    return with_etag(saved, status=201)


async def customers_get(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.reading("reading a customer") as conn:
        return with_etag(await get_customer(conn, ctx.path("customer_id")))


async def customers_change(ctx: Ctx) -> Reply:
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "changing a customer") as tx:
        current = await get_customer(tx.conn, customer_id)
        customer = _merge(ctx, current, Customer)
        saved = await save_customer(tx, customer, create=False, if_match=ctx.if_match)
    return with_etag(saved)


async def officers_retire(ctx: Ctx) -> Reply:
    officer_id = ctx.path("officer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "retiring an officer") as tx:
        saved = await retire_officer(tx, officer_id, if_match=ctx.if_match)
    return with_etag(saved)


async def customers_retire(ctx: Ctx) -> Reply:
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "retiring a customer") as tx:
        saved = await retire_customer(tx, customer_id, if_match=ctx.if_match)
    return with_etag(saved)


async def identity_get(ctx: Ctx) -> Reply:
    raw = ctx.path("value")
    api = ctx.request.app[API]
    try:
        value = normalise_identity(raw, api.settings.default_region)
    except IdentityError:
        raise ApiError(404, f"'{raw}' is not an address or number anyone has") from None
    async with api.admin.reading("looking up an identity") as conn:
        matches = await find_identity(conn, value)
    if not matches:
        raise ApiError(404, f"'{value}' belongs to no customer or representative")
    return Reply({"value": value, "matches": matches})


async def assignments_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.reading("listing assignments") as conn:
        await _customer(conn, customer_id)
        rows = await list_assignments(conn, customer_id)
    return Reply(page(rows[q.offset : q.offset + q.limit + 1], q))


async def _customer(conn: Any, customer_id: str) -> None:
    if not await customer_exists(conn, customer_id):
        raise NotFound(f"there is no customer '{customer_id}'")


async def assignments_put(ctx: Ctx) -> Reply:
    customer_id, name = ctx.path("customer_id"), ctx.path("user_name")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "assigning a user") as tx:
        await _customer(tx.conn, customer_id)
        await get_user(tx.conn, name)
        return Reply(await assign(tx, customer_id, name))


async def assignments_delete(ctx: Ctx) -> Reply:
    customer_id, name = ctx.path("customer_id"), ctx.path("user_name")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "unassigning a user") as tx:
        await _customer(tx.conn, customer_id)
        await unassign(tx, customer_id, name)
    return Reply(None, status=204)


TAG = "officers and customers"
W = Permission.EDIT_RECORDS
R = Permission.READ
ROUTES = [
    Route(
        "GET",
        "/officers",
        officers_list,
        R,
        "List officers (retired ones only with include_retired=true)",
        TAG,
        query=RecordQuery,
        response=Page[OfficerOut],
    ),
    Route(
        "POST",
        "/officers",
        officers_create,
        W,
        "Add an officer",
        TAG,
        body=Officer,
        response=OfficerOut,
        status=201,
    ),
    Route(
        "GET",
        "/officers/{officer_id}",
        officers_get,
        R,
        "Read an officer",
        TAG,
        response=OfficerOut,
    ),
    Route(
        "PATCH",
        "/officers/{officer_id}",
        officers_change,
        W,
        "Change an officer: contact details, deputy, absence",
        TAG,
        body=OfficerChange,
        response=OfficerOut,
        if_match=True,
    ),
    Route(
        "POST",
        "/officers/{officer_id}/retire",
        officers_retire,
        W,
        "Retire an officer: hidden from lists, kept for history; cannot be named on or "
        "deputise for a restriction from now on",
        TAG,
        response=OfficerOut,
        if_match=True,
    ),
    Route(
        "GET",
        "/customers",
        customers_list,
        R,
        "List customers (search by name or id; retired ones only with include_retired=true)",
        TAG,
        query=CustomerQuery,
        response=Page[CustomerOut],
    ),
    Route(
        "POST",
        "/customers",
        customers_create,
        W,
        "Add a customer with their addresses, numbers and representatives",
        TAG,
        body=Customer,
        response=CustomerOut,
        status=201,
    ),
    Route(
        "GET",
        "/customers/{customer_id}",
        customers_get,
        R,
        "Read a customer",
        TAG,
        response=CustomerOut,
    ),
    Route(
        "PATCH",
        "/customers/{customer_id}",
        customers_change,
        W,
        "Change a customer: name, identities (emails, phones), representatives",
        TAG,
        body=CustomerChange,
        response=CustomerOut,
        if_match=True,
    ),
    Route(
        "POST",
        "/customers/{customer_id}/retire",
        customers_retire,
        W,
        "Retire a customer: hidden from lists, kept with their evidence; refused (409) "
        "while a restriction on them is active or suspended",
        TAG,
        response=CustomerOut,
        if_match=True,
    ),
    Route(
        "GET",
        "/identities/{value}",
        identity_get,
        R,
        "Whose address or number this is (customer or representative)",
        TAG,
        response=IdentityOut,
    ),
    Route(
        "GET",
        "/customers/{customer_id}/assignments",
        assignments_list,
        R,
        "Users assigned to a customer (they may read its flags' reasons)",
        TAG,
        query=PageQuery,
        response=Page[AssignmentOut],
    ),
    Route(
        "PUT",
        "/customers/{customer_id}/assignments/{user_name}",
        assignments_put,
        Permission.ASSIGN,
        "Assign a user to a customer",
        TAG,
        response=AssignmentOut,
    ),
    Route(
        "DELETE",
        "/customers/{customer_id}/assignments/{user_name}",
        assignments_delete,
        Permission.ASSIGN,
        "Remove a user's assignment to a customer",
        TAG,
        status=204,
    ),
]
