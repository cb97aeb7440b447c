"""The grid's "show the calculation" (a computed result explained step by step by the rules
package, in the user's language) and the per-cell history read from the ledger. Both answer
htmx with a fragment for the grid's dialog and a plain request with a full page."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from gradebook.grid.book import Book, student_values
from gradebook.grid.display import display_value
from gradebook.grid.explain import explain
from gradebook.models import Kind, MarkEvent
from gradebook.views.grid import get_book, get_enrollment, grid_url

HISTORY_LIMIT = 500


@require_GET
def explain_view(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, student_pk: int
) -> HttpResponse:
    """ "Show the calculation" of a student's result: `?term=1|2|year` (default 1)."""
    access, book = get_book(request, code, class_pk, subject_pk)
    enrollment = get_enrollment(book, student_pk)
    which = request.GET.get("term", "1")
    if which not in ("1", "2", "year"):
        raise Http404
    lines = explain(book.for_student(student_pk), which, student_values(book, student_pk))
    context = {
        "access": access,
        "class_group": book.class_group,
        "entry": book.entry,
        "student": enrollment.student,
        "which": which,
        "lines": lines,
    }
    if request.headers.get("HX-Request"):
        return render(request, "gradebook/_explain.html", context)
    return render(request, "gradebook/grid_explain.html", context)


@require_GET
def cell_history(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    student_pk: int,
    subject_pk: int | None = None,
) -> HttpResponse:
    """The ledger events of a student's cells in a book (`?column=<key>`: of one cell)."""
    access, book = get_book(request, code, class_pk, subject_pk)
    enrollment = get_enrollment(book, student_pk)
    key = request.GET.get("column", "")
    column = book.column(key) if key else None
    if key and column is None:
        raise Http404
    events = MarkEvent.objects.filter(mark__in=book.marks([student_pk]))
    if column is not None:
        events = events.filter(
            mark__term=column.term, mark__kind=column.kind, mark__slot=column.slot
        )
    events = events.select_related("actor", "mark").order_by("-seq")[:HISTORY_LIMIT]
    context = {
        "access": access,
        "class_group": book.class_group,
        "entry": book.entry,
        "book": book,
        "student": enrollment.student,
        "column": column,
        "lines": history_lines(book, reversed(list(events))),
        "grid_url": grid_url(access, book, column.term if column else 1),
    }
    if request.headers.get("HX-Request"):
        return render(request, "gradebook/_grid_history.html", context)
    return render(request, "gradebook/cell_history.html", context)


def history_lines(book: Book, events: Iterable[MarkEvent]) -> list[dict]:
    """Each event with its cell's label and the values as the user reads them."""
    columns = {(c.term, c.kind, c.slot): c for t in (1, 2) for c in book.columns(t)}
    language = get_language()
    lines = []
    for event in events:
        mark = event.mark
        column = columns.get((mark.term, mark.kind, mark.slot))
        value_type = column.value_type if column else "text"
        if column is not None:
            label = f"{column.label} · " + (_("Term I") if column.term == 1 else _("Term II"))
        else:
            label = str(Kind(mark.kind).label)
        lines.append(
            {
                "event": event,
                "label": label,
                "old": display_value(event.old_value, value_type, language),
                "new": display_value(event.new_value, value_type, language),
            }
        )
    return lines
