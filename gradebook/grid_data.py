"""The gradebook grid's rows and cells, read in a constant number of queries.

A *book* is one class's subject gradebook (a curriculum entry) or its homeroom book (no
entry). Reading a term of a book costs one query for the class list, one for every cell of the
term, one for the lock and one for the ledger head, whatever the number of students; results
(term average, comment-subject result) are computed here by `gradebook.rules`, never stored.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from gradebook.columns import Column, homeroom_columns, subject_columns
from gradebook.hot import ledger_cursor
from gradebook.models import CommentPhrase, Kind, Lock, Mark, MarkEvent
from gradebook.rules import Explanation, InvalidMark
from gradebook.rules.secondary import (
    comment_term_result,
    comment_year_result,
    explain_comment_term_result,
    explain_term_average,
    explain_year_average,
    parse_score,
    term_average,
    year_average,
)
from gradebook.services import cell_lock
from schools.models import Assessment, ClassGroup, CurriculumEntry, Enrollment, Student

HOMEROOM = "homeroom"
PASS_DISPLAY_VI = {"D": "Đ", "CD": "CĐ"}
# (kind, slot) → canonical value, for one student and one term
Values = dict[tuple[str, str], str]


@dataclass(frozen=True)
class Book:
    """One gradebook of a class: a subject's (`entry`) or the homeroom book (`entry` None)."""

    class_group: ClassGroup
    entry: CurriculumEntry | None = None

    @property
    def subject_id(self) -> int | None:
        return self.entry.subject_id if self.entry else None

    @property
    def kind(self) -> str:
        """ "score", "comment", "primary" (the entry's assessment) or "homeroom"."""
        return self.entry.assessment if self.entry else HOMEROOM

    @property
    def primary(self) -> bool:
        return self.class_group.grade <= 5

    def columns(self, term: int) -> list[Column]:
        if self.entry is None:
            return homeroom_columns(primary=self.primary, term=term)
        return subject_columns(self.entry, term)

    def column(self, key: str) -> Column | None:
        """The column of term 1 or 2 with this key, or None."""
        term = key.split(":", 1)[0]
        if term not in ("1", "2"):
            return None
        return next((c for c in self.columns(int(term)) if c.key == key), None)

    def marks(self, students: Iterable[int] | QuerySet) -> QuerySet[Mark]:
        """Cells of this book (any term) of these students."""
        subject = Q(subject__isnull=True) if self.entry is None else Q(subject_id=self.subject_id)
        return Mark.objects.filter(subject, year_id=self.class_group.year_id, student__in=students)

    def computed_columns(self) -> list[ComputedColumn]:
        if self.kind == Assessment.SCORE:
            return [TERM_AVERAGE]
        if self.kind == Assessment.COMMENT:
            return [TERM_RESULT]
        return []

    def level_sources(self, term: int) -> list[str]:
        """Cells whose value is the row's level, to pick comment-bank phrases (first non-empty)."""
        if self.kind == Assessment.PRIMARY:
            return [f"{term}:{Kind.LEVEL}:end", f"{term}:{Kind.LEVEL}:mid"]
        if self.kind == Assessment.COMMENT:
            return [TERM_RESULT.id]
        if self.kind == HOMEROOM and not self.primary:
            return [f"{term}:{Kind.CONDUCT}:"]
        return []


@dataclass(frozen=True)
class ComputedColumn:
    id: str
    label: str
    title: str


TERM_AVERAGE = ComputedColumn(
    "term_average", gettext_lazy("Term avg."), gettext_lazy("Term average (ĐTBmhk)")
)
TERM_RESULT = ComputedColumn(
    "term_result", gettext_lazy("Result"), gettext_lazy("Term result of a comment subject")
)


@dataclass(frozen=True)
class Cell:
    column: Column
    value: str
    display: str
    version: int
    editable: bool
    locked: bool
    is_computed = False


@dataclass(frozen=True)
class Computed:
    id: str
    value: str
    display: str
    term: str  # "1", "2" or "year": what "show the calculation" explains
    is_computed = True

    def as_json(self) -> dict[str, str]:
        return {"value": self.value, "display": self.display}


@dataclass
class Row:
    enrollment: Enrollment
    items: list[Cell | Computed] = field(default_factory=list)

    @property
    def student(self) -> Student:
        return self.enrollment.student

    @property
    def left(self) -> bool:
        return self.enrollment.left_on is not None

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


def given_name(full_name: str) -> str:
    """A Vietnamese full name ends with the given name: "Nguyễn Văn Bình" → "Bình"."""
    parts = full_name.split()
    return parts[-1] if parts else ""


# --- Display -----------------------------------------------------------------------------------


def localise_number(text: str, language: str) -> str:
    return text if language.startswith("en") else text.replace(".", ",")


def display_value(value: str, value_type: str, language: str) -> str:
    """A canonical cell value as the user reads it: "7,5" in Vietnamese, "Đ"/"CĐ" for pass."""
    if not value:
        return ""
    if value_type == "score":
        return localise_number(value, language)
    if value_type in ("pass", "level") and not language.startswith("en"):
        return PASS_DISPLAY_VI.get(value, value)
    return value


def display_average(value: Decimal, language: str) -> str:
    """A computed average always shows one decimal: 8 → "8,0"."""
    return localise_number(f"{value:.1f}", language)


# --- Results -----------------------------------------------------------------------------------


def _scores(values: Values, keys: list[tuple[str, str]]) -> list[Decimal] | None:
    """The scores at these keys, or None if one is missing (or not a score)."""
    scores = []
    for key in keys:
        text = values.get(key, "")
        if not text:
            return None
        try:
            scores.append(parse_score(text))
        except InvalidMark:
            return None
    return scores


def _assessment_keys(entry: CurriculumEntry) -> list[tuple[str, str]]:
    regular = [(Kind.REGULAR.value, str(i)) for i in range(1, entry.regular_mark_count + 1)]
    return [*regular, (Kind.MIDTERM.value, ""), (Kind.FINAL.value, "")]


def term_average_of(entry: CurriculumEntry, values: Values) -> Decimal | None:
    """ĐTBmhk when every required mark of the term is present
    (docs/regulations.md#how-many-marks-per-term), else None."""
    scores = _scores(values, _assessment_keys(entry))
    if scores is None:
        return None
    return term_average(scores[:-2], scores[-2], scores[-1])


def comment_result_of(entry: CurriculumEntry, values: Values) -> str | None:
    """D/CD of a comment-assessed subject once every assessment is present
    (docs/regulations.md#comment-assessed-subjects), else None."""
    found = [values.get(key, "") for key in _assessment_keys(entry)]
    if not all(found):
        return None
    try:
        return str(comment_term_result(found, required=len(found)))
    except (InvalidMark, ValueError):
        return None


def computed_cells(book: Book, term: int, values: Values, language: str) -> dict[str, Computed]:
    """The computed cells of one row of a term grid."""
    if book.kind == Assessment.SCORE:
        average = term_average_of(book.entry, values)
        shown = "" if average is None else display_average(average, language)
        value = "" if average is None else str(average)
        return {TERM_AVERAGE.id: Computed(TERM_AVERAGE.id, value, shown, str(term))}
    if book.kind == Assessment.COMMENT:
        result = comment_result_of(book.entry, values) or ""
        shown = display_value(result, "pass", language)
        return {TERM_RESULT.id: Computed(TERM_RESULT.id, result, shown, str(term))}
    return {}


def missing_labels(book: Book, term: int, values: Values) -> list[str]:
    """Labels of the required assessment columns of a term that are still empty."""
    if book.entry is None:
        return []
    keys = set(_assessment_keys(book.entry))
    return [
        str(c.label)
        for c in book.columns(term)
        if (c.kind, c.slot) in keys and not values.get((c.kind, c.slot))
    ]


def explain(book: Book, which: str, values: dict[int, Values]) -> list[str]:
    """ "Show the calculation": the lines that explain a computed result of a student, in the
    active language. `which` is "1", "2" or "year"; `values` holds the student's cells by term."""
    language = get_language() or "vi"
    if book.kind not in (Assessment.SCORE, Assessment.COMMENT):
        return [_("Nothing is computed in this gradebook: every value is typed by a teacher.")]
    if which == "year":
        return _explain_year(book, values, language)
    term = int(which)
    missing = missing_labels(book, term, values.get(term, {}))
    if missing:
        return [_not_yet(missing)]
    found = [values[term][key] for key in _assessment_keys(book.entry)]
    if book.kind == Assessment.COMMENT:
        explanation = explain_comment_term_result(found, required=len(found))
    else:
        scores = [parse_score(v) for v in found]
        explanation = explain_term_average(scores[:-2], scores[-2], scores[-1])
    return _lines(explanation, language)


def _not_yet(missing: list[str]) -> str:
    return _(
        "Not computed yet: a result needs every required mark, and %(missing)s is missing."
    ) % {"missing": ", ".join(missing)}


def _lines(explanation: Explanation, language: str) -> list[str]:
    return [step.text(language) for step in explanation.steps]


def _explain_year(book: Book, values: dict[int, Values], language: str) -> list[str]:
    if book.kind == Assessment.COMMENT:
        result = comment_result_of(book.entry, values.get(2, {}))
        if result is None:
            return [_not_yet(missing_labels(book, 2, values.get(2, {})))]
        return [
            _("The year result of a comment-assessed subject is the term II result.")
            + f" → {display_value(result, 'pass', language)}"
        ]
    averages = [term_average_of(book.entry, values.get(term, {})) for term in (1, 2)]
    if None in averages:
        lines = []
        for term, average in zip((1, 2), averages, strict=True):
            if average is None:
                missing = missing_labels(book, term, values.get(term, {}))
                lines.append(
                    _("Term %(term)s: %(missing)s is missing.")
                    % {"term": "I" if term == 1 else "II", "missing": ", ".join(missing)}
                )
        return [_("Not computed yet: the year average needs both term averages."), *lines]
    return _lines(explain_year_average(averages[0], averages[1]), language)


# --- Reading -----------------------------------------------------------------------------------


def enrollments(class_group: ClassGroup) -> list[Enrollment]:
    """The class list in roll-number order, students who left included (one query)."""
    return list(
        class_group.enrollments.select_related("student").order_by("roll_number", "student__pk")
    )


def values_by_student(marks: Iterable[Mark]) -> dict[int, dict[int, Values]]:
    """student id → term → (kind, slot) → value."""
    found: dict[int, dict[int, Values]] = {}
    for mark in marks:
        found.setdefault(mark.student_id, {}).setdefault(mark.term, {})[(mark.kind, mark.slot)] = (
            mark.value
        )
    return found


def build_grid(*, book: Book, term: int, writer: bool, language: str) -> Grid:
    """Every row of one term of a book, with computed results, in a constant number of
    queries."""
    columns = book.columns(term)
    cursor = ledger_cursor(book.class_group.year.school_id)  # before the marks: no change lost
    people = enrollments(book.class_group)
    marks = book.marks([e.student_id for e in people]).filter(term=term)
    by_cell: dict[tuple[int, str, str], tuple[str, int]] = {}  # → (value, version)
    values: dict[int, Values] = {}  # student id → this term's (kind, slot) → value
    for student_id, kind, slot, value, version in marks.values_list(
        "student_id", "kind", "slot", "value", "version"
    ):  # tuples, not instances: some 500 cells a page
        by_cell[student_id, kind, slot] = (value, version)
        values.setdefault(student_id, {})[kind, slot] = value
    lock = cell_lock(class_group=book.class_group, column=columns[0])
    layout: list[Column | ComputedColumn] = list(columns)
    computed_at = next((i for i, c in enumerate(columns) if c.value_type == "text"), len(columns))
    layout[computed_at:computed_at] = book.computed_columns()
    rows = []
    for enrollment in people:
        student_id = enrollment.student_id
        left = enrollment.left_on is not None
        cells: dict[str, Cell] = {}
        for column in columns:
            value, version = by_cell.get((student_id, column.kind, column.slot), ("", 0))
            cells[column.key] = Cell(
                column=column,
                value=value,
                display=display_value(value, column.value_type, language),
                version=version,
                editable=writer and lock is None and not left,
                locked=lock is not None,
            )
        computed = computed_cells(book, term, values.get(student_id, {}), language)
        items = [
            cells[item.key] if isinstance(item, Column) else computed[item.id] for item in layout
        ]
        rows.append(Row(enrollment=enrollment, items=items))
    return Grid(
        book=book, term=term, layout=layout, rows=rows, lock=lock, writer=writer, cursor=cursor
    )


@dataclass
class YearRow:
    enrollment: Enrollment
    items: list[Computed]

    @property
    def student(self) -> Student:
        return self.enrollment.student

    @property
    def left(self) -> bool:
        return self.enrollment.left_on is not None


def year_headers(book: Book) -> list[tuple[str, str]]:
    """(label, title) of the year view's columns."""
    if book.kind == Assessment.PRIMARY:
        headers = [(_("Term I level"), _("End-of-term I level"))]
        if book.entry.periodic_test:
            headers.append((_("Term I test"), _("End-of-term I test")))
        headers.append((_("Year level"), _("End-of-year level")))
        if book.entry.periodic_test:
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


def _year_items(book: Book, values: dict[int, Values], language: str) -> list[Computed]:
    if book.kind == Assessment.PRIMARY:
        items = []
        for term in (1, 2):
            level = values.get(term, {}).get((Kind.LEVEL.value, "end"), "")
            items.append(Computed("level", level, level, str(term)))
            if book.entry.periodic_test:
                test = values.get(term, {}).get((Kind.TEST.value, "end"), "")
                items.append(Computed("test", test, test, str(term)))
        return items
    if book.kind == Assessment.COMMENT:
        results = [comment_result_of(book.entry, values.get(t, {})) or "" for t in (1, 2)]
        year = comment_year_result(*results) if all(results) else results[1]
        shown = [display_value(r, "pass", language) for r in (*results, str(year or ""))]
        return [
            Computed(TERM_RESULT.id, results[0], shown[0], "1"),
            Computed(TERM_RESULT.id, results[1], shown[1], "2"),
            Computed("year_result", str(year or ""), shown[2], "year"),
        ]
    averages = [term_average_of(book.entry, values.get(t, {})) for t in (1, 2)]
    year_avg = year_average(*averages) if None not in averages else None
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


def build_year(*, book: Book, language: str) -> list[YearRow]:
    """The year view of a subject book: HK I, HK II and the year result per student."""
    people = enrollments(book.class_group)
    marks = book.marks([e.student_id for e in people]).exclude(kind=Kind.COMMENT)
    values = values_by_student(marks.filter(term__in=(1, 2)))
    return [
        YearRow(enrollment=e, items=_year_items(book, values.get(e.student_id, {}), language))
        for e in people
    ]


def student_values(book: Book, student_id: int) -> dict[int, Values]:
    """One student's cells of a book, by term (one query)."""
    return values_by_student(book.marks([student_id])).get(student_id, {})


def row_results(
    book: Book, term: int, row: dict[tuple[str, str], str], language: str
) -> dict[str, dict]:
    """The computed cells of one row, as JSON, from the row's values ((kind, slot) → value,
    as a save gives them back: no query)."""
    if not book.computed_columns():
        return {}
    return {k: c.as_json() for k, c in computed_cells(book, term, row, language).items()}


@dataclass(frozen=True)
class Changes:
    cursor: int
    cells: list[dict]
    rows: dict[str, dict]
    locked: bool


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
    if (since is None and since_time is None) or (since is not None and since >= cursor):
        # no cursor asked, or nothing written in the school since: no cell to look at
        return Changes(cursor=cursor, cells=[], rows={}, locked=lock is not None)
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
            rows[str(student_id)] = {
                k: c.as_json() for k, c in computed_cells(book, term, row, language).items()
            }
    return Changes(cursor=cursor, cells=cells, rows=rows, locked=lock is not None)


def comment_phrases(book: Book) -> list[dict[str, str]]:
    """The school's comment bank for this book: the subject's phrases and the general ones
    (homeroom book: general phrases only)."""
    phrases = CommentPhrase.objects.filter(school_id=book.class_group.year.school_id)
    subject = Q(subject__isnull=True)
    if book.subject_id is not None:
        subject |= Q(subject_id=book.subject_id)
    return [
        {"level": p.level, "text": p.text}
        for p in phrases.filter(subject).order_by("level", "text")
    ]
