"""The Department dashboard's charts: server-side SVG as in gradebook/charts.py (no JavaScript,
no CDN, printable; every text escaped here; a ``<title>``/``<desc>`` and the number written by
every bar, so a chart reads in grey print and to a screen reader). Rows are schools, or the
districts when there are too many schools for one bar each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from department.overview import TRANSCRIPT_STATES, Progress, SchoolProgress
from gradebook.charts import Figure, svg_open
from schools.names import vietnamese_text_key
from transcripts.models import State

#: Above this many schools, the charts show one bar per district.
MAX_SCHOOL_BARS = 25
LABEL_W, ROW_H, GAP, TOP = 210, 18, 6, 6
STATE_COLOURS = {
    "none": ("#d9d9d9", "#222"),
    State.DRAFT: ("#f0b429", "#222"),
    State.READY: ("#9fb7d3", "#222"),
    State.SIGNED_HOMEROOM: ("#5b84b1", "#fff"),
    State.SIGNED_PRINCIPAL: ("#0b5394", "#fff"),
    State.FINAL: ("#1b7f3b", "#fff"),
}


@dataclass(frozen=True)
class Bar:
    label: str
    progress: Progress


def bars(rows: Sequence[SchoolProgress]) -> list[Bar]:
    """One bar per school, or per district (summed) above MAX_SCHOOL_BARS schools."""
    if len(rows) <= MAX_SCHOOL_BARS:
        return [Bar(row.school.name if row.school else "", row) for row in rows]
    districts: dict[str, SchoolProgress] = {}
    for row in rows:
        district = (row.school.district if row.school else "") or _("(no district)")
        districts.setdefault(district, SchoolProgress()).add(row)
    names = sorted(districts, key=vietnamese_text_key)
    return [Bar(name, districts[name]) for name in names]


def _short(label: str, width: int = LABEL_W - 8) -> str:
    most = max(width // 6, 4)
    return label if len(label) <= most else label[: most - 1] + "…"


def _label(y: float, text: str) -> str:
    return (
        f'<text x="0" y="{y + ROW_H * 0.72:g}" class="row"><title>{escape(text)}</title>'
        f"{escape(_short(text))}</text>"
    )


def percent_bars(
    *, chart_id: str, title: str, rows: Sequence[tuple[str, int, str]], width: int = 640
) -> SafeString:
    """Horizontal bars 0–100 %, one per (label, percent, detail), the percent and the detail
    written after each bar."""
    bar_w = width - LABEL_W - 180
    height = TOP * 2 + len(rows) * (ROW_H + GAP)
    description = "; ".join(f"{label}: {pct}% ({detail})" for label, pct, detail in rows)
    parts = [svg_open(chart_id, width, height, title, description)]
    for r, (label, pct, detail) in enumerate(rows):
        y = TOP + r * (ROW_H + GAP)
        parts.append(_label(y, label))
        parts.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{bar_w}" height="{ROW_H}" fill="#eef1f5"/>'
            f'<rect x="{LABEL_W}" y="{y}" width="{bar_w * min(pct, 100) / 100:.1f}" '
            f'height="{ROW_H}" fill="#0b5394" class="bar"><title>'
            f"{escape(f'{label}: {pct}% ({detail})')}</title></rect>"
            f'<text x="{LABEL_W + bar_w + 4}" y="{y + ROW_H * 0.72:g}" class="n">'
            f"{escape(f'{pct}% · {detail}')}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def state_names() -> list[tuple[str, str]]:
    """(key, short name) of the transcript chart's segments and columns, in order."""
    short: dict[str, str] = {
        State.DRAFT: _("Draft"),
        State.READY: _("Ready"),
        State.SIGNED_HOMEROOM: _("Signed by the homeroom teacher"),
        State.SIGNED_PRINCIPAL: _("Signed by the principal"),
        State.FINAL: _("Final"),
    }
    return [("none", _("Not created"))] + [(s, short[s]) for s in TRANSCRIPT_STATES]


def state_bars(
    *, chart_id: str, title: str, rows: Sequence[tuple[str, list[int]]], width: int = 640
) -> SafeString:
    """Horizontal 100 % bars, one per (label, counts in `state_names` order), each segment
    wide enough showing its count; the total after the bar; a legend below."""
    names = state_names()
    bar_w = width - LABEL_W - 50
    legend_top = TOP + len(rows) * (ROW_H + GAP)
    legend, lines = _legend(names, top=legend_top, width=width)
    height = legend_top + 16 * lines + 4
    description = "; ".join(
        f"{label}: " + ", ".join(f"{name} {n}" for (_k, name), n in zip(names, counts, strict=True))
        for label, counts in rows
    )
    parts = [svg_open(chart_id, width, height, title, description)]
    for r, (label, counts) in enumerate(rows):
        y = TOP + r * (ROW_H + GAP)
        total = sum(counts)
        parts.append(_label(y, label))
        x = float(LABEL_W)
        for (key, name), count in zip(names, counts, strict=True):
            if not count:
                continue
            fill, ink = STATE_COLOURS[key]
            seg_w = bar_w * count / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{seg_w:.1f}" height="{ROW_H}" fill="{fill}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(f"{label}, {name}: {count}")}'
                "</title></rect>"
            )
            if 7 * len(str(count)) + 4 <= seg_w:
                parts.append(
                    f'<text x="{x + seg_w / 2:.1f}" y="{y + ROW_H * 0.72:g}" fill="{ink}" '
                    f'text-anchor="middle" class="seg">{count}</text>'
                )
            x += seg_w
        if not total:
            parts.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{bar_w}" height="{ROW_H}" fill="none" '
                'stroke="#999" stroke-dasharray="3 3"/>'
            )
        parts.append(
            f'<text x="{LABEL_W + bar_w + 4}" y="{y + ROW_H * 0.72:g}" class="n">n={total}</text>'
        )
    parts.append(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _legend(names: list[tuple[str, str]], *, top: float, width: int) -> tuple[str, int]:
    parts, x, line = [], float(LABEL_W), 0
    for key, name in names:
        item_w = 22 + 6.5 * len(name)
        if x > LABEL_W and x + item_w > width:
            x, line = float(LABEL_W), line + 1
        y = top + 16 * line + 10
        parts.append(
            f'<rect x="{x:g}" y="{y - 8:g}" width="9" height="9" fill="{STATE_COLOURS[key][0]}"/>'
            f'<text x="{x + 12:g}" y="{y:g}" class="legend">{escape(name)}</text>'
        )
        x += item_w
    return "".join(parts), line + 1


def dashboard_charts(rows: Sequence[SchoolProgress]) -> list[Figure]:
    """The dashboard's three charts over the listed schools."""
    return progress_charts(bars(rows))


def school_charts(row: SchoolProgress) -> list[Figure]:
    """The same three charts over one school's classes."""
    shown = []
    for class_row in row.class_rows:
        assert class_row.class_group is not None
        shown.append(Bar(class_row.class_group.name, class_row))
    return progress_charts(shown)


def progress_charts(shown: Sequence[Bar]) -> list[Figure]:
    """Cells filled, transcripts by state and signing progress, one bar per row."""
    books = [
        (
            bar.label,
            bar.progress.completion_percent,
            _("%(closed)s/%(books)s books closed")
            % {"closed": bar.progress.books_closed, "books": bar.progress.books},
        )
        for bar in shown
    ]
    signing = [
        (
            bar.label,
            bar.progress.signing_percent,
            _("%(final)s/%(students)s final")
            % {"final": bar.progress.final, "students": bar.progress.students},
        )
        for bar in shown
    ]
    states = [
        (bar.label, [bar.progress.without_transcript, *bar.progress.state_counts()])
        for bar in shown
    ]
    return [
        Figure(
            _("Gradebooks: cells filled"),
            percent_bars(chart_id="chart-books", title=_("Gradebooks: cells filled"), rows=books),
            wide=True,
        ),
        Figure(
            _("Transcripts by state"),
            state_bars(chart_id="chart-states", title=_("Transcripts by state"), rows=states),
            wide=True,
        ),
        Figure(
            _("Signing progress"),
            percent_bars(chart_id="chart-signing", title=_("Signing progress"), rows=signing),
            wide=True,
        ),
    ]
