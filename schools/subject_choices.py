"""Students' subject choices in grades 10-12 (schools.SubjectChoice): the electives and the
learning-topic clusters each student takes in a school year, checked against the programme's
rules (schools/programme.py, docs/curriculum.md#subject-choices-in-grades-10-to-12). A class's
choices are saved in one transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from schools import programme
from schools.models import ClassGroup, CurriculumEntry, SchoolYear, SubjectChoice

#: student id → (elective codes, codes of the subjects whose clusters are taken)
Choices = Mapping[int, tuple[Collection[str], Collection[str]]]


class ChoiceError(Exception):
    """The choices break the programme's rules: messages by student id (0: the whole list)."""

    def __init__(self, errors: dict[int, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class ChoiceSubjects:
    """The subjects a grade's choice screen shows, in the curriculum's order: (code, name)."""

    electives: list[tuple[str, str]]
    topics: list[tuple[str, str]]


def choice_subjects(year: SchoolYear, grade: int) -> ChoiceSubjects:
    """The electives and the subjects with clusters in the grade's curriculum (one query)."""
    entries = (
        CurriculumEntry.objects.filter(year=year, grade=grade)
        .select_related("subject")
        .order_by("subject__order", "subject__code")
    )
    subjects = [(e.subject.code, e.subject.name) for e in entries]
    return ChoiceSubjects(
        electives=[s for s in subjects if s[0] in programme.ELECTIVES],
        topics=[s for s in subjects if s[0] in programme.TOPIC_SUBJECTS],
    )


def class_choices(class_group: ClassGroup) -> dict[int, tuple[set[str], set[str]]]:
    """student id → (electives, topic-cluster subjects) of the class's students (one query)."""
    found: dict[int, tuple[set[str], set[str]]] = {}
    rows = SubjectChoice.objects.filter(
        year_id=class_group.year_id,
        student__enrollments__class_group=class_group,
    ).values_list("student_id", "subject__code", "with_topics")
    for student_id, code, with_topics in rows:
        electives, topics = found.setdefault(student_id, (set(), set()))
        if code in programme.ELECTIVES:
            electives.add(code)
        if with_topics:
            topics.add(code)
    return found


def choice_problems(
    electives: Collection[str], topics: Collection[str], offered: set[str]
) -> list[str]:
    """The programme's broken rules, and the chosen subjects missing from the grade's
    curriculum (`offered`: its subject codes)."""
    errors = programme.choice_errors(electives, topics)
    for code in sorted((set(electives) | set(topics)) - offered):
        if code in programme.ELECTIVES or code in programme.TOPIC_SUBJECTS:
            errors.append(
                _("This grade's curriculum has no subject %(subject)s this year.")
                % {"subject": code}
            )
    return errors


@transaction.atomic
def offered_codes(year: SchoolYear) -> dict[int, set[str]]:
    """grade → the subject codes of its curriculum in the year (one query)."""
    found: dict[int, set[str]] = {}
    for grade, code in CurriculumEntry.objects.filter(year=year).values_list(
        "grade", "subject__code"
    ):
        found.setdefault(grade, set()).add(code)
    return found


def set_choices(*, year: SchoolYear, grade: int, choices: Choices) -> int:
    """Replace the choices of these students (of one grade of 10-12) in the year; refused as a
    whole (ChoiceError) if any student's breaks a rule. Returns the number of students with a
    choice saved."""
    if not programme.is_upper_secondary(grade):
        raise ChoiceError({0: [_("Students choose subjects in grades 10 to 12 only.")]})
    subjects = dict(
        CurriculumEntry.objects.filter(year=year, grade=grade).values_list(
            "subject__code", "subject_id"
        )
    )
    errors = {
        student_id: found
        for student_id, (electives, topics) in choices.items()
        if (found := choice_problems(electives, topics, set(subjects)))
    }
    if errors:
        raise ChoiceError(errors)
    SubjectChoice.objects.filter(year=year, student_id__in=list(choices)).delete()
    rows = []
    for student_id, (electives, topics) in choices.items():
        for code in sorted(set(electives) | set(topics)):
            rows.append(
                SubjectChoice(
                    student_id=student_id,
                    year=year,
                    subject_id=subjects[code],
                    with_topics=code in topics,
                )
            )
    SubjectChoice.objects.bulk_create(rows)
    return sum(1 for electives, topics in choices.values() if electives or topics)


def set_class_choices(*, class_group: ClassGroup, choices: Choices) -> int:
    """:func:`set_choices` for students of the class (current or not); a student outside the
    class is refused."""
    enrolled = set(class_group.enrollments.values_list("student_id", flat=True))
    strangers = set(choices) - enrolled
    if strangers:
        raise ChoiceError(
            {0: [_("This student is not in class %(name)s.") % {"name": class_group.name}]}
        )
    return set_choices(year=class_group.year, grade=class_group.grade, choices=choices)


def parse_codes(text: str) -> list[str]:
    """Subject codes typed in one cell, separated by commas, semicolons or spaces
    ("VL, HH; SH TIN"), upper-cased; an asterisk after a code marks its clusters ("VL*")."""
    for separator in ",;":
        text = text.replace(separator, " ")
    return [code.upper() for code in text.split()]


def split_import_cell(text: str) -> tuple[set[str], set[str]]:
    """A roster import's "subject choices" cell → (electives, topic-cluster subjects): the
    electives by code, each code followed by ``*`` also taking that subject's clusters; a
    compulsory subject's clusters as its code with ``*`` ("VL*, HH*, SH, TIN, TOAN*")."""
    electives, topics = set(), set()
    for code in parse_codes(text):
        bare = code.rstrip("*")
        if code.endswith("*"):
            topics.add(bare)
        if bare not in programme.COMPULSORY:
            electives.add(bare)
    return electives, topics
