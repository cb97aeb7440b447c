""" "Show the calculation": the lines that explain a computed cell of the grid, in the active
language, from the rule's own explanation (gradebook.rules.subject_term) or what is missing."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gradebook.grid.book import Book, Values
from gradebook.grid.display import display_value
from gradebook.rules import Explanation
from gradebook.rules.secondary import explain_year_average
from schools.models import Assessment


def explain(book: Book, which: str, values: dict[int, Values]) -> list[str]:
    """The lines that explain a computed result of a student. `which` is "1", "2" or "year";
    `values` holds the student's cells by term."""
    language = get_language() or "vi"
    if book.kind not in (Assessment.SCORE, Assessment.COMMENT):
        return [_("Nothing is computed in this gradebook: every value is typed by a teacher.")]
    if which == "year":
        return _explain_year(book, values, language)
    result = book.term_result(values.get(int(which), {}))
    explanation = result.explain()
    if explanation is None:  # incomplete
        return [_not_yet(result.missing)]
    return _lines(explanation, language)


def _not_yet(missing: tuple[str, ...]) -> str:
    return _(
        "Not computed yet: a result needs every required mark, and %(missing)s is missing."
    ) % {"missing": ", ".join(missing)}


def _lines(explanation: Explanation, language: str) -> list[str]:
    return [step.text(language) for step in explanation.steps]


def _explain_year(book: Book, values: dict[int, Values], language: str) -> list[str]:
    if book.kind == Assessment.COMMENT:
        result = book.term_result(values.get(2, {}))
        if not result.complete:
            return [_not_yet(result.missing)]
        return [
            _("The year result of a comment-assessed subject is the term II result.")
            + f" → {display_value(str(result.value), 'pass', language)}"
        ]
    terms = [book.term_result(values.get(term, {})) for term in (1, 2)]
    if not all(term.complete for term in terms):
        lines = [
            _("Term %(term)s: %(missing)s is missing.")
            % {"term": "I" if number == 1 else "II", "missing": ", ".join(term.missing)}
            for number, term in zip((1, 2), terms, strict=True)
            if not term.complete
        ]
        return [_("Not computed yet: the year average needs both term averages."), *lines]
    first, second = (cast(Decimal, term.value) for term in terms)  # score-assessed: averages
    return _lines(explain_year_average(first, second), language)
