"""The evidence pack: one customer's restrictions and contact as a PDF a reader outside the
organisation (an ombudsman, a court, the police) can follow and check.

It holds each restriction with its authorisation, transitions, reviews and appeals; the
contact timeline as a chart and as a table; every record with its SHA-256 and the chain
head at export; and, in plain English, how to check those hashes without our software
(the recipe of ``gateway.evidence.export``, the same as the JSON and CSV exports).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from gateway.chain.links import ChainHead, VerifyResult, format_instant
from gateway.common.plain_words import plain_limits, plain_time, plain_when
from gateway.common.plurals import counted
from gateway.evidence.pack_letters import delivered, letter_hash_rows, letter_rows, notice_rows
from gateway.evidence.timeline import KINDS, DayCounts
from gateway.store.evidence import EvidenceRecord
from gateway.store.evidence_db import CONTENT_MISSING

if TYPE_CHECKING:
    from gateway.evidence.proofs import ExportProofs

VERIFY_STEPS = (
    "Each record below lists the fields that were sealed with SHA-256 when it was written, "
    "its own hash, and the hash of the record before it (prev_hash). Records form one chain: "
    "changing, removing or reordering any record changes every hash after it.",
    "To check a record yourself, ask for the JSON export of this customer (contact-gateway "
    "evidence export --customer ID --format json). For each object in 'records', remove the "
    "'hash' key and write the rest as compact JSON with keys sorted, no spaces and non-ASCII "
    "characters kept as they are (in Python: json.dumps(obj, sort_keys=True, "
    "separators=(',', ':'), ensure_ascii=False)). The SHA-256 of those UTF-8 bytes, in "
    "lowercase hexadecimal, must equal 'hash' — and the hashes printed in this pack.",
    "A record directly follows the previous one in the chain when its prev_hash equals that "
    "record's hash. The first record of the whole chain has a prev_hash of 64 zeros.",
    "The chain head printed here (the last record's number and hash when this pack was made) "
    "lets anyone holding the database later run 'contact-gateway evidence verify' and confirm "
    "that record still has that hash: nothing up to that point has changed since.",
)
CHECKPOINT_STEPS = (
    "The signed checkpoint below is the organisation's signature, with its published key, on "
    "the number of records in the whole evidence log and one hash (the root) that depends on "
    "every one of them. Copies of it were sent to independent witnesses when it was made. "
    "If any record up to that number were later changed, removed or re-written, the log "
    "would no longer give that root, and the signature cannot be forged without the key.",
    "Each record's leaf hash and inclusion proof show that the record is in the signed log "
    "at its place: the leaf hash is SHA-256 of the byte 0x00 followed by the record's hash; "
    "combining it with the proof's hashes as RFC 9162 (Certificate Transparency) describes "
    "gives the checkpoint's root. The JSON export carries the same proofs, and the script "
    "verify_export.py (in the gateway's documentation) checks them all, with the signature, "
    "given the published verifier key.",
)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": base["Title"],
        "h2": base["Heading2"],
        "h3": base["Heading3"],
        "body": base["BodyText"],
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=7.5, leading=9),
        "mono": ParagraphStyle(
            "mono", parent=base["BodyText"], fontName="Courier", fontSize=6.5, leading=8
        ),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    from xml.sax.saxutils import escape

    return Paragraph(escape("" if text is None else str(text)), style)


def _table(rows: list[list[Any]], widths: Sequence[float]) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _texture(drawing: Drawing, x: float, y: float, w: float, h: float, pattern: str) -> None:
    """White dots, stripes or a grid over a bar, as in the SVG: meaning not by colour alone."""
    step = 3.0
    white = colors.white
    if pattern in ("stripes", "cross"):
        row = y + step
        while row < y + h:
            drawing.add(Line(x, row, x + w, row, strokeColor=white, strokeWidth=0.8))
            row += step
    if pattern == "cross":
        col = x + step
        while col < x + w:
            drawing.add(Line(col, y, col, y + h, strokeColor=white, strokeWidth=0.8))
            col += step
    if pattern == "dots":
        row = y + step / 2
        while row < y + h:
            col = x + step / 2
            while col < x + w:
                drawing.add(Circle(col, row, 0.6, fillColor=white, strokeColor=None))
                col += step
            row += step


def chart(days: list[DayCounts], width: float = 170 * mm, height: float = 60 * mm) -> Flowable:
    """The timeline bars: labels and textures carry the meaning; colours only help."""
    drawing = Drawing(width, height + 14 * mm)
    left, bottom = 10 * mm, 14 * mm
    plot_w, plot_h = width - left, height - 6 * mm
    peak = max([d.total for d in days] + [1])
    drawing.add(Line(left, bottom, left + plot_w, bottom))
    drawing.add(String(0, bottom + plot_h - 6, str(peak), fontSize=7))
    drawing.add(String(0, bottom, "0", fontSize=7))
    slot = plot_w / max(1, len(days))
    for i, day in enumerate(days):
        y = bottom
        for kind in KINDS:
            n = day.counts.get(kind.key, 0)
            if n:
                h = plot_h * n / peak
                drawing.add(
                    Rect(
                        left + i * slot + slot * 0.15,
                        y,
                        slot * 0.7,
                        h,
                        fillColor=colors.HexColor(kind.colour),
                        strokeColor=None,
                    )
                )
                _texture(drawing, left + i * slot + slot * 0.15, y, slot * 0.7, h, kind.pattern)
                y += h
        if i % max(1, round(len(days) / 8)) == 0:
            drawing.add(String(left + i * slot, bottom - 9, f"{day.day:%d %b}", fontSize=6.5))
    x = 0.0
    for kind in KINDS:
        drawing.add(Rect(x, 2, 8, 8, fillColor=colors.HexColor(kind.colour), strokeColor=None))
        _texture(drawing, x, 2, 8, 8, kind.pattern)
        drawing.add(String(x + 11, 3, kind.label, fontSize=7))
        x += 14 + len(kind.label) * 3.6
    return drawing


# Who made a step when no person did: the import command and the gateway itself.
_NOT_PEOPLE = {
    "cli": "the command line (contact-gateway)",
    "contact-gateway": "the gateway itself",
}
# Steps as a lay reader says them.
_STEPS = {
    "import": "recorded by import",
    "created": "created",
    "authorise": "authorised",
    "reject": "rejected",
    "suspend": "suspended",
    "resume": "resumed",
    "revoke": "revoked",
    "lapse": "lapsed at review",
    "renew": "renewed at review",
    "lodge_appeal": "appeal lodged",
    "quash": "quashed on appeal",
    "vary": "varied on appeal",
    "uphold": "upheld on appeal",
}


class Names:
    """People by name and role, officers by name: a reader is never given a login or id."""

    def __init__(
        self, people: Mapping[str, tuple[str, str]], officer_names: Mapping[str, str]
    ) -> None:
        self._people = people
        self._officers = officer_names

    def person(self, login: str | None) -> str:
        if not login:
            return "—"
        if login in self._people:
            name, role = self._people[login]
            return f"{name} ({role})"
        return _NOT_PEOPLE.get(login, login)

    def officer(self, officer_id: str | None) -> str:
        if not officer_id:
            return "—"
        name = self._officers.get(officer_id)
        return f"{name} (named officer)" if name else officer_id


def _history(r: Mapping[str, Any], names: Names, zone: ZoneInfo) -> list[list[str]]:
    """Every step of a restriction, never blank: its lifecycle transitions, or, for one
    that has none recorded, its versions (every change through the API records a
    transition, so such versions came from imports made before imports recorded one)."""
    steps = [
        [
            plain_when(t["at"], zone),
            _STEPS.get(str(t["action"]), str(t["action"]).replace("_", " ")),
            names.person(t["actor"]),
            f"{t['from_status'] or 'none'} → {t['to_status']}",
            str(t["reason"]),
        ]
        for t in r.get("transitions", [])
    ]
    if steps:
        return steps
    return [
        [
            plain_when(v["at"], zone),
            _STEPS.get(str(v["action"]), str(v["action"]).replace("_", " ")),
            names.person(v["actor"]),
            f"version {v['version']}",
            "imported from a policy file",
        ]
        for v in r.get("versions", [])
    ] or [["—", "no step recorded", "—", str(r.get("status")), "—"]]


def evidence_pack(
    *,
    customer: dict[str, Any],
    restrictions: list[dict[str, Any]],
    records: Sequence[EvidenceRecord],
    days: list[DayCounts],
    head: ChainHead,
    verification: VerifyResult,
    exported_at: datetime,
    exported_by: str,
    content_problems: Mapping[str, str] | None = None,
    proofs: ExportProofs | None = None,
    zone: ZoneInfo | None = None,
    people: Mapping[str, tuple[str, str]] | None = None,
    officer_names: Mapping[str, str] | None = None,
    incidents: Sequence[Mapping[str, Any]] = (),
    letters: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """The PDF's bytes. ``content_problems``: what is wrong with the stored content of
    any record, by the content's SHA-256 (altered or missing); such records are flagged
    in the table and named in a warning at the top.

    Times are in the organisation's ``zone`` in plain words, limits as people say them,
    and people by name and role (``people``: login -> (name, role)); the records'
    hashes and exact instants are in the appendix, for whoever checks them."""
    zone = zone or ZoneInfo("Europe/London")
    names = Names(people or {}, officer_names or {})
    problems = content_problems or {}
    flagged = [r.seq for r in records if r.content_sha256 in problems]
    s = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Evidence pack: customer {customer['id']}",
        author="contact-gateway",
    )
    story: list[Flowable] = [
        _p(f"Evidence pack: {customer['name']} (customer {customer['id']})", s["title"]),
        _p(
            f"Made {plain_time(exported_at, zone)} by {names.person(exported_by)}. It holds "
            f"{counted(len(records), 'evidence record')}, "
            f"{counted(len(restrictions), 'restriction')}, "
            f"{counted(len(incidents), 'incident')} and "
            f"{counted(len(delivered(letters)), 'letter')} sent. Times are {zone.key} time.",
            s["body"],
        ),
    ]
    if flagged:
        which = (
            f"record {flagged[0]}"
            if len(flagged) == 1
            else "records " + ", ".join(str(seq) for seq in flagged)
        )
        story.append(
            _p(
                f"WARNING: the stored content of {which} does not match the SHA-256 "
                "sealed into the record: it was altered or removed after it was recorded and "
                "must not be relied on as what the customer sent. Section 5 and Appendix A "
                "mark it.",
                s["h3"],
            )
        )
    story.append(_p("1. Restrictions, their authorisation, reviews and appeals", s["h2"]))
    if not restrictions:
        story.append(_p("This customer has no restrictions on record.", s["body"]))
    for r in restrictions:
        story.append(_p(f"Restriction {r['id']} — {r['status']}", s["h3"]))
        facts = [
            ["Reason", r["reason"]],
            ["Proposed by", names.person(r["proposed_by"])],
            ["Authorised by", names.person(r.get("authorised_by")) or "not authorised"],
            ["In force from", plain_when(r["starts"], zone)],
            ["Ends", plain_when(r["ends"], zone) if r.get("ends") else "no end date"],
            ["Review on", plain_when(r.get("review_on"), zone)],
            [
                "Channels allowed",
                ", ".join(c.replace("_", " ") for c in r["channels"]) or "none",
            ],
            ["Handling", str(r["handling"]).replace("_", " ")],
            ["Named officer", names.officer(r.get("named_officer"))],
            ["Limits", plain_limits(r["limits"])],
        ]
        story.append(
            _table([[_p(k, s["small"]), _p(v, s["small"])] for k, v in facts], [40 * mm, 140 * mm])
        )
        story.append(Spacer(1, 3 * mm))
        rows = [["When", "Step", "By", "Status", "Why"]] + [
            [_p(cell, s["small"]) for cell in step] for step in _history(r, names, zone)
        ]
        story += [
            _p("History (every step)", s["small"]),
            _table(rows, [36 * mm, 22 * mm, 36 * mm, 26 * mm, 60 * mm]),
        ]
        for label, items, keys in (
            (
                "Reviews",
                r.get("reviews", []),
                (("due_on", "Due"), ("outcome", "Outcome"), ("reviewer", "By"), ("notes", "Notes")),
            ),
            (
                "Appeals",
                r.get("appeals", []),
                (
                    ("lodged_on", "Lodged"),
                    ("grounds", "Grounds"),
                    ("status", "Status"),
                    ("outcome", "Outcome"),
                    ("decided_by", "Decided by"),
                    ("decision_reason", "Why"),
                ),
            ),
        ):
            if items:
                rows = [[title for _, title in keys]] + [
                    [_p(_cell(k, i.get(k), names, zone), s["small"]) for k, _ in keys]
                    for i in items
                ]
                story += [
                    Spacer(1, 2 * mm),
                    _p(label, s["small"]),
                    _table(rows, [180 * mm / len(keys)] * len(keys)),
                ]
    story += [_p("2. Contact timeline", s["h2"]), chart(days), Spacer(1, 3 * mm)]
    rows = [["Day", *(k.label for k in KINDS), "Total"]] + [
        [f"{d.day:%a %d %b %Y}", *(str(d.counts.get(k.key, 0)) for k in KINDS), str(d.total)]
        for d in days
        if d.total
    ]
    story.append(
        _table(
            [[_p(c, s["small"]) for c in row] for row in rows],
            [34 * mm, 30 * mm, 32 * mm, 32 * mm, 32 * mm, 20 * mm],
        )
    )
    story.append(_p("3. Incidents of unacceptable behaviour", s["h2"]))
    if incidents:
        rows = [["When", "How", "Kind", "What happened", "Who", "Recorded by"]] + [
            [
                _p(cell, s["small"])
                for cell in (
                    plain_when(i["occurred_at"], zone),
                    str(i["channel"]).replace("_", " "),
                    str(i["category"]).replace("_", " "),
                    str(i["description"])
                    + (
                        f" ({counted(len(i['attachments']), 'attachment')})"
                        if i["attachments"]
                        else ""
                    ),
                    i["people"] or "—",
                    names.person(i["recorded_by"]),
                )
            ]
            for i in incidents
        ]
        story.append(_table(rows, [32 * mm, 18 * mm, 26 * mm, 58 * mm, 24 * mm, 22 * mm]))
    else:
        story.append(_p("No incidents are recorded for this customer.", s["body"]))
    story += _letters_section(letters, restrictions, names, zone, s)
    story.append(_p("5. Every evidence record", s["h2"]))
    rows = [["Record", "When", "Channel and from", "Decision"]]
    for rec in records:
        why = (rec.hold_reason or rec.exemption or (rec.deliver_to or "")).replace("_", " ")
        flag = ""
        if rec.content_sha256 is not None and rec.content_sha256 in problems:
            flag = " — its stored content " + (
                "is missing"
                if problems[rec.content_sha256] == CONTENT_MISSING
                else "was altered after it was recorded"
            )
        rows.append(
            [
                _p(rec.seq, s["small"]),
                _p(plain_time(rec.occurred_at, zone), s["small"]),
                _p(f"{rec.channel.replace('_', ' ')} from {rec.sender}", s["small"]),
                _p(f"{rec.action} {why}".strip() + flag, s["small"]),
            ]
        )
    story.append(_table(rows, [16 * mm, 50 * mm, 62 * mm, 52 * mm]))
    story += [
        _p("6. How to verify this evidence independently", s["h2"]),
        *(_p(f"{i}. {text}", s["body"]) for i, text in enumerate(VERIFY_STEPS, 1)),
        _p(f"Whole-chain check at export: {verification.describe()}", s["body"]),
    ]
    story.append(_p("Appendix A. Each record's hash, for whoever checks them", s["h2"]))
    rows = [["Seq", "Exact instant (UTC)", "SHA-256 of the record, and prev_hash"]]
    for rec in records:
        hashes = f"hash {rec.hash}\nprev {rec.prev_hash}"
        if rec.content_sha256 is not None:
            hashes += f"\ncontent {rec.content_sha256}"
            problem = problems.get(rec.content_sha256)
            if problem is not None:
                flag = "MISSING" if problem == CONTENT_MISSING else "ALTERED"
                hashes += f"\nCONTENT {flag}: {problem}"
        rows.append(
            [
                _p(rec.seq, s["small"]),
                _p(format_instant(rec.occurred_at), s["mono"]),
                _p(hashes, s["mono"]),
            ]
        )
    story.append(_table(rows, [12 * mm, 48 * mm, 120 * mm]))
    letter_hashes = letter_hash_rows(letters)
    if letter_hashes:
        story += [
            _p("Each letter's PDF by its SHA-256 (the audit log's; a reprint's)", s["small"]),
            _table(
                [["Letter", "SHA-256 of the PDF"]]
                + [[_p(c, s["mono"]) for c in r] for r in letter_hashes],
                [30 * mm, 150 * mm],
            ),
        ]
    story += [
        _p(f"Chain head when this pack was made: record {head.seq}, hash {head.hash}.", s["mono"]),
    ]
    if proofs is not None:
        story += _proof_section(proofs, records, s)
    doc.build(story)
    return out.getvalue()


def _letters_section(
    letters: Sequence[Mapping[str, Any]],
    restrictions: Sequence[Mapping[str, Any]],
    names: Names,
    zone: ZoneInfo,
    s: dict[str, ParagraphStyle],
) -> list[Flowable]:
    """Section 4: the letters sent or posted, and how each restriction's notice was given."""
    story: list[Flowable] = [_p("4. Letters to the customer and written notice", s["h2"])]
    rows = letter_rows(letters, names.person, zone)
    if rows:
        header = ["Letter", "About", "Sent", "How", "Language and signature"]
        story.append(
            _table(
                [header] + [[_p(c, s["small"]) for c in row] for row in rows],
                [36 * mm, 30 * mm, 40 * mm, 40 * mm, 34 * mm],
            )
        )
    else:
        story.append(_p("No letter has been sent or posted to this customer.", s["body"]))
    notices = notice_rows(restrictions, names.person, zone)
    if notices:
        story += [
            Spacer(1, 2 * mm),
            _p("How each restriction was put in writing before it was in force", s["small"]),
            _table(
                [["Restriction", "Written notice"]]
                + [[_p(c, s["small"]) for c in row] for row in notices],
                [36 * mm, 144 * mm],
            ),
        ]
    return story


def _attached(files: Sequence[Any]) -> str:
    return f" ({counted(len(files), 'attachment')})" if files else ""


def _cell(key: str, value: Any, names: Names, zone: ZoneInfo) -> str:
    """A review's or appeal's field for a reader: dates plain, people by name and role."""
    if value is None:
        return "—"
    if key in ("due_on", "lodged_on"):
        return plain_when(value, zone)
    if key in ("reviewer", "decided_by"):
        return names.person(str(value))
    return str(value).replace("_", " ") if key in ("outcome", "status") else str(value)


def _proof_section(
    proofs: ExportProofs, records: Sequence[EvidenceRecord], s: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """Section 6: the signed checkpoint, the verifier key and each record's proof."""
    story: list[Flowable] = [_p("Appendix B. Signed checkpoint and Merkle proofs", s["h2"])]
    story += [_p(f"{i}. {text}", s["body"]) for i, text in enumerate(CHECKPOINT_STEPS, 1)]
    if proofs.problem:
        story.append(_p(f"Note: {proofs.problem}", s["h3"]))
    made = proofs.checkpoint
    if made is None:
        return story
    story += [
        _p(f"The signed checkpoint ({counted(made.tree_size, 'record')}):", s["body"]),
        Preformatted(made.note, s["mono"], maxLineLength=110),
        _p(f"Verifier key: {proofs.verifier_key or '(no key configured)'}", s["mono"]),
        Spacer(1, 2 * mm),
    ]
    rows: list[list[Any]] = [["Seq", "Leaf hash, then the inclusion proof's hashes in order"]]
    for rec in records:
        path = proofs.paths.get(rec.seq)
        lines = [f"leaf {proofs.leaves.get(rec.seq, '')}"]
        lines += ["(no proof)"] if path is None else [f"  {h}" for h in path]
        rows.append([_p(rec.seq, s["small"]), Preformatted("\n".join(lines), s["mono"])])
    story.append(_table(rows, [12 * mm, 168 * mm]))
    return story
