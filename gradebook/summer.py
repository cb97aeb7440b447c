"""The summer after a secondary school year (Circular 22; docs/regulations.md#promotion,
docs/gradebook.md#summer): the re-assessment results of the students sent to re-assessment, for
exactly the subjects the rules list, and the conduct after summer training of the students sent
to training, by the homeroom teacher.

Who is due what is read from :mod:`gradebook.results` (the rules decide it); every write goes
through :func:`gradebook.services.save_mark` and the ledger. Locks: the year's locks (a term, or
"every term") do not close the summer's cells; only a lock on the year-level cells (the lock
panel's "Year-level cells", term 0) does — the summer's own deadline (:func:`summer_lock`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from gradebook.columns import Column
from gradebook.models import YEAR_TERM, EventSource, Kind, Lock, Mark, ReassessmentEntry
from gradebook.results import (
    ClassResults,
    SecondaryStudentResults,
    SubjectInfo,
    YearSubjectResult,
    class_results,
    is_primary,
)
from gradebook.results import labels as show
from gradebook.rules.codes import NextStep
from gradebook.rules.year_end import promotion
from gradebook.services import (
    GradebookError,
    InvalidValue,
    Locked,
    SaveResult,
    save_mark,
    settings_for,
)
from schools.models import ClassGroup, Student, TeachingAssignment

CONDUCT = "conduct"  # the field of the conduct-after-training cell, in place of a subject's pk

#: The rules, as the refusals quote them (docs/regulations.md#promotion).
REASSESSMENT_RULE = gettext_lazy(
    "Only a student whose year learning is CĐ (with year conduct at least Đ and at most 45 "
    "sessions absent) is re-assessed in the summer, and only in the subjects at CĐ or with a "
    "year average below 5.0."
)
TRAINING_RULE = gettext_lazy(
    "Only a student whose year conduct is CĐ (with at most 45 sessions absent) trains in the "
    "summer; the homeroom teacher then assesses conduct again."
)


def reassessment_column(subject: SubjectInfo) -> Column:
    """The re-assessment cell of a subject: a score, or Đ/CĐ for a comment-assessed one."""
    value_type = "score" if subject.scored else "pass"
    return Column(
        Kind.REASSESSMENT, "", _("Re-assessment"), value_type, YEAR_TERM, subject_id=subject.pk
    )


def conduct_column() -> Column:
    return Column(
        Kind.CONDUCT_REASSESSED, "", _("Conduct after summer training"), "level", YEAR_TERM
    )


def sent_to_training(result: SecondaryStudentResults) -> bool:
    """Whether the year's decision, before the summer, sent the student to summer conduct
    training (the rules' :func:`~gradebook.rules.year_end.promotion` on the year results)."""
    learning, conduct = result.learning_year, result.conduct.year
    if learning is None or conduct is None:
        return False
    first = promotion(conduct, learning.level, result.absences.total)
    return first.next_step is NextStep.SUMMER_TRAINING


def summer_lock(*, class_group: ClassGroup, subject_id: int | None) -> Lock | None:
    """The lock closing a summer cell now, if any: an active lock of the year-level cells
    (term 0) whose class and subject cover the cell (`CellScope`'s rule, restricted to locks
    set on term 0 itself: a lock of every term, set when the year closes, leaves the summer
    open)."""
    covering = Lock.objects.covering(
        year_id=class_group.year_id, term=YEAR_TERM,
        class_group_id=class_group.pk, subject_id=subject_id,
    )  # fmt: skip
    return covering.filter(term=YEAR_TERM).order_by("starts_at", "pk").first()


def summer_lock_message(lock: Lock) -> str:
    return _("The summer entries are locked: %(reason)s. The principal can release the lock.") % {
        "reason": lock.reason or _("no reason given")
    }


# --- who may write -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writers:
    """Who writes which summer cell of a class: the homeroom teacher (conduct, and the
    re-assessments when the school says so) and each subject's assigned teachers."""

    homeroom_teacher_id: int | None
    by_homeroom: bool
    subject_teachers: dict[int, frozenset[int]]  # subject pk → teacher pks

    @classmethod
    def of(cls, class_group: ClassGroup) -> Writers:
        """Two queries: the school's settings and the class's teaching assignments."""
        entered_by = settings_for(class_group.year.school_id).reassessment_entered_by
        teachers: dict[int, set[int]] = {}
        for subject_id, teacher_id in TeachingAssignment.objects.filter(
            class_group=class_group
        ).values_list("subject_id", "teacher_id"):
            teachers.setdefault(subject_id, set()).add(teacher_id)
        return cls(
            class_group.homeroom_teacher_id,
            entered_by == ReassessmentEntry.HOMEROOM_TEACHER,
            {pk: frozenset(ids) for pk, ids in teachers.items()},
        )

    def reassessment(self, user_id: int, subject_id: int) -> bool:
        if self.by_homeroom:
            return user_id == self.homeroom_teacher_id
        return user_id in self.subject_teachers.get(subject_id, frozenset())

    def conduct(self, user_id: int) -> bool:
        return user_id == self.homeroom_teacher_id

    def writes_any(self, user_id: int) -> bool:
        """Whether the user enters some summer result of the class (whoever is due)."""
        if user_id == self.homeroom_teacher_id:
            return True
        return not self.by_homeroom and any(
            user_id in ids for ids in self.subject_teachers.values()
        )

    def reassessment_refusal(self) -> str:
        if self.by_homeroom:
            return _("In this school the homeroom teacher enters the re-assessment results.")
        return _("Only a teacher of this subject in the class enters its re-assessment result.")


# --- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummerCell:
    """One summer cell of a student: a subject's re-assessment (``subject`` set) or conduct
    after training; ``year`` is the year result it follows, as shown."""

    student: Student
    column: Column
    subject: SubjectInfo | None
    year: str
    value: str
    version: int
    writable: bool
    display: str = ""  # the saved value as the page shows it to a reader ("6,5", "Đ")

    @property
    def name(self) -> str:
        """The form field: "c-<student pk>-<subject pk or conduct>"."""
        target = self.subject.pk if self.subject else CONDUCT
        return f"c-{self.student.pk}-{target}"

    @property
    def version_name(self) -> str:
        return "v-" + self.name.removeprefix("c-")


@dataclass(frozen=True)
class SummerRow:
    result: SecondaryStudentResults
    cells: tuple[SummerCell, ...]


@dataclass
class SummerSheet:
    """A class's summer: the students due re-assessment and those due training, each with
    their cells (only the cells of subjects the reader follows, for a subject teacher)."""

    class_group: ClassGroup
    results: ClassResults
    writer: bool = False  # the reader enters some of the class's summer results
    reassessment: list[SummerRow] = field(default_factory=list)
    training: list[SummerRow] = field(default_factory=list)

    @property
    def writable(self) -> bool:
        """Some cell shown is the reader's to type."""
        return any(c.writable for row in self.reassessment + self.training for c in row.cells)

    def cells(self) -> dict[str, SummerCell]:
        return {c.name: c for row in self.reassessment + self.training for c in row.cells}


def _year_text(subject: YearSubjectResult) -> str:
    return "—" if subject.value is None else show.value(subject.value)


def summer_sheet(
    class_group: ClassGroup, *, user: User, whole_class: bool, subject_ids: set[int]
) -> SummerSheet:
    """The class's summer for this reader: everything for `whole_class` (leadership, admin, the
    homeroom teacher), else the re-assessment cells of the subjects in `subject_ids` (those the
    reader teaches the class). A constant number of queries whatever the class's size."""
    results = class_results(class_group)
    writers = Writers.of(class_group)
    marks = {
        (m.student_id, m.subject_id, m.kind): m
        for m in Mark.objects.filter(
            year_id=class_group.year_id,
            term=YEAR_TERM,
            kind__in=(Kind.REASSESSMENT, Kind.CONDUCT_REASSESSED),
            student_id__in=class_group.enrollments.values("student_id"),
        )
    }
    sheet = SummerSheet(class_group, results, writers.writes_any(user.pk))
    if results.primary:
        return sheet

    def cell(student, column, subject, year: str, writable: bool, display: str) -> SummerCell:
        mark = marks.get((student.pk, column.subject_id, column.kind))
        value, version = (mark.value, mark.version) if mark else ("", 0)
        return SummerCell(student, column, subject, year, value, version, writable, display)

    user_id = user.pk
    for result in results.students:
        assert isinstance(result, SecondaryStudentResults)
        student = result.student
        due = [
            s for s in result.subjects
            if s.subject.code in result.summer_reassessment
            and (whole_class or s.subject.pk in subject_ids)
        ]  # fmt: skip
        if due:
            cells = tuple(
                cell(student, reassessment_column(s.subject), s.subject, _year_text(s),
                     writers.reassessment(user_id, s.subject.pk),
                     "" if s.reassessment is None else show.value(s.reassessment))
                for s in due
            )  # fmt: skip
            sheet.reassessment.append(SummerRow(result, cells))
        if whole_class and sent_to_training(result):
            year = show.abbreviation(result.conduct.year)
            after = result.conduct.reassessed
            shown = "" if after is None else show.abbreviation(after)
            conduct = cell(student, conduct_column(), None, year, writers.conduct(user_id), shown)
            sheet.training.append(SummerRow(result, (conduct,)))
    return sheet


# --- the write -----------------------------------------------------------------------------------


def _student_result(class_group: ClassGroup, student: Student) -> SecondaryStudentResults:
    results = class_results(class_group)
    found = next((s for s in results.students if s.student.pk == student.pk), None)
    if found is None:
        raise InvalidValue(_("This student is not in class %(name)s.") % {"name": class_group.name})
    assert isinstance(found, SecondaryStudentResults)
    return found


def _due_subject(result: SecondaryStudentResults, subject_id: int) -> YearSubjectResult:
    """The subject's year result if the rules send the student to re-assess it; the refusal,
    quoting the rule, otherwise."""
    name = result.student.full_name
    if not result.summer_reassessment:
        raise InvalidValue(
            _("%(name)s was not sent to summer re-assessment. %(rule)s")
            % {"name": name, "rule": REASSESSMENT_RULE}
        )
    found = next((s for s in result.subjects if s.subject.pk == subject_id), None)
    if found is None or found.subject.code not in result.summer_reassessment:
        due = ", ".join(
            s.subject.name for s in result.subjects if s.subject.code in result.summer_reassessment
        )
        raise InvalidValue(
            _("%(name)s is re-assessed only in: %(due)s. %(rule)s")
            % {"name": name, "due": due, "rule": REASSESSMENT_RULE}
        )
    return found


@transaction.atomic
def save_summer_mark(
    *,
    actor: User,
    class_group: ClassGroup,
    student: Student,
    subject_id: int | None,
    text: str,
    base_version: int | None,
    client_ip: str | None = None,
    source: str = EventSource.ROW_FORM,
) -> SaveResult:
    """Enter one summer result: a subject's re-assessment (`subject_id`) or the conduct after
    summer training (`subject_id` None), through `save_mark` and the ledger.

    Refused (GradebookError, quoting the rule) for a primary class, a student the rules did
    not send to re-assessment or training, a subject they do not list; PermissionDenied for
    someone the school's setting does not name; Locked under the summer's own lock
    (`summer_lock`) or, through `save_mark`, behind a transcript already confirmed or final
    (the principal's reasoned reopen first).
    """
    if is_primary(class_group):
        raise GradebookError(_("Primary classes have no summer re-assessment (Circular 27)."))
    result = _student_result(class_group, student)
    writers = Writers.of(class_group)
    if subject_id is None:
        if not sent_to_training(result):
            raise InvalidValue(
                _("%(name)s was not sent to summer conduct training. %(rule)s")
                % {"name": student.full_name, "rule": TRAINING_RULE}
            )
        if not writers.conduct(actor.pk):
            raise PermissionDenied(
                _("Only the homeroom teacher assesses conduct after summer training.")
            )
        column = conduct_column()
    else:
        subject = _due_subject(result, subject_id).subject
        if not writers.reassessment(actor.pk, subject_id):
            raise PermissionDenied(writers.reassessment_refusal())
        column = reassessment_column(subject)
    if lock := summer_lock(class_group=class_group, subject_id=subject_id):
        raise Locked(summer_lock_message(lock))
    return save_mark(
        actor=actor,
        class_group=class_group,
        student=student,
        column=column,
        text=text,
        base_version=base_version,
        source=source,
        client_ip=client_ip,
        bypass_locks=True,  # the summer's own lock rule was applied just above
        enrolled=True,
    )
