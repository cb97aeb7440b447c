"""Server-side SVG charts: well-formed, accessible, labelled, escaped."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

from django.utils import translation

from gradebook.charts import (
    AVERAGE_BINS,
    Category,
    Series,
    StackedRow,
    bin_counts,
    class_charts,
    histogram,
    stacked_shares,
)
from gradebook.results import class_results
from tests.gradebook.marks import all_scored, homeroom_marks, primary_year, year_of

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314 - our own markup


def texts(root: ElementTree.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_bins_follow_the_regulation_thresholds():
    values = [Decimal(v) for v in ("0", "3.4", "3.5", "4.9", "5", "6.4", "6.5", "7.9", "8", "10")]
    assert bin_counts([*values, None]) == (2, 2, 2, 2, 2)


def test_histogram_is_well_formed_with_title_desc_and_counts():
    root = parse(
        histogram(
            chart_id="h1",
            title="Toán",
            description="HK I …",
            bins=AVERAGE_BINS,
            series=[Series("HK I", (1, 2, 3, 4, 5)), Series("HK II", (0, 1, 2, 9, 3))],
        )
    )
    assert root.get("role") == "img" and root.get("aria-labelledby") == "h1-title h1-desc"
    assert root.find(f"{SVG}title").text == "Toán"
    assert len(root.findall(f"{SVG}rect[@class='bar']")) == 10
    assert {"9", "HK II", "8.0–10"} <= set(texts(root))


def test_tallest_bar_fills_the_plot_and_zero_has_no_height():
    root = parse(
        histogram(chart_id="h", title="t", description="d", bins=("a", "b"),
                  series=[Series("x", (0, 4))])
    )  # fmt: skip
    heights = [float(r.get("height")) for r in root.findall(f"{SVG}rect[@class='bar']")]
    assert heights[0] == 0 and heights[1] > 100


def test_text_is_escaped():
    root = parse(
        stacked_shares(
            chart_id="s<1>",
            title='<script>alert("x")</script>',
            description="a & b",
            categories=[Category("K", "Khá & <b>", "#00f")],
            rows=[StackedRow('HK "I"', {"K": 3})],
        )
    )
    assert root.find(f"{SVG}title").text == '<script>alert("x")</script>'
    assert root.find(f"{SVG}desc").text == "a & b"
    assert 'HK "I"' in texts(root)


def test_stacked_shares_split_the_bar_by_count():
    categories = [Category("T", "Tốt", "#080"), Category("K", "Khá", "#00f")]
    root = parse(
        stacked_shares(chart_id="s", title="t", description="d", categories=categories,
                       rows=[StackedRow("HK I", {"T": 3, "K": 1})], width=470)
    )  # fmt: skip
    segments = [r for r in root.findall(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    widths = [float(r.get("width")) for r in segments]
    assert widths == [270.0, 90.0]
    assert {"T 3", "K 1", "n=4"} <= set(texts(root))


def test_empty_row_draws_an_outline_not_a_division_by_zero():
    root = parse(
        stacked_shares(chart_id="s", title="t", description="d",
                       categories=[Category("T", "Tốt", "#080")], rows=[StackedRow("HK I", {})])
    )  # fmt: skip
    assert "n=0" in texts(root)


def test_class_charts_compare_the_year_with_both_terms(class_a):
    for enrollment in class_a.enrollments.all():
        year_of(class_a, enrollment.student, all_scored("8.5"))
        homeroom_marks(enrollment.student)
    figures = class_charts(class_results(class_a), "year")
    learning = parse(figures[0].svg)
    assert [t for t in texts(learning) if t.startswith("n=")] == ["n=3", "n=3", "n=3"]
    maths = next(f for f in figures if "Toán" in f.title)
    assert len(parse(maths.svg).findall(f"{SVG}rect[@class='bar']")) == 15  # 5 bins × 3


def test_primary_charts_show_results_and_test_scores(grade4):
    primary_year(grade4, grade4.enrollments.get().student)
    with translation.override("en"):
        charts = class_charts(class_results(grade4), "year")
    figures = {f.title: parse(f.svg) for f in charts}
    assert "HTXS 1" in texts(figures["End-of-year result"])
    assert len(figures["Toán: test scores"].findall(f"{SVG}rect[@class='bar']")) == 10


def test_students_without_results_are_counted_as_incomplete(class_a):
    learning = parse(class_charts(class_results(class_a), 2)[0].svg)
    assert texts(learning).count("… 3") == 2  # both terms: three students, no level yet


def test_bin_labels_use_the_language_decimal_separator():
    from django.utils import translation

    from gradebook.charts import localised_bins

    with translation.override("vi"):
        assert localised_bins()[1] == "3,5–4,9"
    with translation.override("en"):
        assert localised_bins()[1] == "3.5–4.9"
