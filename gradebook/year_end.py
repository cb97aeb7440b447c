"""The principal's year-end decision lists: each student's outcome of the year (promoted,
summer re-assessment, summer conduct training, retained; for primary, the grade completed or
not), read from :mod:`gradebook.results` with the rules' explanation. No rule is computed
here: the outcome is the one the results give, after re-assessment marks and conduct after
summer training when those exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gradebook.results import ClassResults, PrimaryStudentResults, SecondaryStudentResults
from gradebook.rules.codes import NextStep
from gradebook.summary import Cell, completion_cell, explained, promotion_cell
from schools.models import ClassGroup, Student

PROMOTED = "promoted"
NOT_COMPLETED = "not_completed"  # primary: CHT, the principal decides after the summer
INCOMPLETE = "incomplete"  # marks are missing: no decision yet
ALL = "all"

#: outcome → (filter label, printed list title)
OUTCOMES: dict[str, tuple[Promise, Promise]] = {
    PROMOTED: (_("Promoted"), _("List of students promoted")),
    NextStep.REASSESSMENT.value: (
        _("Summer re-assessment"),
        _("List of students due for summer re-assessment"),
    ),
    NextStep.SUMMER_TRAINING.value: (
        _("Summer conduct training"),
        _("List of students due for summer conduct training"),
    ),
    NextStep.RETAINED.value: (_("Retained"), _("List of students retained")),
    NOT_COMPLETED: (_("Not completed"), _("List of pupils who have not completed the grade")),
    INCOMPLETE: (_("Result not known yet"), _("List of students whose result is not known yet")),
}
ALL_TITLE = _("Year-end decisions")


@dataclass(frozen=True)
class DecisionRow:
    roll_number: int
    student: Student
    outcome: str
    decision: Cell  # the outcome as the class summary writes it, the explanation as its title


@dataclass(frozen=True)
class ClassDecisions:
    class_group: ClassGroup
    rows: list[DecisionRow]


def outcome_of(student: SecondaryStudentResults | PrimaryStudentResults) -> str:
    """The list a student belongs on, from the results (after the summer when done)."""
    if isinstance(student, PrimaryStudentResults):
        if student.completed_grade is None:
            return INCOMPLETE
        return PROMOTED if student.completed_grade else NOT_COMPLETED
    decision = student.promotion
    if decision is None:
        return INCOMPLETE
    if decision.promoted or decision.next_step is None:
        return PROMOTED
    return decision.next_step.value


def _decision(student: SecondaryStudentResults | PrimaryStudentResults, grade: int) -> Cell:
    if isinstance(student, PrimaryStudentResults):
        cell = completion_cell(student)
        return Cell(cell.text, explained(student.year_result_explanation), cell.css)
    return promotion_cell(student, grade)


def year_end_lists(classes: list[ClassResults], outcome: str = ALL) -> list[ClassDecisions]:
    """The classes' students on the list ``outcome`` (every student for ``ALL``), by class in
    roll order; classes with nobody on the list are left out."""
    found = []
    for results in classes:
        grade = results.class_group.grade
        rows = [
            DecisionRow(s.roll_number, s.student, outcome_of(s), _decision(s, grade))
            for s in results.students
        ]
        rows = [row for row in rows if outcome in (ALL, row.outcome)]
        if rows:
            found.append(ClassDecisions(results.class_group, rows))
    return found
