"""A *book*, one class's subject gradebook (a curriculum entry) or its homeroom book (no entry),
and the reading of its cells: its columns, the computed columns it shows, its marks by student
and term, its class list and the school's comment bank for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from gradebook.columns import Column, homeroom_columns, subject_columns
from gradebook.curriculum import regular_marks_per_term
from gradebook.models import CommentPhrase, Kind, Mark
from gradebook.rules.secondary import SubjectTermResult, subject_term_result
from gradebook.study_plan import is_elective_book, takers
from schools.models import (
    Assessment,
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    SubjectChoice,
    TeachingAssignment,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HOMEROOM = "homeroom"
# (kind, slot) → canonical value, for one student and one term
Values = dict[tuple[str, str], str]


@dataclass(frozen=True)
class ComputedColumn:
    id: str
    label: StrOrPromise
    title: StrOrPromise


TERM_AVERAGE = ComputedColumn(
    "term_average", gettext_lazy("Term avg."), gettext_lazy("Term average (ĐTBmhk)")
)
TERM_RESULT = ComputedColumn(
    "term_result", gettext_lazy("Result"), gettext_lazy("Term result of a comment subject")
)


@dataclass(frozen=True)
class Book:
    """One gradebook of a class: a subject's (`entry`) or the homeroom book (`entry` None)."""

    class_group: ClassGroup
    entry: CurriculumEntry | None = None
    #: Grades 10-12: the students who take the subject's learning-topic clusters
    #: (docs/regulations.md#learning-topic-clusters), read by :func:`with_study_plan`.
    topic_students: frozenset[int] = field(default=frozenset())
    #: The book as one student of `topic_students` studies it (:meth:`for_student`).
    with_topics: bool = False

    def for_student(self, student_id: int) -> Book:
        """The book with the regular marks of this student: the clusters' too if they take
        them."""
        if student_id in self.topic_students:
            return replace(self, with_topics=True)
        return replace(self, with_topics=False) if self.with_topics else self

    def student_regular_marks(self) -> int | None:
        """The regular marks per term of the student `for_student` chose (None: no subject)."""
        if self.entry is None:
            return None
        return regular_marks_per_term(self.entry, with_topics=self.with_topics)

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
        return subject_columns(
            self.entry, term, with_topics=self.with_topics or bool(self.topic_students)
        )

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

    def term_result(self, values: Values) -> SubjectTermResult:
        """A score- or comment-assessed subject's term result from one student's cells of the
        term, by the rule (gradebook.rules.subject_term)."""
        assert self.entry is not None  # a subject's book: the homeroom book has no term result
        return subject_term_result(
            values,
            regular_marks=regular_marks_per_term(self.entry, with_topics=self.with_topics),
            assessed_by=self.entry.assessment,
        )

    def teacher_names(self) -> list[str]:
        """Who writes the book, as its printed header names them: the subject's teachers of
        the class (co-teachers too), or the class's homeroom teacher (one query at most)."""
        if self.entry is None:
            teacher = self.class_group.homeroom_teacher
            return [teacher.display_name] if teacher is not None else []
        assignments = TeachingAssignment.objects.filter(
            class_group=self.class_group, subject_id=self.entry.subject_id
        ).select_related("teacher")
        return [a.teacher.display_name for a in assignments.order_by("teacher__full_name", "pk")]

    def level_sources(self, term: int) -> list[str]:
        """Cells whose value is the row's level, to pick comment-bank phrases (first non-empty)."""
        if self.kind == Assessment.PRIMARY:
            return [f"{term}:{Kind.LEVEL}:end", f"{term}:{Kind.LEVEL}:mid"]
        if self.kind == Assessment.COMMENT:
            return [TERM_RESULT.id]
        if self.kind == HOMEROOM and not self.primary:
            return [f"{term}:{Kind.CONDUCT}:"]
        return []


def enrollments(class_group: ClassGroup) -> list[Enrollment]:
    """The class list in roll-number order, students who left included (one query)."""
    return list(
        class_group.enrollments.select_related("student").order_by("roll_number", "student__pk")
    )


def with_study_plan(book: Book) -> Book:
    """A subject book of grades 10-12 with the students who take the subject's learning-topic
    clusters (one query); any other book as it is."""
    if book.entry is None or book.class_group.grade < 10:
        return book
    chosen = SubjectChoice.objects.filter(
        year_id=book.class_group.year_id, subject_id=book.entry.subject_id, with_topics=True
    )
    return replace(book, topic_students=frozenset(chosen.values_list("student_id", flat=True)))


def book_enrollments(book: Book) -> list[Enrollment]:
    """The book's class list (as :func:`enrollments`, one query): an elective's book of grades
    10-12 lists only the students who chose the subject
    (docs/curriculum.md#subject-choices-in-grades-10-to-12)."""
    if book.entry is None or not is_elective_book(book.class_group, book.entry.subject.code):
        return enrollments(book.class_group)
    found = takers(
        book.class_group.enrollments.all(),
        year_id=book.class_group.year_id,
        subject_id=book.entry.subject_id,
    )
    return list(found.select_related("student").order_by("roll_number", "student__pk"))


def values_by_student(marks: Iterable[Mark]) -> dict[int, dict[int, Values]]:
    """student id → term → (kind, slot) → value."""
    found: dict[int, dict[int, Values]] = {}
    for mark in marks:
        found.setdefault(mark.student_id, {}).setdefault(mark.term, {})[(mark.kind, mark.slot)] = (
            mark.value
        )
    return found


def student_values(book: Book, student_id: int) -> dict[int, Values]:
    """One student's cells of a book, by term (one query)."""
    return values_by_student(book.marks([student_id])).get(student_id, {})


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
