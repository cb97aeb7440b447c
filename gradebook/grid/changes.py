"""The grid's polling: the cells of one term of a book changed by anyone since a ledger cursor
(or a time), with the computed cells of their rows, in a constant number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from gradebook.grid.book import Book, values_by_student
from gradebook.grid.display import display_value
from gradebook.grid.results import row_results
from gradebook.hot import ledger_cursor
from gradebook.models import MarkEvent
from gradebook.services import cell_lock, lock_message


@dataclass(frozen=True)
class Changes:
    cursor: int
    cells: list[dict]
    rows: dict[str, dict]
    locked: bool
    lock_kind: str = ""  # "submitted" or "locked" when locked
    lock_message: str = ""  # what a refused save would say (gradebook.services.lock_message)


def changes_since(
    *,
    book: Book,
    term: int,
    since: int | None = None,
    since_time: datetime.datetime | None = None,
    language: str,
) -> Changes:
    """Cells of one term of a book changed (by anyone) after ledger event `since` (or after
    `since_time`), with the computed results of their rows. Constant number of queries."""
    school_id = book.class_group.year.school_id
    cursor = ledger_cursor(school_id)
    columns = {(c.kind, c.slot): c for c in book.columns(term)}
    lock = cell_lock(class_group=book.class_group, column=book.columns(term)[0])
    said = {"lock_kind": lock.kind, "lock_message": lock_message(lock)} if lock else {}
    if (since is None and since_time is None) or (since is not None and since >= cursor):
        # no cursor asked, or nothing written in the school since: no cell to look at
        return Changes(cursor=cursor, cells=[], rows={}, locked=lock is not None, **said)
    students = book.class_group.enrollments.values("student_id")
    marks = book.marks(students).filter(term=term)
    if since is not None:
        events = MarkEvent.objects.filter(school_id=school_id, seq__gt=since).values("mark_id")
        marks = marks.filter(pk__in=events)
    else:
        marks = marks.filter(updated_at__gt=since_time)
    changed = [m for m in marks if (m.kind, m.slot) in columns]
    cells = [
        {
            "student": m.student_id,
            "column": columns[(m.kind, m.slot)].key,
            "value": m.value,
            "display": display_value(m.value, columns[(m.kind, m.slot)].value_type, language),
            "version": m.version,
        }
        for m in changed
    ]
    rows: dict[str, dict] = {}
    touched = {m.student_id for m in changed}
    if touched and book.computed_columns():
        values = values_by_student(book.marks(touched).filter(term=term))
        for student_id in touched:
            row = values.get(student_id, {}).get(term, {})
            rows[str(student_id)] = row_results(book.for_student(student_id), term, row, language)
    return Changes(cursor=cursor, cells=cells, rows=rows, locked=lock is not None, **said)
