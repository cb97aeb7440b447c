"""Which subjects each student of grades 10-12 studies, read once for a list: the electives
they chose and the subjects whose learning-topic clusters they take (schools.SubjectChoice,
docs/curriculum.md#subject-choices-in-grades-10-to-12). A student of grades 6-9, or a subject
that is not one of the nine electives, needs no choice: everyone studies it. A student with no
choice saved for the year studies every subject of the grade's curriculum, as before choices
were recorded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from schools import programme
from schools.models import ClassGroup, Enrollment, SubjectChoice


@dataclass(frozen=True)
class StudyPlan:
    #: student id → subject code → whether the subject's learning-topic clusters are taken
    chosen: Mapping[int, Mapping[str, bool]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, year_id: int, student_ids: Iterable[int] | QuerySet) -> StudyPlan:
        """The choices of these students in a year (one query)."""
        chosen: dict[int, dict[str, bool]] = {}
        rows = SubjectChoice.objects.filter(year_id=year_id, student_id__in=student_ids)
        for student_id, code, with_topics in rows.values_list(
            "student_id", "subject__code", "with_topics"
        ):
            chosen.setdefault(student_id, {})[code] = with_topics
        return cls(chosen)

    def takes(self, student_id: int, code: str) -> bool:
        """Whether a student of grades 10-12 studies the subject (every subject while the
        student has no choice saved)."""
        if student_id not in self.chosen:
            return True
        return programme.takes(code, self.electives(student_id))

    def with_topics(self, student_id: int, code: str) -> bool:
        return self.chosen.get(student_id, {}).get(code, False)

    def electives(self, student_id: int) -> set[str]:
        return {c for c in self.chosen.get(student_id, {}) if c in programme.ELECTIVES}

    def topics(self, student_id: int) -> set[str]:
        return {c for c, topics in self.chosen.get(student_id, {}).items() if topics}


def is_elective_book(class_group: ClassGroup, code: str) -> bool:
    """Whether a class's book of this subject lists only the students who chose it."""
    return programme.is_upper_secondary(class_group.grade) and code in programme.ELECTIVES


def takers(
    enrollments: QuerySet[Enrollment], *, year_id: int, subject_id: int
) -> QuerySet[Enrollment]:
    """The enrolments of the students who chose an elective, and of those with no choice saved
    for the year (a filter: no query of its own)."""
    year = SubjectChoice.objects.filter(year_id=year_id)
    chose = year.filter(subject_id=subject_id).values("student_id")
    return enrollments.filter(
        Q(student_id__in=chose) | ~Q(student_id__in=year.values("student_id"))
    )
