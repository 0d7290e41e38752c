"""The organisation's teams (``gateway.config.teams``): named sets of staff addresses and
numbers a restriction's scope may name. Read by anyone; set by an administrator."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from gateway.api.deps import API
from gateway.api.errors import ApiError, FieldProblem
from gateway.api.framework import Ctx, Reply, Route, Strict
from gateway.config.teams import TEAMS_SETTING, stored_teams
from gateway.store.casework.casework import read_settings, write_settings
from gateway.store.casework.lifecycle import list_restrictions
from rules.models import Status, format_loc
from rules.roles import Permission
from rules.scope import Team

# A restriction in these states still names its teams (a draft may yet be authorised).
_NAMING = (Status.DRAFT, Status.ACTIVE, Status.SUSPENDED)


class TeamIn(Strict):
    name: str = Field(min_length=1, max_length=2000)
    addresses: list[str] = Field(default_factory=list, max_length=1000)
    numbers: list[str] = Field(default_factory=list, max_length=1000)


class TeamsIn(Strict):
    teams: dict[str, TeamIn] = Field(max_length=1000)


class TeamsOut(BaseModel):
    teams: dict[str, TeamIn]


async def teams_get(ctx: Ctx) -> Reply:
    api = ctx.request.app[API]
    async with api.admin.reading("reading the teams") as conn:
        teams = stored_teams(await read_settings(conn))
    return Reply({"teams": {t.id: t.model_dump(exclude={"id"}) for t in teams}})


async def teams_put(ctx: Ctx) -> Reply:
    """Replace the teams, checked whole: each team's id and members, and that no team a
    live restriction names is taken away (it would silently narrow the restriction)."""
    body: TeamsIn = ctx.body
    api = ctx.request.app[API]
    problems: list[FieldProblem] = []
    checked: dict[str, Team] = {}
    for team_id, team in body.teams.items():
        try:
            region = {"region": api.settings.default_region}
            made = Team.model_validate({"id": team_id, **team.model_dump()}, context=region)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = format_loc(("body", "teams", team_id, *error["loc"]))
                reason = str(error["msg"]).removeprefix("Value error, ")
                problems.append(FieldProblem(where, reason))
            continue
        checked[team_id] = made
    async with api.admin.writing(ctx.user.name, "changing the teams") as tx:
        for status in _NAMING:
            found = await list_restrictions(
                tx.conn, customer=None, status=status.value, limit=100_000, offset=0
            )
            for restriction, _ in found:
                scope = restriction.scope
                for named in scope.teams if scope else ():
                    if named not in body.teams:
                        problems.append(
                            FieldProblem(
                                "body.teams",
                                f"team '{named}' is named by restriction {restriction.id} "
                                f"({status.value}): change that restriction first",
                            )
                        )
        if problems:
            raise ApiError(422, "the teams were not changed", problems)
        stored = {
            t.id: {"name": t.name, "addresses": t.addresses, "numbers": t.numbers}
            for t in checked.values()
        }
        await write_settings(tx, {TEAMS_SETTING: stored})
    return await teams_get(ctx)


TAG = "teams"
ROUTES = [
    Route(
        "GET",
        "/teams",
        teams_get,
        Permission.READ,
        "The organisation's teams: named sets of staff addresses and numbers",
        TAG,
        response=TeamsOut,
    ),
    Route(
        "PUT",
        "/teams",
        teams_put,
        Permission.MANAGE_SETTINGS,
        "Replace the teams (a team a live restriction names cannot be taken away)",
        TAG,
        body=TeamsIn,
        response=TeamsOut,
    ),
]
