"""A letter's text as an accessible PDF, and as the plain text of its email.

The rendered template is a small block format: ``# title``, ``## heading``, ``- item``
and paragraphs separated by blank lines (lines inside a paragraph keep their breaks,
for addresses and signatures). The PDF is real text in an embedded Unicode font
(DejaVu Sans, which has the Welsh ŵ and ŷ), one column in reading order, with its
title, author, subject and language set and the title shown in the viewer's window;
a large-print letter uses 16-point text and larger headings. reportlab writes no
structure tree, so the PDF is not tagged; its single column keeps the reading order
a screen reader follows the same as the order on the page.

A bilingual letter is Welsh first, then English on a new page, as the Welsh Language
Standards ask for documents sent to the public.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)
from reportlab.platypus.flowables import Flowable

from gateway.letters.words import Lang

FONTS = Path(__file__).parent / "fonts"
REGULAR, BOLD = "LetterSans", "LetterSans-Bold"
BODY_PT = {False: 12.0, True: 16.0}  # ordinary, large print
PDF_LANG = {"en": "en-GB", "cy": "cy-GB"}


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a letter: kind is ``title``, ``heading``, ``item`` or ``para``."""

    kind: str
    text: str


def parse_blocks(text: str) -> list[Block]:
    """The blocks of a rendered template, in order."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("para", "\n".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush()
        elif line.startswith("# "):
            flush()
            blocks.append(Block("title", line[2:].strip()))
        elif line.startswith("## "):
            flush()
            blocks.append(Block("heading", line[3:].strip()))
        elif line.startswith("- "):
            flush()
            blocks.append(Block("item", line[2:].strip()))
        else:
            para.append(line.strip())
    flush()
    return blocks


def plain_text(blocks: list[Block]) -> str:
    """The letter as plain text for the email body: the same words, in the same order."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "title":
            out += [block.text.upper(), ""]
        elif block.kind == "heading":
            out += [block.text, "-" * len(block.text)]
        elif block.kind == "item":
            out.append(f"* {block.text}")
        else:
            out += [block.text, ""]
        if block.kind == "heading":
            continue
    return "\n".join(_spaced(out)).strip() + "\n"


def _spaced(lines: list[str]) -> list[str]:
    """A blank line after a run of items, and none doubled."""
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("* ") and not following.startswith("* "):
            out.append("")
    return [line for i, line in enumerate(out) if line or (i and out[i - 1])]


@functools.cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


def _styles(large: bool) -> dict[str, ParagraphStyle]:
    size = BODY_PT[large]
    body = ParagraphStyle(
        "body",
        fontName=REGULAR,
        fontSize=size,
        leading=size * 1.45,
        spaceAfter=size * 0.6,
        alignment=TA_LEFT,  # ragged right: even spacing, easier to read
        textColor=colors.black,
    )
    return {
        "body": body,
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=BOLD,
            fontSize=size * 1.5,
            leading=size * 1.9,
            spaceAfter=size,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=BOLD,
            fontSize=size * 1.2,
            leading=size * 1.6,
            spaceBefore=size * 0.6,
            spaceAfter=size * 0.3,
        ),
        "org": ParagraphStyle("org", parent=body, fontName=BOLD),
    }


def _flowables(
    blocks: list[Block], styles: dict[str, ParagraphStyle], header: list[str]
) -> list[Flowable]:
    out: list[Flowable] = []
    if header:
        out.append(Paragraph("<br/>".join(escape(line) for line in header), styles["org"]))
        out.append(Spacer(1, styles["body"].fontSize))
    items: list[ListItem] = []

    def end_list() -> None:
        if items:
            out.append(
                ListFlowable(
                    list(items),
                    bulletType="bullet",
                    start="•",
                    bulletFontName=REGULAR,
                    bulletFontSize=styles["body"].fontSize,
                    leftIndent=styles["body"].fontSize * 1.4,
                )
            )
            out.append(Spacer(1, styles["body"].spaceAfter))
            items.clear()

    pending_heading: Paragraph | None = None
    for block in blocks:
        if block.kind != "item":
            end_list()
        text = escape(block.text).replace("\n", "<br/>")
        if block.kind == "item":
            if pending_heading is not None:
                out.append(pending_heading)
                pending_heading = None
            items.append(ListItem(Paragraph(text, styles["body"])))
            continue
        flowable = Paragraph(text, styles[block.kind if block.kind != "para" else "body"])
        if pending_heading is not None:
            out.append(KeepTogether([pending_heading, flowable]))  # no heading alone at a foot
            pending_heading = None
        elif block.kind == "heading":
            pending_heading = flowable
        else:
            out.append(flowable)
    end_list()
    if pending_heading is not None:
        out.append(pending_heading)
    return out


@dataclass(frozen=True, slots=True)
class LetterPdf:
    """What the PDF's document information says."""

    title: str
    author: str
    subject: str
    lang: Lang


def render_pdf(
    parts: list[tuple[Lang, list[Block]]], meta: LetterPdf, *, large: bool, header: list[str]
) -> bytes:
    """One PDF of ``parts`` (a language's blocks each, each part from a new page)."""
    _register_fonts()
    styles = _styles(large)
    story: list[Flowable] = []
    for i, (_, blocks) in enumerate(parts):
        if i:
            story.append(PageBreak())
        story.extend(_flowables(blocks, styles, header))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=meta.title,
        author=meta.author,
        subject=meta.subject,
        creator="contact-gateway",
        lang=PDF_LANG[meta.lang],
        displayDocTitle=True,
        invariant=True,  # the same letter gives the same bytes (and the same SHA-256)
    )
    size = BODY_PT[large]

    def footer(canvas: object, doc_: SimpleDocTemplate) -> None:
        c = canvas  # reportlab's Canvas
        c.saveState()  # type: ignore[attr-defined]
        c.setFont(REGULAR, size if large else 10.0)  # type: ignore[attr-defined]
        c.drawRightString(  # type: ignore[attr-defined]
            A4[0] - 22 * mm, 12 * mm, f"{meta.subject} · {doc_.page}"
        )
        c.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
