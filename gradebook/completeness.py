"""Which cells of a gradebook are still empty, and whether each book is open, submitted or
locked. Used by submission (refused while marks are missing) and by the completion dashboard.

Required for submission (decision): every assessment column of the term; the teacher's
comment is optional. A student who has left the class is not required. In a homeroom book
(decision, issue 17: what its teacher is reminded of) the levels are required — the conduct in
grades 6–12, every quality and competency in grades 1–5 — and absences and the comment are not
(an empty absence count is none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from gradebook.columns import Column, homeroom_columns, subject_columns
from gradebook.models import CellScope, Exemption, Kind, Lock, LockKind, Mark
from gradebook.study_plan import StudyPlan
from schools.models import ClassGroup, CurriculumEntry, Enrollment, SchoolYear, Student
from schools.programme import is_upper_secondary

OPTIONAL_KINDS = frozenset({Kind.COMMENT})
HOMEROOM_REQUIRED_KINDS = frozenset({Kind.CONDUCT, Kind.QUALITY, Kind.COMPETENCY})


def required_columns(
    entry: CurriculumEntry, term: int, *, with_topics: bool = False
) -> list[Column]:
    columns = subject_columns(entry, term, with_topics=with_topics)
    return [c for c in columns if c.kind not in OPTIONAL_KINDS]


def required_homeroom_columns(class_group: ClassGroup, term: int) -> list[Column]:
    columns = homeroom_columns(primary=class_group.grade <= 5, term=term)
    return [c for c in columns if c.kind in HOMEROOM_REQUIRED_KINDS]


def missing_homeroom_cells(
    class_group: ClassGroup,
    term: int,
    students: list[Student],
    filled: set[tuple[int, int | None, str, str]],
) -> tuple[int, int]:
    """(missing, required) cells of a homeroom book from what has been read: its current
    students and the filled cells (student id, None, kind, slot) of the term."""
    columns = required_homeroom_columns(class_group, term)
    missing = sum(
        (student.pk, None, column.kind, column.slot) not in filled
        for student in students
        for column in columns
    )
    return missing, len(students) * len(columns)


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


def lock_state(
    locks: list[Lock], *, class_group: ClassGroup, subject_id: int | None, term: int
) -> tuple[str, Lock | None]:
    """("locked" | "submitted" | "open", the lock) for one book, from the year's active locks
    (those that cover it: `CellScope`)."""
    cell = CellScope(
        year_id=class_group.year_id, class_group_id=class_group.pk,
        subject_id=subject_id, term=term,
    )  # fmt: skip
    covering = [lock for lock in locks if cell.covers(lock)]
    locked = next((lock for lock in covering if lock.kind == LockKind.LOCKED), None)
    if locked:
        return "locked", locked
    submitted = next((lock for lock in covering if lock.kind == LockKind.SUBMITTED), None)
    if submitted:
        return "submitted", submitted
    return "open", None


def status_of(
    class_group: ClassGroup,
    entry: CurriculumEntry,
    term: int,
    students: list[Student],
    filled: AbstractSet[tuple[int, int | None, str, str]],
    locks: list[Lock],
    exempt: AbstractSet[tuple[int, int, int]] = frozenset(),
    plan: StudyPlan | None = None,
) -> BookStatus:
    """One book's status from what has been read: its current students, the filled cells
    (student id, subject id, kind, slot), the active locks of its year and the approved
    exemptions (student id, term, subject id: `Exemption.objects.approved_cells`), whose
    cells are not required. In grades 10-12 (``plan``: the students' subject choices) only the
    students who study the subject are counted, each with the regular marks of the
    learning-topic clusters if they take them (docs/regulations.md#learning-topic-clusters)."""
    students = [s for s in students if (s.pk, term, entry.subject_id) not in exempt]
    upper = plan is not None and is_upper_secondary(class_group.grade)
    code = entry.subject.code if upper else ""
    if upper:
        assert plan is not None
        students = [s for s in students if plan.takes(s.pk, code)]
    plain = required_columns(entry, term)
    clusters = required_columns(entry, term, with_topics=True) if upper else plain
    columns_of = {
        s.pk: clusters if upper and plan and plan.with_topics(s.pk, code) else plain
        for s in students
    }
    missing = [
        (student, column)
        for student in students
        for column in columns_of[student.pk]
        if (student.pk, entry.subject_id, column.kind, column.slot) not in filled
    ]
    state, lock = lock_state(locks, class_group=class_group, subject_id=entry.subject_id, term=term)
    return BookStatus(
        class_group=class_group,
        entry=entry,
        term=term,
        state=state,
        required=sum(len(columns_of[s.pk]) for s in students),
        missing=missing,
        lock=lock,
    )


def school_book_statuses(
    year: SchoolYear,
    classes: Iterable[ClassGroup],
    term: int,
    *,
    entries_by_grade: dict[int, list[CurriculumEntry]] | None = None,
) -> dict[int, list[BookStatus]]:
    """class id → the status of each of its subject gradebooks, in six queries for any number
    of classes and students."""
    classes = list(classes)
    if entries_by_grade is None:
        entries_by_grade = defaultdict(list)
        for entry in (
            CurriculumEntry.objects.filter(year=year)
            .select_related("subject")
            .order_by("subject__order", "subject__code")
        ):
            entries_by_grade[entry.grade].append(entry)
    current = Enrollment.objects.filter(class_group__in=classes, left_on__isnull=True)
    students: dict[int, list[Student]] = defaultdict(list)
    for enrollment in current.select_related("student").order_by("roll_number"):
        students[enrollment.class_group_id].append(enrollment.student)
    subjects = {entry.subject_id for entries in entries_by_grade.values() for entry in entries}
    filled = set(
        Mark.objects.filter(
            year=year,
            term=term,
            subject_id__in=subjects,  # one book's status reads that book's marks only
            student__in=current.values("student_id"),
        )
        .exclude(value="")
        .values_list("student_id", "subject_id", "kind", "slot")
    )
    locks = list(Lock.objects.active().filter(year=year))
    exempt = Exemption.objects.approved_cells(
        year_id=year.pk, student_ids=current.values("student_id")
    )
    plan = None
    if any(is_upper_secondary(c.grade) for c in classes):  # one query: the subject choices
        plan = StudyPlan.load(year_id=year.pk, student_ids=current.values("student_id"))
    return {
        c.pk: [
            status_of(c, entry, term, students[c.pk], filled, locks, exempt, plan)
            for entry in entries_by_grade.get(c.grade, [])
        ]
        for c in classes
    }


def class_book_statuses(
    class_group: ClassGroup, term: int, *, entries: list[CurriculumEntry] | None = None
) -> list[BookStatus]:
    """The status of every subject gradebook of one class in a term (or of `entries` only)."""
    by_grade = {class_group.grade: entries} if entries is not None else None
    statuses = school_book_statuses(
        class_group.year, [class_group], term, entries_by_grade=by_grade
    )
    return statuses[class_group.pk]


def book_status(class_group: ClassGroup, entry: CurriculumEntry, term: int) -> BookStatus:
    return class_book_statuses(class_group, term, entries=[entry])[0]


def homeroom_book_statuses(
    year: SchoolYear, classes: Iterable[ClassGroup], term: int
) -> dict[int, tuple[str, int]]:
    """class id → (state, missing cells) of its homeroom book in a term, in three queries for any
    number of classes."""
    classes = list(classes)
    current = Enrollment.objects.filter(class_group__in=classes, left_on__isnull=True)
    students: dict[int, list[Student]] = defaultdict(list)
    for enrollment in current.select_related("student"):
        students[enrollment.class_group_id].append(enrollment.student)
    filled = set(
        Mark.objects.filter(
            year=year, term=term, subject__isnull=True, student__in=current.values("student_id")
        )
        .exclude(value="")
        .values_list("student_id", "subject_id", "kind", "slot")
    )
    locks = list(Lock.objects.active().filter(year=year))
    return {
        c.pk: (
            lock_state(locks, class_group=c, subject_id=None, term=term)[0],
            missing_homeroom_cells(c, term, students[c.pk], filled)[0],
        )
        for c in classes
    }
