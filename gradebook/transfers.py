"""Marks that travel with a student who changes school during the year (docs/exports.md,
"Transfers").

- :func:`year_marks`: the sending side. A student's marks of the year so far, each with the
  ledger event that set its current value, for the transfer package
  (:mod:`transcripts.packages.marks`).
- :func:`carry_marks`: the receiving side. Each mark written into the new class's gradebook
  through :func:`gradebook.services.save_mark`, with the source "transfer" and a reason that
  names where it came from, so the ledger attributes it. A cell that already holds a value is
  never overwritten; a subject the class does not study, a column its gradebook does not have, a
  locked book or a value the new book refuses is reported, mark by mark. One transaction;
  carrying the same marks again writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from gradebook.columns import Column, homeroom_columns, subject_columns
from gradebook.corrections import is_primary_class
from gradebook.grid.display import display_value
from gradebook.models import EventSource, Kind, Mark, MarkEvent
from gradebook.services import Conflict, GradebookError, cell_lock, lock_message, save_mark
from schools.models import ClassGroup, CurriculumEntry, School, SchoolYear, Student, Subject

#: The terms whose marks travel (year-level cells, such as a summer re-assessment, do not: a
#: student who left during the year has none).
TERMS = (1, 2)


@dataclasses.dataclass(frozen=True)
class TransferredMark:
    """One cell of the sending school's gradebook: the subject by its code (None for the
    homeroom book), the term, the kind and slot of the cell, its canonical value, and the
    sending school's ledger event that set that value (None for a value with no event)."""

    subject_code: str | None
    term: int
    kind: str
    slot: str
    value: str
    event_seq: int | None = None
    event_hash: str | None = None

    @property
    def cell(self) -> tuple[str, int, str, str]:
        return (self.subject_code or "", self.term, self.kind, self.slot)


def year_marks(*, school: School, year: SchoolYear, student: Student) -> list[TransferredMark]:
    """The student's non-empty marks of the year's terms, with the ledger event of each current
    value: one query."""
    latest = MarkEvent.objects.filter(mark=OuterRef("pk")).order_by("-seq")
    rows = (
        Mark.objects.filter(school=school, year=year, student=student, term__in=TERMS)
        .exclude(value="")
        .annotate(
            event_seq=Subquery(latest.values("seq")[:1]),
            event_hash=Subquery(latest.values("hash")[:1]),
        )
        .values_list("subject__code", "term", "kind", "slot", "value", "event_seq", "event_hash")
    )
    marks = [TransferredMark(*row) for row in rows]
    return sorted(marks, key=lambda mark: mark.cell)


class Outcome(models.TextChoices):
    CARRIED = "carried", gettext_lazy("Carried")
    #: The cell already holds this very value (carried before, or typed in): nothing to do.
    PRESENT = "present", gettext_lazy("Already in the gradebook")
    #: The cell holds another value: it is kept, the carried one is not written.
    CONFLICT = "conflict", gettext_lazy("Conflict: the gradebook holds another value, kept")
    #: The class does not study the subject.
    NOT_STUDIED = "not_studied", gettext_lazy("Not carried: the class does not study this subject")
    #: The class's gradebook has no such column (another number of regular marks, …).
    NO_COLUMN = "no_column", gettext_lazy("Not carried: the gradebook has no such column")
    #: The new gradebook refused it (locked, exempt, a value it does not take).
    REFUSED = "refused", gettext_lazy("Refused")


@dataclasses.dataclass(frozen=True)
class CarriedLine:
    mark: TransferredMark
    outcome: Outcome
    subject_name: str = ""
    column_label: str = ""
    current: str = ""  # the cell's value here (a conflict's kept value)
    message: str = ""  # translated: why it was refused
    shown: str = ""  # the carried value as the user reads it ("7,5", "Đ")
    shown_current: str = ""


@dataclasses.dataclass
class CarryReport:
    lines: list[CarriedLine]
    written: bool  # the carry was applied (False: a preview)

    def of(self, outcome: Outcome) -> list[CarriedLine]:
        return [line for line in self.lines if line.outcome == outcome]

    @property
    def counts(self) -> list[tuple[Outcome, int]]:
        """Each outcome that occurs, with how many marks had it."""
        found = [(outcome, len(self.of(outcome))) for outcome in Outcome]
        return [(outcome, n) for outcome, n in found if n]

    @property
    def carried(self) -> int:
        return len(self.of(Outcome.CARRIED))


@dataclasses.dataclass(frozen=True)
class _Target:
    column: Column | None
    subject_name: str
    outcome: Outcome | None = None  # why there is no column


class _Book:
    """The class's columns by (subject code, term, kind, slot), read once per subject."""

    def __init__(self, class_group: ClassGroup) -> None:
        self.class_group = class_group
        entries = CurriculumEntry.objects.filter(
            year_id=class_group.year_id, grade=class_group.grade
        ).select_related("subject")
        self.entries = {entry.subject.code: entry for entry in entries}
        school_id = class_group.year.school_id
        self.names = dict(Subject.objects.filter(school_id=school_id).values_list("code", "name"))
        self.language = get_language() or "vi"
        self.columns: dict[tuple[str, int], dict[tuple[str, str], Column]] = {}
        self.locks: dict[tuple[int | None, int], str] = {}

    def lock(self, column: Column) -> str:
        """Why the column's cells are locked ("" when open): one query per subject and term
        (a lock covers a class, subject and term, never a single column)."""
        key = (column.subject_id, column.term)
        if key not in self.locks:
            found = cell_lock(class_group=self.class_group, column=column)
            self.locks[key] = lock_message(found) if found is not None else ""
        return self.locks[key]

    def target(self, mark: TransferredMark) -> _Target:
        if mark.subject_code is None:
            name = _("Homeroom book")
        elif (entry := self.entries.get(mark.subject_code)) is None:
            name = self.names.get(mark.subject_code, mark.subject_code)
            return _Target(None, name, Outcome.NOT_STUDIED)
        else:
            name = entry.subject.name
        key = (mark.subject_code or "", mark.term)
        if key not in self.columns:
            if mark.subject_code is None:
                found = homeroom_columns(primary=is_primary_class(self.class_group), term=mark.term)
            else:
                found = subject_columns(
                    self.entries[mark.subject_code], mark.term, with_topics=True
                )
            self.columns[key] = {(column.kind, column.slot): column for column in found}
        column = self.columns[key].get((mark.kind, mark.slot))
        return _Target(column, name, None if column else Outcome.NO_COLUMN)


def _term(term: int) -> str:
    return _("Term I") if term == 1 else _("Term II")


def _label(column: Column) -> str:
    return f"{column.label} · {_term(column.term)}"


def _cell_label(mark: TransferredMark) -> str:
    """A cell the class's gradebook does not have, named by its kind."""
    kind = str(Kind(mark.kind).label) if mark.kind in Kind.values else mark.kind
    return " ".join(filter(None, [kind, mark.slot])) + f" · {_term(mark.term)}"


def carry_marks(
    *,
    actor: User,
    class_group: ClassGroup,
    student: Student,
    marks: Sequence[TransferredMark],
    reason: Callable[[TransferredMark], str],
    client_ip: str | None = None,
    apply: bool = True,
) -> CarryReport:
    """Carry ``marks`` into ``student``'s cells of ``class_group``'s gradebook (one
    transaction), or with ``apply`` False say what carrying would do (a lock shows as refused;
    a value the book does not take shows only when applied). ``reason(mark)`` is the ledger
    reason of a written mark. The caller has checked the actor may do it."""
    if student.school_id != class_group.year.school_id:
        raise ValueError("the student is not of the class's school")
    book = _Book(class_group)
    current = {
        (mark.subject.code if mark.subject else "", mark.term, mark.kind, mark.slot): mark
        for mark in Mark.objects.filter(
            year_id=class_group.year_id, student=student, term__in=TERMS
        ).select_related("subject")
    }
    lines: list[CarriedLine] = []
    with transaction.atomic():
        for mark in marks:
            lines.append(_carry_one(actor, book, student, mark, current, reason, client_ip, apply))
    return CarryReport(lines=lines, written=apply)


def _carry_one(
    actor: User,
    book: _Book,
    student: Student,
    mark: TransferredMark,
    current: dict[tuple[str, int, str, str], Mark],
    reason: Callable[[TransferredMark], str],
    client_ip: str | None,
    apply: bool,
) -> CarriedLine:
    target = book.target(mark)
    if target.column is None:
        assert target.outcome is not None
        return CarriedLine(mark, target.outcome, target.subject_name, _cell_label(mark),
                           shown=mark.value)  # fmt: skip
    column = target.column

    def shown(value: str) -> str:
        return display_value(value, column.value_type, book.language)

    here = current.get(mark.cell)
    described = {
        "subject_name": target.subject_name,
        "column_label": _label(column),
        "shown": shown(mark.value),
    }
    if here is not None and here.value:
        outcome = Outcome.PRESENT if here.value == mark.value else Outcome.CONFLICT
        return CarriedLine(mark, outcome, current=here.value, shown_current=shown(here.value),
                           **described)  # fmt: skip
    if not apply:
        if locked := book.lock(column):
            return CarriedLine(mark, Outcome.REFUSED, message=locked, **described)
        return CarriedLine(mark, Outcome.CARRIED, **described)
    try:
        save_mark(
            actor=actor, class_group=book.class_group, student=student, column=column,
            text=mark.value, base_version=here.version if here else 0,
            source=EventSource.TRANSFER, reason=reason(mark), client_ip=client_ip,
        )  # fmt: skip
    except Conflict as error:
        value = error.mark.value
        return CarriedLine(mark, Outcome.CONFLICT, current=value, shown_current=shown(value),
                           **described)  # fmt: skip
    except GradebookError as error:
        return CarriedLine(mark, Outcome.REFUSED, message=error.message, **described)
    return CarriedLine(mark, Outcome.CARRIED, **described)
