"""The rows of the grid's pages, read in a constant number of queries.

Reading a term of a book costs one query for the class list, one for every cell of the term,
one for the lock, one for the approved exemptions and one for the ledger head, whatever the
number of students; the computed
cells come from :mod:`gradebook.grid.results`, never stored. The year view reads the class list
and the book's cells of both terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from gradebook.columns import Column
from gradebook.grid.book import (
    Book,
    ComputedColumn,
    Values,
    book_enrollments,
    values_by_student,
)
from gradebook.grid.display import display_value, given_name
from gradebook.grid.results import Computed, computed_cells, year_items
from gradebook.hot import ledger_cursor
from gradebook.models import YEAR_TERM, Exemption, ExemptionScope, ExemptionState, Kind, Lock
from gradebook.services import cell_lock
from schools.models import Assessment, Enrollment, Student


@dataclass(frozen=True)
class Cell:
    column: Column
    value: str
    display: str
    version: int
    editable: bool
    locked: bool
    #: An approved exemption covers the student's subject this term: shown as exempt, read only.
    exempt: bool = False
    is_computed = False


@dataclass
class _StudentRow:
    """A row of one enrolled student."""

    enrollment: Enrollment

    @property
    def student(self) -> Student:
        return self.enrollment.student

    @property
    def left(self) -> bool:
        return self.enrollment.left_on is not None


@dataclass
class Row(_StudentRow):
    items: list[Cell | Computed] = field(default_factory=list)
    #: The part of the subject an approved partial exemption covers this term ("" for none):
    #: shown beside the name, the cells stay due.
    partial: str = ""

    @property
    def given_name(self) -> str:
        return given_name(self.student.full_name)


@dataclass
class Grid:
    book: Book
    term: int
    layout: list[Column | ComputedColumn]
    rows: list[Row]
    lock: Lock | None
    writer: bool
    cursor: int

    @property
    def writable(self) -> bool:
        return self.writer and self.lock is None

    @property
    def columns(self) -> list[Column]:
        return [c for c in self.layout if isinstance(c, Column)]

    @property
    def prints_landscape(self) -> bool:
        """Whether the book prints on A4 landscape: a comment column, or more than six
        columns beside the number and the name, do not fit across a portrait sheet."""
        return len(self.layout) > 6 or any(c.value_type == "text" for c in self.columns)


def build_grid(*, book: Book, term: int, writer: bool, language: str) -> Grid:
    """Every row of one term of a book, with computed results, in a constant number of
    queries."""
    columns = book.columns(term)
    cursor = ledger_cursor(book.class_group.year.school_id)  # before the marks: no change lost
    people = book_enrollments(book)
    marks = book.marks([e.student_id for e in people]).filter(term=term)
    by_cell: dict[tuple[int, str, str], tuple[str, int]] = {}  # → (value, version)
    values: dict[int, Values] = {}  # student id → this term's (kind, slot) → value
    for student_id, kind, slot, value, version in marks.values_list(
        "student_id", "kind", "slot", "value", "version"
    ):  # tuples, not instances: some 500 cells a page
        by_cell[student_id, kind, slot] = (value, version)
        values.setdefault(student_id, {})[kind, slot] = value
    lock = cell_lock(class_group=book.class_group, column=columns[0])
    exempt: set[int] = set()  # whole exemptions: the cells are exempt
    partial: dict[int, str] = {}  # partial ones: student id → the part
    if book.subject_id is not None and term in (1, 2):  # one query: the approved exemptions
        for student_id, scope, part in Exemption.objects.filter(
            year_id=book.class_group.year_id, subject_id=book.subject_id,
            student_id__in=[e.student_id for e in people], term__in=(term, YEAR_TERM),
            state=ExemptionState.APPROVED,
        ).values_list("student_id", "scope", "part"):  # fmt: skip
            if scope == ExemptionScope.WHOLE:
                exempt.add(student_id)
            else:
                partial[student_id] = part
    exempt_text = _("Exempt")
    layout: list[Column | ComputedColumn] = list(columns)
    computed_at = next((i for i, c in enumerate(columns) if c.value_type == "text"), len(columns))
    layout[computed_at:computed_at] = book.computed_columns()
    rows = []
    for enrollment in people:
        student_id = enrollment.student_id
        left = enrollment.left_on is not None
        exempted = student_id in exempt
        row_book = book.for_student(student_id)
        regular = row_book.student_regular_marks()
        cells: dict[str, Cell] = {}
        for column in columns:
            value, version = by_cell.get((student_id, column.kind, column.slot), ("", 0))
            beyond = _beyond(column, regular)  # a cluster's mark the student does not take
            cells[column.key] = Cell(
                column=column,
                value=value,
                display=exempt_text
                if exempted
                else display_value(value, column.value_type, language),
                version=version,
                editable=writer and lock is None and not left and not exempted and not beyond,
                locked=lock is not None,
                exempt=exempted,
            )
        computed = computed_cells(row_book, term, values.get(student_id, {}), language)
        items = [
            cells[item.key] if isinstance(item, Column) else computed[item.id] for item in layout
        ]
        rows.append(Row(enrollment=enrollment, items=items, partial=partial.get(student_id, "")))
    return Grid(
        book=book, term=term, layout=layout, rows=rows, lock=lock, writer=writer, cursor=cursor
    )


def _beyond(column: Column, regular: int | None) -> bool:
    """Whether the column is a regular mark past the student's count: the learning-topic
    clusters' mark in a book where others take them and this student does not."""
    if regular is None or column.kind != Kind.REGULAR or not column.slot.isdigit():
        return False
    return int(column.slot) > regular


@dataclass
class YearRow(_StudentRow):
    items: list[Computed]


def year_headers(book: Book) -> list[tuple[str, str]]:
    """(label, title) of the year view's columns."""
    if book.kind == Assessment.PRIMARY:
        periodic_test = book.entry is not None and book.entry.periodic_test
        headers = [(_("Term I level"), _("End-of-term I level"))]
        if periodic_test:
            headers.append((_("Term I test"), _("End-of-term I test")))
        headers.append((_("Year level"), _("End-of-year level")))
        if periodic_test:
            headers.append((_("Year test"), _("End-of-year test")))
        return headers
    if book.kind == Assessment.COMMENT:
        return [
            (_("Term I"), _("Term I result")),
            (_("Term II"), _("Term II result")),
            (_("Year"), _("Year result (the term II result)")),
        ]
    return [
        (_("Term I avg."), _("Term I average (ĐTBmhk I)")),
        (_("Term II avg."), _("Term II average (ĐTBmhk II)")),
        (_("Year avg."), _("Year average (ĐTBmcn)")),
    ]


def build_year(*, book: Book, language: str) -> list[YearRow]:
    """The year view of a subject book: HK I, HK II and the year result per student."""
    people = book_enrollments(book)
    marks = book.marks([e.student_id for e in people]).exclude(kind=Kind.COMMENT)
    values = values_by_student(marks.filter(term__in=(1, 2)))
    return [
        YearRow(
            enrollment=e,
            items=year_items(
                book.for_student(e.student_id), values.get(e.student_id, {}), language
            ),
        )
        for e in people
    ]
