"""Small server-side SVG charts: no JavaScript, no CDN, printable, readable without colour.

Each function returns one ``<svg>`` element as a SafeString. Every piece of text that comes
from outside (titles, labels) is escaped here, so the result can go into a template as is.
Charts carry a ``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``), and every bar
has its number written next to it, so the chart reads in grey print and to a screen reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import cast

from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gradebook.results import ClassResults, PrimaryStudentResults, SecondaryStudentResults, labels
from gradebook.results.types import SubjectValue
from gradebook.rules.secondary import LearningLevel
from gradebook.summary import Period

#: Upper bounds (exclusive) of the average bins: 0–<3.5, 3.5–<5, 5–<6.5, 6.5–<8, 8–10.
AVERAGE_EDGES = (Decimal("3.5"), Decimal("5"), Decimal("6.5"), Decimal("8"))
AVERAGE_BINS = ("0–3.4", "3.5–4.9", "5.0–6.4", "6.5–7.9", "8.0–10")


def localised_bins() -> tuple[str, ...]:
    """AVERAGE_BINS with the active language's decimal separator ("3,5–4,9" in Vietnamese)."""
    separator = get_format("DECIMAL_SEPARATOR")
    return tuple(label.replace(".", separator) for label in AVERAGE_BINS)


#: Fill colours of the series of a histogram, oldest first (the last is the current period).
SERIES_COLOURS = ("#9fb7d3", "#5b84b1", "#0b5394")

FONT = "font-family:system-ui,sans-serif"


@dataclass(frozen=True)
class Series:
    """One period of a histogram: its label ("HK I") and one count per bin."""

    label: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Category:
    """One segment kind of a stacked bar: its code ("K"), its full name, its fill colour, and
    the text colour that reads on that fill."""

    code: str
    name: str
    colour: str
    text_colour: str = "#fff"


@dataclass(frozen=True)
class StackedRow:
    """One bar of a stacked-share chart: a label ("HK I") and a count per category code."""

    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bin_counts(
    values: Iterable[Decimal | int | None], edges: Sequence[Decimal] = AVERAGE_EDGES
) -> tuple[int, ...]:
    """How many values fall in each bin (``len(edges) + 1`` bins); ``None`` is skipped."""
    counts = [0] * (len(edges) + 1)
    for value in values:
        if value is None:
            continue
        counts[sum(1 for edge in edges if value >= edge)] += 1
    return tuple(counts)


def _attrs(**attributes: object) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(str(value), quote=True)}"'
        for name, value in attributes.items()
    )


def _text(x: float, y: float, text: str, **attributes: object) -> str:
    return f"<text {_attrs(x=f'{x:g}', y=f'{y:g}', **attributes)}>{escape(text)}</text>"


def svg_open(chart_id: str, width: int, height: int, title: str, description: str) -> str:
    """An accessible chart's <svg> opening with its title and description (also the
    Department's charts, department/charts.py)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(id=chart_id)} role="img" '
        f"{_attrs(aria_labelledby=f'{chart_id}-title {chart_id}-desc')} "
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'class="chart" style="{FONT};font-size:11px;max-width:100%;height:auto">'
        f"<title {_attrs(id=chart_id + '-title')}>{escape(title)}</title>"
        f"<desc {_attrs(id=chart_id + '-desc')}>{escape(description)}</desc>"
    )


def histogram(
    *,
    chart_id: str,
    title: str,
    description: str,
    bins: Sequence[str],
    series: Sequence[Series],
    width: int = 320,
    height: int = 170,
) -> SafeString:
    """Grouped bars: for each bin, one bar per series side by side, each labelled with its
    count; a legend names the series. The y scale is shared by all series."""
    top, bottom, left, right = 22, 34, 8, 8
    plot_h = height - top - bottom
    group_w = (width - left - right) / max(len(bins), 1)
    bar_w = min(22.0, (group_w - 6) / max(len(series), 1))
    peak = max((c for s in series for c in s.counts), default=0) or 1
    parts = [svg_open(chart_id, width, height, title, description)]
    base_y = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{base_y:g}" x2="{width - right}" y2="{base_y:g}" '
        'stroke="#555" stroke-width="1"/>'
    )
    for b, label in enumerate(bins):
        group_x = left + b * group_w
        start = group_x + (group_w - bar_w * len(series)) / 2
        for s, one in enumerate(series):
            count = one.counts[b]
            bar_h = plot_h * count / peak
            x, y = start + s * bar_w, base_y - bar_h
            colour = SERIES_COLOURS[-len(series) :][s] if len(series) <= 3 else "#5b84b1"
            parts.append(
                f"<rect {_attrs(x=f'{x:.1f}', y=f'{y:.1f}', width=f'{bar_w - 1:.1f}')} "
                f'{_attrs(height=f"{bar_h:.1f}", fill=colour)} class="bar">'
                f"<title>{escape(f'{one.label}, {label}: {count}')}</title></rect>"
            )
            parts.append(
                _text(x + (bar_w - 1) / 2, y - 2, str(count), text_anchor="middle", class_="n")
            )
        parts.append(
            _text(group_x + group_w / 2, base_y + 13, label, text_anchor="middle", class_="bin")
        )
    parts.append(_legend(series, y=height - 6, left=left))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _legend(series: Sequence[Series], *, y: float, left: float) -> str:
    parts = []
    x = left
    for s, one in enumerate(series):
        colour = SERIES_COLOURS[-len(series) :][s] if len(series) <= 3 else "#5b84b1"
        parts.append(f'<rect x="{x:g}" y="{y - 8:g}" width="9" height="9" fill="{colour}"/>')
        parts.append(_text(x + 12, y, one.label, class_="legend"))
        x += 18 + 7 * len(one.label)
    return "".join(parts)


def stacked_shares(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[Category],
    rows: Sequence[StackedRow],
    width: int = 480,
) -> SafeString:
    """Horizontal 100 % bars, one per row (period), split by category; each segment wide
    enough shows "code n", and the row's total is written at the end."""
    row_h, gap, top, label_w, total_w = 22, 8, 8, 70, 40
    bar_w = width - label_w - total_w
    legend_top = top + len(rows) * (row_h + gap)
    legend, lines = _category_legend(categories, top=legend_top, left=label_w, width=width)
    height = legend_top + 14 * lines + 4
    parts = [svg_open(chart_id, width, height, title, description)]
    for r, row in enumerate(rows):
        y = top + r * (row_h + gap)
        parts.append(_text(0, y + row_h * 0.68, row.label, class_="row"))
        x = float(label_w)
        for category in categories:
            count = row.counts.get(category.code, 0)
            if not count:
                continue
            seg_w = bar_w * count / row.total
            share = round(100 * count / row.total)
            parts.append(
                f"<rect {_attrs(x=f'{x:.1f}', y=y, width=f'{seg_w:.1f}', height=row_h)} "
                f'{_attrs(fill=category.colour)} stroke="#fff" stroke-width="1">'
                f"<title>{escape(f'{row.label}, {category.name}: {count} ({share}%)')}</title>"
                "</rect>"
            )
            label = _fitting(seg_w, f"{category.code} {count}", str(count))
            if label:
                parts.append(
                    _text(x + seg_w / 2, y + row_h * 0.68, label,
                          text_anchor="middle", fill=category.text_colour, class_="seg")
                )  # fmt: skip
            x += seg_w
        if not row.total:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{row_h}" fill="none" '
                'stroke="#999" stroke-dasharray="3 3"/>'
            )
        parts.append(_text(label_w + bar_w + 4, y + row_h * 0.68, f"n={row.total}", class_="n"))
    parts.append(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _fitting(width: float, *labels: str) -> str:
    """The first label that fits in ``width`` pixels at the chart's 11 px font, else ""."""
    return next((label for label in labels if 7 * len(label) + 6 <= width), "")


def _category_legend(
    categories: Sequence[Category], *, top: float, left: float, width: float
) -> tuple[str, int]:
    """The legend, wrapped to ``width``; returns the markup and the number of lines."""
    parts = []
    x, line = left, 0
    for category in categories:
        text = f"{category.code} {category.name}"
        item_w = 22 + 6 * len(text)
        if x > left and x + item_w > width:
            x, line = left, line + 1
        y = top + 14 * line + 10
        parts.append(
            f'<rect x="{x:g}" y="{y - 8:g}" width="9" height="9" {_attrs(fill=category.colour)}/>'
        )
        parts.append(_text(x + 12, y, text, class_="legend"))
        x += item_w
    return "".join(parts), line + 1


# --- the class summary's charts ---------------------------------------------------------------

LEVEL_COLOURS = {
    "T": ("#1b7f3b", "#fff"),
    "K": ("#3b7dc4", "#fff"),
    "D": ("#f0b429", "#222"),
    "CD": ("#c0392b", "#fff"),
    "HTXS": ("#0f5a2a", "#fff"),
    "HTT": ("#1b7f3b", "#fff"),
    "HT": ("#3b7dc4", "#fff"),
    "CHT": ("#c0392b", "#fff"),
    "CCG": ("#c0392b", "#fff"),
    "": ("#d9d9d9", "#222"),
}
#: Bins of primary test scores (integers) with the same edges as the averages.
TEST_BINS = ("0–3", "4", "5–6", "7", "8–10")


@dataclass(frozen=True)
class Figure:
    """One chart of the summary page: its heading and its SVG."""

    title: str
    svg: SafeString
    wide: bool = False


def _categories(codes: Sequence[str]) -> list[Category]:
    return [
        Category(
            labels.abbreviation(code),
            labels.name(code),
            *LEVEL_COLOURS[code],
        )
        for code in codes
    ] + [Category("…", str(_("Incomplete")), *LEVEL_COLOURS[""])]


def _share_row(label: str, values: Iterable[object]) -> StackedRow:
    counts: dict[str, int] = {}
    for value in values:
        code = "…" if value is None else labels.abbreviation(value)
        counts[code] = counts.get(code, 0) + 1
    return StackedRow(label, counts)


def _periods(period: Period) -> list[tuple[Period, str]]:
    """The selected period with the ones before it, oldest first: compared side by side."""
    every: list[tuple[Period, str]] = [
        (1, str(_("Term I"))),
        (2, str(_("Term II"))),
        ("year", str(_("Year"))),
    ]
    upto = {1: 1, 2: 2, "year": 3}[period]
    return every[:upto]


def _describe(series: Sequence[Series], bins: Sequence[str]) -> str:
    return "; ".join(
        f"{one.label}: " + ", ".join(f"{b} {n}" for b, n in zip(bins, one.counts, strict=True))
        for one in series
    )


def _shares_figure(
    chart_id: str, title: str, codes: Sequence[str], rows: list[StackedRow]
) -> Figure:
    description = "; ".join(
        f"{row.label}: " + ", ".join(f"{code} {n}" for code, n in row.counts.items())
        for row in rows
    )
    svg = stacked_shares(
        chart_id=chart_id,
        title=title,
        description=description,
        categories=_categories(codes),
        rows=rows,
    )
    return Figure(title, svg, wide=True)


def _histogram_figure(
    chart_id: str, title: str, bins: Sequence[str], series: list[Series]
) -> Figure:
    svg = histogram(
        chart_id=chart_id,
        title=title,
        description=_describe(series, bins),
        bins=bins,
        series=series,
    )
    return Figure(title, svg)


def class_charts(results: ClassResults, period: Period) -> list[Figure]:
    """The summary page's charts for a ClassResults: distributions per subject and the share of
    each level, the selected period next to the earlier ones of the year."""
    if results.primary:
        return _primary_charts(results, period)
    return _secondary_charts(results, period)


def _secondary_charts(results: ClassResults, period: Period) -> list[Figure]:
    periods = _periods(period)
    students = cast("tuple[SecondaryStudentResults, ...]", results.students)  # a secondary class
    levels = ("T", "K", "D", "CD")
    figures = [
        _shares_figure(
            "chart-learning",
            str(_("Learning result")),
            levels,
            [
                _share_row(label, [_level(s.learning(key)) for s in students])
                for key, label in periods
            ],
        ),
        _shares_figure(
            "chart-conduct",
            str(_("Conduct")),
            levels,
            [
                _share_row(
                    label,
                    [s.conduct.year if key == "year" else s.conduct.term(key) for s in students],
                )
                for key, label in periods
            ],
        ),
    ]
    for subject in results.subjects:
        if not subject.scored:
            continue
        series = []
        for key, label in periods:
            values = [
                _average(
                    s.subject(subject.code).value
                    if key == "year"
                    else s.subject(subject.code).term(key).value
                )
                for s in students
                if s.takes(subject.code)  # grades 10-12: those who chose the elective
            ]
            series.append(Series(label, bin_counts(values)))
        title = str(_("%(subject)s: averages")) % {"subject": subject.name}
        figures.append(_histogram_figure(f"chart-{subject.code}", title, localised_bins(), series))
    return figures


def _average(value: SubjectValue | None) -> Decimal | None:
    """A score-assessed subject's result: its average, or None while incomplete."""
    return value if isinstance(value, Decimal) else None


def _level(learning: LearningLevel | None) -> str | None:
    return None if learning is None else learning.level


def _primary_charts(results: ClassResults, period: Period) -> list[Figure]:
    periods: list[tuple[Period, str]] = [(1, str(_("Term I")))]
    if period == "year":
        periods.append(("year", str(_("End of year"))))
    students = cast("tuple[PrimaryStudentResults, ...]", results.students)  # a primary class
    figures = [
        _shares_figure(
            "chart-subject-levels",
            str(_("Subject levels")),
            ("HTT", "HT", "CHT"),
            [
                _share_row(label, [r.level(key) for s in students for r in s.subjects])
                for key, label in periods
            ],
        ),
        _shares_figure(
            "chart-qualities",
            str(_("Qualities and competencies")),
            ("T", "D", "CCG"),
            [
                _share_row(
                    label,
                    [
                        v
                        for s in students
                        for v in (*s.qualities(key).values(), *s.competencies(key).values())
                    ],
                )
                for key, label in periods
            ],
        ),
    ]
    if period == "year":
        figures.append(
            _shares_figure(
                "chart-overall",
                str(_("End-of-year result")),
                ("HTXS", "HTT", "HT", "CHT"),
                [_share_row(periods[-1][1], [s.year_result for s in students])],
            )
        )
    for subject in results.subjects:
        if not subject.periodic_test:
            continue
        series = [
            Series(label, bin_counts(s.subject(subject.code).test(key) for s in students))
            for key, label in periods
        ]
        title = str(_("%(subject)s: test scores")) % {"subject": subject.name}
        figures.append(_histogram_figure(f"chart-{subject.code}", title, TEST_BINS, series))
    return figures
