"""Which cells of a gradebook are still empty, and whether each book is open, submitted or
locked. Used by submission (refused while marks are missing) and by the completion dashboard.

Required for submission (decision): every assessment column of the term; the teacher's
comment is optional. A student who has left the class is not required.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gradebook.columns import Column, subject_columns
from gradebook.models import Kind, Lock, LockKind, Mark
from schools.models import ClassGroup, CurriculumEntry, Student

OPTIONAL_KINDS = frozenset({Kind.COMMENT})


def required_columns(entry: CurriculumEntry, term: int) -> list[Column]:
    return [c for c in subject_columns(entry, term) if c.kind not in OPTIONAL_KINDS]


@dataclass
class BookStatus:
    """One class × subject × term gradebook."""

    class_group: ClassGroup
    entry: CurriculumEntry
    term: int
    state: str  # "open" | "submitted" | "locked"
    required: int
    missing: list[tuple[Student, Column]] = field(default_factory=list)
    lock: Lock | None = None

    @property
    def filled(self) -> int:
        return self.required - len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing


def _lock_state(locks: list[Lock], *, class_group: ClassGroup, subject_id: int, term: int):
    covering = [
        lock
        for lock in locks
        if lock.term in (None, term)
        and lock.class_group_id in (None, class_group.pk)
        and lock.subject_id in (None, subject_id)
    ]
    submitted = next((lock for lock in covering if lock.kind == LockKind.SUBMITTED), None)
    locked = next((lock for lock in covering if lock.kind == LockKind.LOCKED), None)
    if locked:
        return "locked", locked
    if submitted:
        return "submitted", submitted
    return "open", None


def class_book_statuses(
    class_group: ClassGroup, term: int, *, entries: list[CurriculumEntry] | None = None
) -> list[BookStatus]:
    """The status of every subject gradebook of a class in a term, in a constant number of
    queries whatever the class size."""
    if entries is None:
        entries = list(
            CurriculumEntry.objects.filter(year_id=class_group.year_id, grade=class_group.grade)
            .select_related("subject")
            .order_by("subject__order", "subject__code")
        )
    students = [
        e.student
        for e in class_group.enrollments.filter(left_on__isnull=True)
        .select_related("student")
        .order_by("roll_number")
    ]
    filled = set(
        Mark.objects.filter(
            year_id=class_group.year_id,
            term=term,
            student__in=[s.pk for s in students],
            subject__isnull=False,
        )
        .exclude(value="")
        .values_list("student_id", "subject_id", "kind", "slot")
    )
    locks = list(Lock.objects.active().filter(year_id=class_group.year_id))
    statuses = []
    for entry in entries:
        columns = required_columns(entry, term)
        missing = [
            (student, column)
            for student in students
            for column in columns
            if (student.pk, entry.subject_id, column.kind, column.slot) not in filled
        ]
        state, lock = _lock_state(
            locks, class_group=class_group, subject_id=entry.subject_id, term=term
        )
        statuses.append(
            BookStatus(
                class_group=class_group,
                entry=entry,
                term=term,
                state=state,
                required=len(students) * len(columns),
                missing=missing,
                lock=lock,
            )
        )
    return statuses


def book_status(class_group: ClassGroup, entry: CurriculumEntry, term: int) -> BookStatus:
    return class_book_statuses(class_group, term, entries=[entry])[0]
