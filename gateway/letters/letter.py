"""Writing one letter in full: every language part rendered, then the PDF, then its hash.

Nothing is sent or stored from here: a letter is rendered completely (and a template
problem raised) before the caller queues or records anything, so a customer never gets
half a letter. The email carries the same words as text and the PDF attached.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.config.org_settings import OrgSettings
from gateway.letters.facts import LetterInput, LetterKind, facts
from gateway.letters.templates import LANGS, LetterTemplates, check_templates
from gateway.letters.words import Lang
from rules.models import Officer, Restriction
from rules.protected import ProtectedRoutes, RouteName
from rules.roles import Role

Language = Literal["en", "cy", "bilingual"]
LANGUAGES: tuple[Language, ...] = ("en", "cy", "bilingual")
_PARTS: dict[Language, tuple[Lang, ...]] = {"en": ("en",), "cy": ("cy",), "bilingual": ("cy", "en")}


@dataclass(frozen=True, slots=True)
class RenderedLetter:
    """A letter ready to send or print: its PDF, the PDF's SHA-256, and its text."""

    kind: LetterKind
    language: Language
    large_print: bool
    title: str
    text: str
    pdf: bytes
    sha256: str


def write_letter(
    templates: LetterTemplates, source: LetterInput, language: Language, *, large_print: bool
) -> RenderedLetter:
    """Render ``source`` in ``language`` (Welsh first when bilingual) as PDF and text."""
    # reportlab (about 20 MB with Pillow) loads when the first letter is drawn, not at
    # start-up, where only the templates' text is checked (bench/memory.py's 200 MB).
    from gateway.letters.render import LetterPdf, parse_blocks, plain_text, render_pdf

    parts = []
    for lang in _PARTS[language]:
        parts.append((lang, parse_blocks(templates.render(source.kind, lang, facts(source, lang)))))
    titles = [b.text for _, blocks in parts for b in blocks if b.kind == "title"][:2]
    title = " / ".join(titles) or source.kind.value
    reference = source.restriction.id if source.restriction else source.customer["id"]
    pdf = render_pdf(
        parts,
        LetterPdf(
            title=title,
            author=source.org_name,
            subject=f"{reference}, {source.customer['name']}",
            lang=parts[0][0],
        ),
        large=large_print,
        header=[source.org_name, *source.org_address],
    )
    text = "\n\n".join(plain_text(blocks) for _, blocks in parts)
    return RenderedLetter(
        kind=source.kind,
        language=language,
        large_print=large_print,
        title=title,
        text=text,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
    )


def letter_email(
    letter: RenderedLetter,
    *,
    sender: str,
    to: str,
    filename: str,
    domain: str,
    now: datetime,
) -> bytes:
    """The email: the letter's words as text, and the PDF attached."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = letter.title
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(letter.text)
    message.add_attachment(letter.pdf, maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def sample_inputs(org_name: str, zone: ZoneInfo) -> list[LetterInput]:
    """Letters exercising every field and both sides of every choice a template makes,
    for :func:`check_letter_templates` (and the docs' example renderings)."""
    now = datetime(2026, 12, 6, 4, 5, tzinfo=UTC)
    officers = {
        "jsmith": Officer(
            id="jsmith",
            name="Jo Smith",
            email="jo.smith@example.org",
            phone="+441632960001",
            deputy="akhan",
        ),
        "akhan": Officer(id="akhan", name="Asha Khan", email="asha.khan@example.org"),
    }
    full = Restriction.model_validate(
        {
            "id": "R-2026-0001",
            "customer": "C-1",
            "reason": "Over 40 calls a week to several members of staff, and abusive language.",
            "proposed_by": "officer",
            "status": "draft",
            "starts": "2026-12-07T09:00:00Z",
            "ends": "2027-06-07T09:00:00Z",
            "review_on": "2027-03-07",
            "channels": ["email", "voice", "letter", "visit"],
            "named_officer": "jsmith",
            "call_windows": [{"days": ["tue", "thu"], "start": "10:00", "end": "12:00"}],
            "call_time_limit": 900,
            "record_calls": True,
            "limits": [{"channel": "email", "max": 2, "per": "P1D"}],
            "handling": "deliver",
        }
    )
    bare = Restriction.model_validate(
        {
            "id": "R-2026-0002",
            "customer": "C-1",
            "reason": "Threats of violence to staff.",
            "proposed_by": "officer",
            "status": "draft",
            "starts": "2026-12-07T09:00:00Z",
            "channels": [],
            "handling": "no_contact",
        }
    )
    routes = ProtectedRoutes.of(
        {RouteName.APPEALS: ["appeals@example.org"], RouteName.COMPLAINTS: ["+441632960500"]},
        "+441632960999",
    )
    common: dict[str, Any] = {
        "now": now,
        "zone": zone,
        "org": OrgSettings(),
        "org_name": org_name,
        "org_address": ("1 High Street", "Cardiff CF10 1AA"),
        "customer": {"id": "C-1", "name": "Sam Jones"},
        "signatory": "Dana Morgan",
        "signatory_role": Role.AUTHORISER,
    }
    appeal: dict[str, Any] = {
        "id": 1,
        "lodged_on": date(2026, 12, 1),
        "grounds": "I needed to call about a leak.",
        "outcome": "vary",
        "decision_reason": "Calls about repairs were being refused.",
        "decided_by": "auth2",
    }
    out = []
    for kind in LetterKind:
        out.append(
            LetterInput(
                kind=kind,
                restriction=full,
                officers=officers,
                routes=routes,
                emergency_number="+441632960999",
                behaviour="You called 40 times in one week and swore at staff.",
                appeal=appeal,
                review={
                    "outcome": "renew",
                    "notes": "The calls continue.",
                    "next_review_on": now.date() + timedelta(days=182),
                },
                change_reason="Calls about repairs are now allowed.",
                incidents=(
                    {
                        "occurred_at": now - timedelta(days=3),
                        "channel": "voice",
                        "category": "verbal_or_hate_abuse",
                        "description": "Swore at the officer who answered.",
                    },
                ),
                **common,
            )
        )
        for outcome in ("quash", "uphold"):
            out.append(
                LetterInput(
                    kind=kind,
                    restriction=bare,
                    behaviour="You sent 30 emails in one day.",
                    appeal={**appeal, "outcome": outcome},
                    review={"outcome": "revoke", "notes": "No incidents since June."},
                    **common,
                )
            )
    return out


def check_letter_templates(templates: LetterTemplates, org_name: str, zone: ZoneInfo) -> None:
    """Refuse (with :class:`TemplateProblem`) templates that cannot render every letter."""
    inputs = sample_inputs(org_name, zone)
    check_templates(templates, (facts(i, lang) for i in inputs for lang in LANGS))


__all__ = [
    "LANGUAGES",
    "Language",
    "RenderedLetter",
    "check_letter_templates",
    "letter_email",
    "sample_inputs",
    "write_letter",
]
