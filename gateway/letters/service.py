"""Writing, sending and recording a letter: gather, render in full, then one transaction.

The facts are read first and the letter rendered outside any write transaction (a PDF
takes tens of milliseconds, and the write lock is shared with the whole admin side);
then one transaction checks the restriction has not changed since, queues the email in
the durable mail queue (gateway.store.outbox) and stores the letter with its audit
entry, which carries the PDF's SHA-256. All three commit or none: a letter is recorded
as sent exactly when its email is queued, and never half-written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.common.clock import Clock
from gateway.config.org_settings import org_settings_from
from gateway.config.settings import Settings
from gateway.letters.facts import NEEDS_RESTRICTION, LetterInput, LetterKind
from gateway.letters.letter import Language, RenderedLetter, letter_email, write_letter
from gateway.letters.templates import LetterTemplates
from gateway.store import NewMail
from gateway.store.casework.admin import AdminStore, Conflict, Invalid
from gateway.store.casework.casework import list_adjustments, read_settings
from gateway.store.casework.incidents import get_incident
from gateway.store.casework.letters import get_language, insert_letter
from gateway.store.casework.lifecycle import (
    get_appeal,
    get_restriction,
    list_appeals,
    list_reviews,
    list_transitions,
)
from gateway.store.casework.records import get_customer, get_officer, policy_fields
from gateway.store.errors import NotFound
from gateway.store.outbox import enqueue_in
from rules.casework import Need
from rules.models import Officer
from rules.roles import Role

Delivery = Literal["email", "post"]
KIND = "letter"  # the mail queue's kind for a letter's email


@dataclass(frozen=True)
class LetterRequest:
    """What an officer asks for; the rest is read from the record."""

    customer_id: str
    kind: LetterKind
    delivery: Delivery
    actor: str
    actor_role: Role
    restriction_id: str | None = None
    appeal_id: int | None = None
    review_id: int | None = None
    behaviour: str | None = None
    incident_ids: tuple[int, ...] = ()  # a warning: the incidents it is about
    change_reason: str | None = None
    language: Language | None = None
    large_print: bool | None = None
    signatory: str | None = None


@dataclass
class Letters:
    """What writing letters needs: the store, settings, the checked templates, a clock."""

    admin: AdminStore
    settings: Settings
    templates: LetterTemplates
    clock: Clock

    async def send(self, request: LetterRequest) -> dict[str, Any]:
        """Write the letter in full, then queue it (email) or keep it for the post."""
        async with self.admin.reading("gathering a letter's facts") as conn:
            source, version, extra = await self._gather(conn, request)
            language = await self._language(conn, request)
            large = request.large_print
            if large is None:
                needs = [a["need"] for a in await list_adjustments(conn, request.customer_id)]
                large = Need.LARGE_PRINT.value in needs
        letter = write_letter(self.templates, source, language, large_print=large)
        to: tuple[str, ...] = ()
        if request.delivery == "email":
            # Every address recorded for the customer, in one message: a letter that
            # must tell them in writing should not hang on which address they read.
            to = tuple(source.customer.get("emails") or ())
            if not to:
                raise Invalid(
                    f"customer '{request.customer_id}' has no email address recorded: "
                    "send this letter by post",
                    "delivery",
                )
        async with self.admin.writing(
            request.actor, f"writing a {request.kind.value} letter"
        ) as tx:
            if request.restriction_id is not None:
                _, now_version = await get_restriction(tx.conn, request.restriction_id)
                if now_version != version:
                    raise Conflict(
                        f"restriction {request.restriction_id} changed while the letter was "
                        "being written: ask for the letter again"
                    )
            if to:
                await enqueue_in(
                    tx.conn,
                    self._mail(letter, to, source),
                    now=tx.now,
                    lifetime=self.settings.smtp.queue_lifetime,
                )
            return await insert_letter(
                tx,
                {
                    "customer_id": request.customer_id,
                    "restriction_id": request.restriction_id,
                    "restriction_version": version,
                    "kind": request.kind.value,
                    "language": language,
                    "large_print": large,
                    "delivery": request.delivery,
                    "status": "sent" if to else "to_post",
                    "to_address": ", ".join(to) or None,
                    "title": letter.title,
                    "body_text": letter.text,
                    "pdf": letter.pdf,
                    "sha256": letter.sha256,
                    "signatory": source.signatory,
                    "sent_at": tx.now if to else None,
                    **extra,
                },
                incident_ids=tuple(i["id"] for i in source.incidents),
            )

    def _mail(self, letter: RenderedLetter, to: tuple[str, ...], source: LetterInput) -> NewMail:
        reference = source.restriction.id if source.restriction else source.customer["id"]
        content = letter_email(
            letter,
            sender=f"{self.settings.letter_org_name} <{self.settings.letter_sender}>",
            to=", ".join(to),
            filename=f"{reference}-{letter.kind.value}.pdf",
            domain=self.settings.org_domains[0],
            now=self.clock(),
        )
        return NewMail(
            queue_key=f"letter:{secrets.token_hex(12)}",
            kind=KIND,
            mail_from=self.settings.letter_sender,
            recipients=to,
            content=content,
        )

    async def _language(self, conn: AsyncConnection, request: LetterRequest) -> Language:
        if request.language is not None:
            return request.language
        recorded = await get_language(conn, request.customer_id)
        if recorded in ("en", "cy", "bilingual"):
            return recorded  # type: ignore[return-value]
        return org_settings_from(await read_settings(conn)).letter_language

    async def _gather(
        self, conn: AsyncConnection, request: LetterRequest
    ) -> tuple[LetterInput, int | None, dict[str, Any]]:
        customer = await get_customer(conn, request.customer_id)
        org = org_settings_from(await read_settings(conn))
        restriction, version = None, None
        if request.kind in NEEDS_RESTRICTION and request.restriction_id is None:
            raise Invalid(f"a {request.kind.value} letter is about a restriction", "restriction")
        if request.restriction_id is not None:
            restriction, version = await get_restriction(conn, request.restriction_id)
            if restriction.customer != request.customer_id:
                raise Invalid(
                    f"restriction {restriction.id} is not one of customer {request.customer_id}'s",
                    "restriction",
                )
        if request.incident_ids and request.kind is not LetterKind.WARNING:
            raise Invalid("only a warning letter names incidents", "incidents")
        if request.kind is LetterKind.WARNING and not (request.behaviour or request.incident_ids):
            raise Invalid(
                "a warning letter needs the behaviour it warns about, or the incidents",
                "behaviour",
            )
        incidents = [await self._incident(conn, request, i) for i in request.incident_ids]
        incidents.sort(key=lambda i: (i["occurred_at"], i["id"]))
        officers: dict[str, Officer] = {}
        if restriction is not None and restriction.named_officer is not None:
            await _add_officer(conn, officers, restriction.named_officer)
            named = officers.get(restriction.named_officer)
            if named is not None and named.deputy:
                await _add_officer(conn, officers, named.deputy)
        appeal = await self._appeal(conn, request) if restriction is not None else None
        review = await self._review(conn, request) if restriction is not None else None
        change_reason = request.change_reason
        if request.kind is LetterKind.VARIATION and change_reason is None and restriction:
            varied = [
                t
                for t in await list_transitions(conn, restriction.id)
                if t["action"] in ("vary", "edited")
            ]
            change_reason = None
            if varied:
                change_reason = str(varied[-1]["reason"])
        source = LetterInput(
            kind=request.kind,
            now=self.clock(),
            zone=self.settings.zone,
            org=org,
            org_name=self.settings.letter_org_name,
            org_address=self.settings.letter.address_lines(),
            customer=customer,
            signatory=request.signatory or request.actor,
            signatory_role=request.actor_role,
            restriction=restriction,
            officers=officers,
            routes=self.settings.protected.routes(self.settings.emergency_number),
            emergency_number=self.settings.emergency_number,
            behaviour=request.behaviour,
            incidents=tuple(incidents),
            appeal=appeal,
            review=review,
            change_reason=change_reason,
        )
        extra = {
            "appeal_id": None if appeal is None else appeal["id"],
            "review_id": None if review is None else review["id"],
        }
        return source, version, extra

    async def _incident(
        self, conn: AsyncConnection, request: LetterRequest, incident_id: int
    ) -> dict[str, Any]:
        try:
            incident = await get_incident(conn, incident_id)
        except NotFound:
            raise Invalid(f"there is no incident {incident_id}", "incidents") from None
        if incident["customer_id"] != request.customer_id:
            raise Invalid(
                f"incident {incident_id} is not one of customer {request.customer_id}'s",
                "incidents",
            )
        return incident

    async def _appeal(self, conn: AsyncConnection, request: LetterRequest) -> dict[str, Any] | None:
        kinds = (LetterKind.APPEAL_ACKNOWLEDGEMENT, LetterKind.APPEAL_OUTCOME)
        if request.kind not in kinds:
            return None
        assert request.restriction_id is not None
        if request.appeal_id is not None:
            appeal = await get_appeal(conn, request.appeal_id)
            if appeal["restriction_id"] != request.restriction_id:
                raise Invalid(
                    f"appeal {request.appeal_id} is not against {request.restriction_id}",
                    "appeal",
                )
        else:
            found = await list_appeals(conn, request.restriction_id)
            if not found:
                raise Invalid(f"restriction {request.restriction_id} has no appeal", "appeal")
            appeal = found[-1]
        if request.kind is LetterKind.APPEAL_OUTCOME and appeal["status"] != "decided":
            raise Invalid(f"appeal {appeal['id']} has not been decided yet", "appeal")
        return appeal

    async def _review(self, conn: AsyncConnection, request: LetterRequest) -> dict[str, Any] | None:
        if request.kind is not LetterKind.REVIEW:
            return None
        assert request.restriction_id is not None
        found = await list_reviews(conn, request.restriction_id)
        if request.review_id is not None:
            found = [r for r in found if r["id"] == request.review_id]
        if not found:
            raise Invalid(
                f"restriction {request.restriction_id} has no review"
                + ("" if request.review_id is None else f" {request.review_id}"),
                "review",
            )
        return found[-1]


async def _add_officer(
    conn: AsyncConnection, officers: dict[str, Officer], officer_id: str
) -> None:
    try:
        record = await get_officer(conn, officer_id)
    except NotFound:
        return
    officers[officer_id] = Officer.model_validate(policy_fields(record))
