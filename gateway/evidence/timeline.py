"""A customer's contact per day as an SVG bar chart, drawn on the server.

No script and no chart library: the chart is plain SVG the page (and the PDF evidence
pack) can include as it is. Each kind of decision has a colour *and* a pattern and a
text label in the legend, and every bar segment has a title, so meaning never rests on
colour alone; the page also shows the same counts as a table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    colour: str
    pattern: str  # an SVG pattern id, drawn over the colour


KINDS: tuple[Kind, ...] = (
    Kind("delivered", "Delivered", "#1a7f37", "solid"),
    Kind("exempt", "Exempt (always delivered)", "#0b5cad", "dots"),
    Kind("excess", "Excess (held: over a limit)", "#9a4d00", "stripes"),
    Kind("held", "Held or refused", "#b42318", "cross"),
)
MAX_DAYS = 62
MIN_DAYS = 14


def kind_of(action: str, hold_reason: str | None, exemption: str | None) -> str:
    """Which bar a decision goes in."""
    if exemption:
        return "exempt"
    if hold_reason == "excess":
        return "excess"
    if action in ("deliver", "connect"):
        return "delivered"
    return "held"


@dataclass(frozen=True)
class DayCounts:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def per_day(
    contacts: Iterable[tuple[datetime, str]], zone: ZoneInfo, *, until: date | None = None
) -> list[DayCounts]:
    """(instant, kind) pairs counted per local day, every day in the range (at most 62)."""
    counted: dict[date, Counter[str]] = {}
    for at, kind in contacts:
        counted.setdefault(at.astimezone(zone).date(), Counter())[kind] += 1
    if not counted:
        return []
    last = max(until or max(counted), max(counted))
    first = max(min(counted), last - timedelta(days=MAX_DAYS - 1))
    first = min(first, last - timedelta(days=MIN_DAYS - 1))  # one busy day is not a wall
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [DayCounts(d, dict(counted.get(d, Counter()))) for d in days]


_PATTERNS = """<defs>
<pattern id="p-dots" width="6" height="6" patternUnits="userSpaceOnUse">
<circle cx="3" cy="3" r="1.4" fill="#ffffff"/></pattern>
<pattern id="p-stripes" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="2.5" height="6" fill="#ffffff"/></pattern>
<pattern id="p-cross" width="6" height="6" patternUnits="userSpaceOnUse">
<path d="M0 0L6 6M6 0L0 6" stroke="#ffffff" stroke-width="1.3"/></pattern>
</defs>"""


def render_svg(days: list[DayCounts], title: str) -> str:
    """The chart as an SVG document (a string safe to include: all text is escaped)."""
    width, height, left, bottom, top = 760, 300, 44, 70, 20
    plot_w, plot_h = width - left - 12, height - top - bottom
    peak = max((d.total for d in days), default=0)
    scale_max = max(1, peak)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="tl-title" class="timeline">',
        f'<title id="tl-title">{escape(title)}</title>',
        _PATTERNS,
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for tick in sorted({0, scale_max // 2, scale_max}):
        y = top + plot_h - plot_h * tick / scale_max
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#222">{tick}</text>'
        )
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-dasharray="3 3"/>'
        )
    if not days:
        parts.append(
            f'<text x="{left + 10}" y="{top + plot_h / 2}" font-size="14" fill="#222">'
            "No recorded contact yet.</text>"
        )
    slot = plot_w / max(1, len(days))
    bar = max(2.0, slot * 0.7)
    label_every = max(1, round(len(days) / 10))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for kind in KINDS:
            n = day.counts.get(kind.key, 0)
            if not n:
                continue
            h = plot_h * n / scale_max
            y -= h
            tip = escape(f"{day.day:%a %d %b}: {n} {kind.label.lower()}")
            parts.append(
                f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{kind.colour}"/>'
                + (
                    ""
                    if kind.pattern == "solid"
                    else f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="url(#p-{kind.pattern})"/>'
                )
                + "</g>"
            )
        if i % label_every == 0:
            cx = left + i * slot + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" font-size="11" fill="#222" '
                f'text-anchor="end" transform="rotate(-40 {cx:.1f} {top + plot_h + 14})">'
                f"{day.day:%d %b}</text>"
            )
    lx: float = left
    for kind in KINDS:
        ly = height - 16
        parts.append(
            f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" fill="{kind.colour}" '
            'stroke="#222" stroke-width="0.5"/>'
        )
        if kind.pattern != "solid":
            parts.append(
                f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" '
                f'fill="url(#p-{kind.pattern})"/>'
            )
        parts.append(
            f'<text x="{lx + 19}" y="{ly}" font-size="12" fill="#222">{escape(kind.label)}</text>'
        )
        lx += 24 + len(kind.label) * 6.4
    parts.append("</svg>")
    return "\n".join(parts)
