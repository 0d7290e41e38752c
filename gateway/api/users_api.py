"""Users (admins only), who-am-I, and the organisation's settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.config.org_settings import (
    IncidentThreshold,
    IncidentWindowDays,
    OrgSettings,
    WithheldCallers,
    org_settings_from,
)
from gateway.store.accounts.users import (
    UNSET,
    User,
    change_user,
    check_name,
    create_user,
    enabled_admins,
    get_user,
    list_users,
    rotate_token,
)
from gateway.store.casework.admin import check_version
from gateway.store.casework.casework import read_settings, write_settings
from rules.identity import normalise_email
from rules.lifecycle import Period
from rules.roles import Permission, Role


def _email(value: str | None) -> str | None:
    return None if value is None else normalise_email(value)


Email = Annotated[str | None, AfterValidator(_email)]
FullName = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


class UserOut(BaseModel):
    name: str
    role: Role
    full_name: str | None = None
    email: str | None = None
    disabled: bool
    created_at: datetime
    token_rotated_at: datetime | None


class UserWithToken(BaseModel):
    """The token is shown here once; only its hash is kept."""

    user: UserOut
    token: str


class UserIn(Strict):
    name: Annotated[str, AfterValidator(check_name)]
    role: Role
    full_name: FullName = None
    email: Email = None


class UserChange(Strict):
    """Fields to change; ``full_name`` or ``email`` given as null clears it."""

    role: Role | None = None
    disabled: bool | None = None
    full_name: FullName = None
    email: Email = None


class SettingsChange(Strict):
    lapse_at_review: bool | None = None
    appeal_period: Period | None = None
    review_period: Period | None = None
    bank_holidays: str | None = None
    appeal_decision_period: Period | None = None
    appeal_notice_period: Period | None = None
    incident_threshold: IncidentThreshold | None = None
    incident_window_days: IncidentWindowDays | None = None
    flag_review_period: Period | None = None
    flag_email_headers: bool | None = None
    flag_email_banner: bool | None = None
    flag_text_prefix: bool | None = None
    # The whole list: what is given replaces what was there ([] for none).
    closure_days: list[date] | None = None
    call_whisper: bool | None = None
    withheld_callers: WithheldCallers | None = None
    written_notice_required: bool | None = None
    letter_language: Literal["en", "cy", "bilingual"] | None = None


async def me(ctx: Ctx) -> Reply:
    return Reply(ctx.user.as_json())


async def users_list(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing users") as conn:
        found = await list_users(conn, limit=q.limit + 1, offset=q.offset)
    return Reply(page([u.as_json() for u in found], q))


async def users_create(ctx: Ctx) -> Reply:
    body: UserIn = ctx.body
    async with ctx.request.app[API].admin.writing(ctx.user.name, "creating a user") as tx:
        user, token = await create_user(
            tx, body.name, body.role, full_name=body.full_name, email=body.email
        )
    return Reply({"user": user.as_json(), "token": token}, status=201)


async def users_get(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.reading("reading a user") as conn:
        user = await get_user(conn, ctx.path("name"))
    return with_etag(user.as_json())


async def users_change(ctx: Ctx) -> Reply:
    body: UserChange = ctx.body
    name = ctx.path("name")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "changing a user") as tx:
        before = await get_user(tx.conn, name)
        check_version(ctx.if_match, before.as_json(), f"user {name}")
        _keep_an_admin(before, body, await enabled_admins(tx.conn))
        named = body.model_fields_set
        user = await change_user(
            tx,
            name,
            role=body.role,
            disabled=body.disabled,
            full_name=body.full_name if "full_name" in named else UNSET,
            email=body.email if "email" in named else UNSET,
        )
    return with_etag(user.as_json())


def _keep_an_admin(user: User, change: UserChange, admins: list[str]) -> None:
    """Refuse to lock everyone out: the last enabled admin stays an enabled admin."""
    leaves = change.disabled is True or (change.role is not None and change.role is not Role.ADMIN)
    if leaves and admins == [user.name]:
        raise ApiError(409, f"'{user.name}' is the last enabled admin; add another admin first")


async def users_rotate(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.writing(ctx.user.name, "rotating a token") as tx:
        user, token = await rotate_token(tx, ctx.path("name"))
    return Reply({"user": user.as_json(), "token": token})


async def settings_get(ctx: Ctx) -> Reply:
    return with_etag((await ctx.request.app[API].org()).model_dump(mode="json"))


async def settings_change(ctx: Ctx) -> Reply:
    body: SettingsChange = ctx.body
    async with ctx.request.app[API].admin.writing(ctx.user.name, "changing settings") as tx:
        current = org_settings_from(await read_settings(tx.conn))
        check_version(ctx.if_match, current.model_dump(mode="json"), "the settings")
        merged: dict[str, Any] = {
            **current.model_dump(mode="json"),
            **body.model_dump(mode="json", exclude_none=True),
        }
        new = OrgSettings.model_validate(merged)
        await write_settings(tx, new.model_dump(mode="json"))
    return with_etag(new.model_dump(mode="json"))


TAG = "users and settings"
ROUTES = [
    Route("GET", "/me", me, Permission.READ, "Who the token belongs to", TAG, response=UserOut),
    Route(
        "GET",
        "/users",
        users_list,
        Permission.MANAGE_USERS,
        "List users",
        TAG,
        query=PageQuery,
        response=Page[UserOut],
    ),
    Route(
        "POST",
        "/users",
        users_create,
        Permission.MANAGE_USERS,
        "Create a user; the token is in the answer, once",
        TAG,
        body=UserIn,
        response=UserWithToken,
        status=201,
    ),
    Route(
        "GET",
        "/users/{name}",
        users_get,
        Permission.MANAGE_USERS,
        "Read a user",
        TAG,
        response=UserOut,
    ),
    Route(
        "PATCH",
        "/users/{name}",
        users_change,
        Permission.MANAGE_USERS,
        "Change a user's role, or disable or enable them",
        TAG,
        body=UserChange,
        response=UserOut,
        if_match=True,
    ),
    Route(
        "POST",
        "/users/{name}/token",
        users_rotate,
        Permission.MANAGE_USERS,
        "Rotate a user's token: the old one stops working; the new one is shown once",
        TAG,
        response=UserWithToken,
    ),
    Route(
        "GET",
        "/settings",
        settings_get,
        Permission.READ,
        "The organisation's settings",
        TAG,
        response=OrgSettings,
    ),
    Route(
        "PATCH",
        "/settings",
        settings_change,
        Permission.MANAGE_SETTINGS,
        "Change the organisation's settings (the next contact sees the change)",
        TAG,
        body=SettingsChange,
        response=OrgSettings,
        if_match=True,
    ),
]
