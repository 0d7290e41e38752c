"""Exemptions: check a text, and (administrators) the phrases and the protected routes.

The phrases are YAML (see rules.exemption_config), checked whole: an answer of 422
names every problem with its line, and nothing is stored until nothing is wrong. Stored
phrases take the place of GATEWAY_EXEMPTION_PHRASES's file; protected routes stored
here take the place of the GATEWAY_PROTECTED_* route of the same name. Both change
decisions, so both move the policy version: every gateway uses them at its next contact.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError, FieldProblem
from gateway.api.framework import Ctx, Reply, Route, Strict
from gateway.config.exemption_phrases import ORG_SETTING, PhraseFileError, read_phrases
from gateway.config.settings import parse_identities
from gateway.decisions.org_decisions import ROUTES_SETTING
from gateway.store.casework.casework import read_settings, write_settings
from rules.exemption_lexicon import CLASS_ORDER, LANGUAGES
from rules.protected import RouteName
from rules.roles import Permission


class CheckIn(Strict):
    text: str = Field(min_length=1, max_length=1_000_000)


class Overruled(BaseModel):
    exempt_class: str
    words: str
    phrase: str
    ordinary: float = Field(description="how likely the model found ordinary contact, 0 to 1")
    reader: Literal["model", "second_look"] = Field(
        description="which model held it: 'model' (the model that reads what no phrase "
        "matched) or 'second_look' (the model that looks again at what a phrase matched)"
    )


class CheckOut(BaseModel):
    exempt_class: str | None
    words: str | None
    phrase: str | None
    reader: str | None = Field(
        description="'phrase', or 'model' when the trained model found it exempt"
    )
    overruled: Overruled | None = Field(
        default=None,
        description="held although a phrase matched: a trained model found the message "
        "likely enough to be ordinary contact (see docs/exemptions.md)",
    )


class PhrasesIn(Strict):
    yaml: str = Field(max_length=1_000_000)


class PhrasesOut(BaseModel):
    yaml: str
    source: Literal["stored", "file", "defaults"]
    classes: list[str]
    languages: list[str]


class RoutesIn(Strict):
    routes: dict[RouteName, str]


class RoutesOut(BaseModel):
    routes: dict[str, list[str]]
    stored: dict[str, str]


async def check(ctx: Ctx) -> Reply:
    body: CheckIn = ctx.body
    index = await ctx.request.app[API].service.policy()
    exemptions = index.settings.exemptions
    found = exemptions.explain(body.text)
    overruled = None if found else exemptions.overruled(body.text)
    return Reply(
        {
            "exempt_class": found.exempt_class if found else None,
            "words": found.words if found else None,
            "phrase": found.phrase if found else None,
            "reader": found.reader if found else None,
            "overruled": None
            if overruled is None
            else {
                "exempt_class": overruled.match.exempt_class,
                "words": overruled.match.words,
                "phrase": overruled.match.phrase,
                "ordinary": round(overruled.ordinary, 3),
                "reader": overruled.reader,
            },
        }
    )


async def phrases_get(ctx: Ctx) -> Reply:
    api = ctx.request.app[API]
    async with api.admin.reading("reading the exemption phrases") as conn:
        stored = (await read_settings(conn)).get(ORG_SETTING)
    if isinstance(stored, str) and stored.strip():
        text, source = stored, "stored"
    elif api.settings.exemption_phrases is not None:
        text, source = api.settings.exemption_phrases.read_text(encoding="utf-8"), "file"
    else:
        text, source = "", "defaults"
    return Reply(
        {
            "yaml": text,
            "source": source,
            "classes": list(CLASS_ORDER),
            "languages": list(LANGUAGES),
        }
    )


async def phrases_put(ctx: Ctx) -> Reply:
    body: PhrasesIn = ctx.body
    try:
        read_phrases(body.yaml, "the phrases")
    except PhraseFileError as exc:
        raise ApiError(
            422,
            f"the phrases were not changed: {exc}",
            [FieldProblem("body.yaml", problem) for problem in exc.problems],
        ) from None
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "changing the exemption phrases") as tx:
        await write_settings(tx, {ORG_SETTING: body.yaml})
    return await phrases_get(ctx)


async def routes_get(ctx: Ctx) -> Reply:
    api = ctx.request.app[API]
    index = await api.service.policy()
    async with api.admin.reading("reading the protected routes") as conn:
        stored = (await read_settings(conn)).get(ROUTES_SETTING) or {}
    return Reply(
        {
            "routes": {
                name.value: list(ids) for name, ids in index.settings.protected.routes.items()
            },
            "stored": stored,
        }
    )


async def routes_put(ctx: Ctx) -> Reply:
    body: RoutesIn = ctx.body
    problems = []
    cleaned: dict[str, str] = {}
    for name, text in body.routes.items():
        try:
            cleaned[name.value] = ",".join(parse_identities(text))
        except ValueError as exc:
            problems.append(FieldProblem(f"body.routes.{name.value}", str(exc)))
    if problems:
        raise ApiError(422, "the protected routes were not changed", problems)
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "changing the protected routes") as tx:
        await write_settings(tx, {ROUTES_SETTING: cleaned})
    return await routes_get(ctx)


TAG = "exemptions"
ROUTES = [
    Route(
        "POST",
        "/exemptions/check",
        check,
        Permission.READ,
        "Which exemption class a text falls in, and on which words",
        TAG,
        body=CheckIn,
        response=CheckOut,
    ),
    Route(
        "GET",
        "/exemptions/phrases",
        phrases_get,
        Permission.READ,
        "The organisation's changes to the exemption phrases (YAML)",
        TAG,
        response=PhrasesOut,
    ),
    Route(
        "PUT",
        "/exemptions/phrases",
        phrases_put,
        Permission.MANAGE_SETTINGS,
        "Replace the organisation's changes to the exemption phrases (checked whole)",
        TAG,
        body=PhrasesIn,
        response=PhrasesOut,
    ),
    Route(
        "GET",
        "/exemptions/routes",
        routes_get,
        Permission.READ,
        "The protected routes in force, and those an administrator set",
        TAG,
        response=RoutesOut,
    ),
    Route(
        "PUT",
        "/exemptions/routes",
        routes_put,
        Permission.MANAGE_SETTINGS,
        "Set protected routes (each replaces the GATEWAY_PROTECTED_* route of its name)",
        TAG,
        body=RoutesIn,
        response=RoutesOut,
    ),
]
