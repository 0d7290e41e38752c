"""Letters to customers (written notice), the language they are written in, and the
exception to notice: asked for by an officer, signed off by a different authoriser."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.api.deps import API
from gateway.api.errors import ApiError
from gateway.api.framework import Ctx, Page, PageQuery, Reply, Route, Strict, page, with_etag
from gateway.letters.facts import LetterKind
from gateway.letters.service import LetterRequest
from gateway.letters.templates import TemplateProblem
from gateway.store.casework.casework import list_adjustments
from gateway.store.casework.letters import (
    get_language,
    get_letter,
    get_notice_exception,
    letter_pdf,
    list_letters,
    mark_posted,
    propose_notice_exception,
    set_language,
    sign_off_notice_exception,
)
from gateway.store.casework.lifecycle import get_restriction
from gateway.store.casework.records import customer_exists
from gateway.store.errors import NotFound
from rules.casework import Need
from rules.lifecycle import NotPermitted, WrongState, same_person
from rules.models import Status
from rules.roles import Permission

Words = Field(min_length=1, max_length=10_000)
LanguageName = Literal["en", "cy", "bilingual"]


class LetterIn(Strict):
    kind: LetterKind
    delivery: Literal["email", "post"]
    restriction: str | None = Field(default=None, min_length=1, max_length=64)
    appeal: int | None = Field(default=None, ge=1)
    review: int | None = Field(default=None, ge=1)
    behaviour: str | None = Field(default=None, min_length=1, max_length=5000)
    incidents: list[int] = Field(
        default_factory=list,
        max_length=50,
        description="a warning: the ids of the customer's incidents it names",
    )
    change_reason: str | None = Field(default=None, min_length=1, max_length=5000)
    language: LanguageName | None = None
    large_print: bool | None = None
    signatory: str | None = Field(default=None, min_length=1, max_length=200)


class LetterOut(BaseModel):
    id: int
    customer_id: str
    restriction_id: str | None
    restriction_version: int | None
    appeal_id: int | None
    review_id: int | None
    kind: LetterKind
    language: LanguageName
    large_print: bool
    delivery: Literal["email", "post"]
    status: Literal["sent", "to_post", "posted"]
    to_address: str | None
    title: str
    sha256: str = Field(description="SHA-256 of the PDF, as in the audit log")
    signatory: str
    created_by: str
    created_at: datetime
    sent_at: datetime | None
    posted_by: str | None
    incidents: list[int] = Field(description="the incidents a warning letter names")


class LanguageIn(Strict):
    language: LanguageName


class LanguageOut(BaseModel):
    customer_id: str
    language: LanguageName = Field(description="what letters are written in")
    recorded: bool = Field(description="false: the organisation's default applies")
    large_print: bool = Field(description="a large-print adjustment is recorded")


class ExceptionIn(Strict):
    reasons: str = Words


class SignOffIn(Strict):
    reason: str = Words


class ExceptionOut(BaseModel):
    restriction_id: str
    reasons: str
    proposed_by: str
    proposed_at: datetime
    signed_off_by: str | None
    signed_off_at: datetime | None
    sign_off_reason: str | None


async def _customer(conn: Any, customer_id: str) -> None:
    if not await customer_exists(conn, customer_id):
        raise NotFound(f"there is no customer '{customer_id}'")


async def letters_send(ctx: Ctx) -> Reply:
    body: LetterIn = ctx.body
    api = ctx.request.app[API]
    request = LetterRequest(
        customer_id=ctx.path("customer_id"),
        kind=body.kind,
        delivery=body.delivery,
        actor=ctx.user.name,
        actor_role=ctx.user.role,
        restriction_id=body.restriction,
        appeal_id=body.appeal,
        review_id=body.review,
        behaviour=body.behaviour,
        incident_ids=tuple(dict.fromkeys(body.incidents)),
        change_reason=body.change_reason,
        language=body.language,
        large_print=body.large_print,
        signatory=body.signatory,
    )
    async with api.admin.reading("checking a customer") as conn:
        await _customer(conn, request.customer_id)
    try:
        letter = await api.letters.send(request)
    except TemplateProblem as exc:
        raise ApiError(500, f"the letter was not sent: {exc}") from None
    api.wake_mail()
    return with_etag(letter, status=201)


async def letters_of_customer(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    customer_id = ctx.path("customer_id")
    async with ctx.request.app[API].admin.reading("listing letters") as conn:
        await _customer(conn, customer_id)
        rows = await list_letters(conn, customer_id=customer_id, limit=q.limit + 1, offset=q.offset)
    return Reply(page(rows, q))


async def letters_of_restriction(ctx: Ctx) -> Reply:
    q: PageQuery = ctx.query
    async with ctx.request.app[API].admin.reading("listing letters") as conn:
        restriction, _ = await get_restriction(conn, ctx.path("restriction_id"))
        rows = await list_letters(
            conn, restriction_id=restriction.id, limit=q.limit + 1, offset=q.offset
        )
    return Reply(page(rows, q))


async def letters_get(ctx: Ctx) -> Reply:
    letter_id = ctx.path_int("letter_id", "letter")
    async with ctx.request.app[API].admin.reading("reading a letter") as conn:
        return with_etag(await get_letter(conn, letter_id))


async def letters_pdf(ctx: Ctx) -> web.StreamResponse:
    """The stored PDF: a reprint is byte for byte the letter sent (same SHA-256)."""
    letter_id = ctx.path_int("letter_id", "letter")
    async with ctx.request.app[API].admin.reading("reading a letter") as conn:
        letter, pdf = await letter_pdf(conn, letter_id)
    name = f"letter-{letter['id']}-{letter['kind']}.pdf"
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Content-SHA256": letter["sha256"],
        },
    )


async def letters_posted(ctx: Ctx) -> Reply:
    letter_id = ctx.path_int("letter_id", "letter")
    async with ctx.request.app[API].admin.writing(ctx.user.name, "marking a letter posted") as tx:
        return with_etag(await mark_posted(tx, letter_id))


async def language_get(ctx: Ctx) -> Reply:
    customer_id = ctx.path("customer_id")
    api = ctx.request.app[API]
    org = await api.org()
    async with api.admin.reading("reading a customer's language") as conn:
        await _customer(conn, customer_id)
        recorded = await get_language(conn, customer_id)
        needs = [a["need"] for a in await list_adjustments(conn, customer_id)]
    return Reply(
        {
            "customer_id": customer_id,
            "language": recorded or org.letter_language,
            "recorded": recorded is not None,
            "large_print": Need.LARGE_PRINT.value in needs,
        }
    )


async def language_set(ctx: Ctx) -> Reply:
    body: LanguageIn = ctx.body
    customer_id = ctx.path("customer_id")
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "recording a customer's language") as tx:
        await _customer(tx.conn, customer_id)
        await set_language(tx, customer_id, body.language)
    return await language_get(ctx)


async def exception_get(ctx: Ctx) -> Reply:
    async with ctx.request.app[API].admin.reading("reading an exception to notice") as conn:
        restriction, _ = await get_restriction(conn, ctx.path("restriction_id"))
        found = await get_notice_exception(conn, restriction.id)
    if found is None:
        raise NotFound(f"no exception to notice has been asked for restriction {restriction.id}")
    return with_etag(found)


async def exception_propose(ctx: Ctx) -> Reply:
    """Ask not to tell the customer, because telling them would create a serious risk."""
    body: ExceptionIn = ctx.body
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "asking for an exception to notice") as tx:
        restriction, _ = await get_restriction(tx.conn, ctx.path("restriction_id"))
        if restriction.status is not Status.DRAFT:
            raise WrongState(
                f"restriction {restriction.id} is {restriction.status.value}: an exception to "
                "notice is decided before a restriction is put in force"
            )
        found = await propose_notice_exception(tx, restriction.id, body.reasons)
    return with_etag(found, status=201)


async def exception_sign_off(ctx: Ctx) -> Reply:
    """A director's sign-off: an authoriser who neither asked for the exception nor
    proposed the restriction."""
    body: SignOffIn = ctx.body
    api = ctx.request.app[API]
    async with api.admin.writing(ctx.user.name, "signing off an exception to notice") as tx:
        restriction, _ = await get_restriction(tx.conn, ctx.path("restriction_id"))
        found = await get_notice_exception(tx.conn, restriction.id)
        if found is None:
            raise NotFound(
                f"no exception to notice has been asked for restriction {restriction.id}"
            )
        for person, what in (
            (found["proposed_by"], "asked for this exception"),
            (restriction.proposed_by, "proposed this restriction"),
        ):
            if same_person(person, ctx.user.name):
                raise NotPermitted(
                    f"'{ctx.user.name}' {what}, so cannot also sign off the exception to "
                    "notice: another authoriser must"
                )
        signed = await sign_off_notice_exception(tx, restriction.id, body.reason)
    return with_etag(signed)


TAG = "letters"
R, W = Permission.READ, Permission.PROPOSE
ONE = "/restrictions/{restriction_id}"
ROUTES = [
    Route(
        "POST",
        "/customers/{customer_id}/letters",
        letters_send,
        W,
        "Write a letter (warning, decision, variation, review, appeal acknowledgement or "
        "outcome) and email it with its PDF, or keep it to be printed and posted",
        TAG,
        body=LetterIn,
        response=LetterOut,
        status=201,
    ),
    Route(
        "GET",
        "/customers/{customer_id}/letters",
        letters_of_customer,
        R,
        "A customer's letters, newest first",
        TAG,
        query=PageQuery,
        response=Page[LetterOut],
    ),
    Route(
        "GET",
        f"{ONE}/letters",
        letters_of_restriction,
        R,
        "The letters about a restriction, newest first",
        TAG,
        query=PageQuery,
        response=Page[LetterOut],
    ),
    Route(
        "GET",
        "/letters/{letter_id}",
        letters_get,
        R,
        "Read a letter's record",
        TAG,
        response=LetterOut,
    ),
    Route(
        "GET",
        "/letters/{letter_id}/pdf",
        letters_pdf,
        R,
        "The letter's PDF as sent (to reprint it)",
        TAG,
        response=dict[str, Any],
        downloads=("application/pdf",),
    ),
    Route(
        "POST",
        "/letters/{letter_id}/posted",
        letters_posted,
        W,
        "Record that a letter was printed and posted",
        TAG,
        response=LetterOut,
    ),
    Route(
        "GET",
        "/customers/{customer_id}/language",
        language_get,
        R,
        "The language a customer's letters are written in, and whether in large print",
        TAG,
        response=LanguageOut,
    ),
    Route(
        "PUT",
        "/customers/{customer_id}/language",
        language_set,
        Permission.MANAGE_FLAGS,
        "Record the language a customer's letters are written in (en, cy or bilingual)",
        TAG,
        body=LanguageIn,
        response=LanguageOut,
    ),
    Route(
        "GET",
        f"{ONE}/notice-exception",
        exception_get,
        R,
        "The exception to notice asked for (and whether signed off)",
        TAG,
        response=ExceptionOut,
    ),
    Route(
        "POST",
        f"{ONE}/notice-exception",
        exception_propose,
        W,
        "Ask not to tell the customer of a draft restriction (a serious risk), with reasons",
        TAG,
        body=ExceptionIn,
        response=ExceptionOut,
        status=201,
    ),
    Route(
        "POST",
        f"{ONE}/notice-exception/sign-off",
        exception_sign_off,
        Permission.DECIDE,
        "Sign off the exception to notice (an authoriser other than who asked or proposed)",
        TAG,
        body=SignOffIn,
        response=ExceptionOut,
    ),
]
