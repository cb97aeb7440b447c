"""The grid's computed cells: a term's average (score-assessed subject) or D/CD result
(comment-assessed), live as marks are typed, and the year view's results.

Every term result comes from the one rule, :func:`gradebook.rules.secondary.subject_term_result`
(through :meth:`Book.term_result`), the same the class summary and the transcript read through
:mod:`gradebook.results`; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from gradebook.grid.book import TERM_AVERAGE, TERM_RESULT, Book, Values
from gradebook.grid.display import display_average, display_value
from gradebook.models import Kind
from gradebook.rules.secondary import comment_year_result, year_average
from schools.models import Assessment


@dataclass(frozen=True)
class Computed:
    id: str
    value: str
    display: str
    term: str  # "1", "2" or "year": what "show the calculation" explains
    is_computed = True

    def as_json(self) -> dict[str, str]:
        return {"value": self.value, "display": self.display}


def computed_cells(book: Book, term: int, values: Values, language: str) -> dict[str, Computed]:
    """The computed cells of one row of a term grid."""
    if book.kind == Assessment.SCORE:
        average = _term_average(book, values)
        shown = "" if average is None else display_average(average, language)
        value = "" if average is None else str(average)
        return {TERM_AVERAGE.id: Computed(TERM_AVERAGE.id, value, shown, str(term))}
    if book.kind == Assessment.COMMENT:
        result = _comment_result(book, values)
        shown = display_value(result, "pass", language)
        return {TERM_RESULT.id: Computed(TERM_RESULT.id, result, shown, str(term))}
    return {}


def _term_average(book: Book, values: Values) -> Decimal | None:
    """A score-assessed subject's term average (ĐTBmhk), None while incomplete."""
    return cast("Decimal | None", book.term_result(values).value)


def _comment_result(book: Book, values: Values) -> str:
    """A comment-assessed subject's term result as a code, "" while incomplete."""
    result = book.term_result(values).value
    return "" if result is None else str(result)


def row_results(
    book: Book, term: int, row: dict[tuple[str, str], str], language: str
) -> dict[str, dict]:
    """The computed cells of one row, as JSON, from the row's values ((kind, slot) → value,
    as a save gives them back: no query)."""
    if not book.computed_columns():
        return {}
    return {k: c.as_json() for k, c in computed_cells(book, term, row, language).items()}


def year_items(book: Book, values: dict[int, Values], language: str) -> list[Computed]:
    """One student's cells of the year view: each term's result and the year's."""
    if book.kind == Assessment.PRIMARY:
        items = []
        for term in (1, 2):
            level = values.get(term, {}).get((Kind.LEVEL.value, "end"), "")
            items.append(Computed("level", level, level, str(term)))
            if book.entry is not None and book.entry.periodic_test:
                test = values.get(term, {}).get((Kind.TEST.value, "end"), "")
                items.append(Computed("test", test, test, str(term)))
        return items
    if book.kind == Assessment.COMMENT:
        results = [_comment_result(book, values.get(t, {})) for t in (1, 2)]
        year = comment_year_result(*results) if all(results) else results[1]
        shown = [display_value(r, "pass", language) for r in (*results, str(year or ""))]
        return [
            Computed(TERM_RESULT.id, results[0], shown[0], "1"),
            Computed(TERM_RESULT.id, results[1], shown[1], "2"),
            Computed("year_result", str(year or ""), shown[2], "year"),
        ]
    averages = [_term_average(book, values.get(t, {})) for t in (1, 2)]
    first, second = averages
    year_avg = year_average(first, second) if first is not None and second is not None else None
    return [
        Computed(
            item_id,
            "" if avg is None else str(avg),
            "" if avg is None else display_average(avg, language),
            which,
        )
        for item_id, avg, which in (
            (TERM_AVERAGE.id, averages[0], "1"),
            (TERM_AVERAGE.id, averages[1], "2"),
            ("year_average", year_avg, "year"),
        )
    ]
