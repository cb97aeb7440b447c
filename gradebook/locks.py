"""Locks: a subject teacher submits a finished gradebook (a submission lock); the school
leadership locks and unlocks classes, subjects, terms or the whole school from a date
(docs/regulations.md#records-corrections-and-locking: Hanoi practice). A locked cell changes
only through a correction (gradebook/corrections.py). Which lock covers a cell is
`CellScope`'s rule (gradebook/models.py). Each service is one transaction; the grid's lock
panel is read here too.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from gradebook import notices
from gradebook.checkpoints import make_checkpoint
from gradebook.completeness import BookStatus, book_status, status_of
from gradebook.grid.page import Cell, Grid
from gradebook.messages import scope_words, short_datetime
from gradebook.messages import term_name as term_name  # the lock pages' word, kept here too
from gradebook.models import SCHOOL_TIMEZONE, CellScope, CheckpointReason, Lock, LockKind
from gradebook.services import GradebookError, required_text
from gradebook.study_plan import StudyPlan
from schools.access import SchoolAccess, require_leader
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

LOCK_TERMS = (None, 0, 1, 2)  # None = every term; 0 = the year-level cells
MISSING_STUDENTS_NAMED = 3


# Words -----------------------------------------------------------------------------------------


def lock_scope(lock: Lock) -> str:
    """What a lock covers, in words: "6A1 · Toán · Term I", "all classes · … · Term II"."""
    class_group, subject = lock.class_group, lock.subject  # None (no query) when unset
    return scope_words(
        class_group.name if class_group is not None else None,
        subject.name if subject is not None else None,
        lock.term,
    )


# Submission -----------------------------------------------------------------------------------


def missing_marks_message(status: BookStatus) -> str:
    """ "5 marks are missing: Nguyễn Văn Bình (TX2, CK); … and 2 more students." """
    labels: dict[Student, list[str]] = {}
    for student, column in status.missing:
        labels.setdefault(student, []).append(str(column.label))
    named = list(labels.items())[:MISSING_STUDENTS_NAMED]
    listing = "; ".join(f"{student.full_name} ({', '.join(cols)})" for student, cols in named)
    others = len(labels) - len(named)
    if others:
        listing += " " + ngettext(
            "and %(count)d more student", "and %(count)d more students", others
        ) % {"count": others}
    count = len(status.missing)
    return ngettext(
        "This gradebook cannot be submitted: %(count)d mark is missing: %(list)s.",
        "This gradebook cannot be submitted: %(count)d marks are missing: %(list)s.",
        count,
    ) % {"count": count, "list": listing}


def submission_of(*, class_group: ClassGroup, subject_id: int, term: int) -> Lock | None:
    """The book's unreleased submission lock, if the teacher has submitted it."""
    return Lock.objects.filter(
        kind=LockKind.SUBMITTED,
        class_group=class_group,
        subject_id=subject_id,
        term=term,
        released_at__isnull=True,
    ).first()


@transaction.atomic
def submit_gradebook(
    *, actor: User, class_group: ClassGroup, entry: CurriculumEntry, term: int
) -> Lock:
    """The assigned teacher hands in a complete term gradebook: from now on it is locked for
    everyone. Refused (GradebookError) while marks are missing; submitting again is a no-op
    that returns the existing submission."""
    if term not in (1, 2):
        raise GradebookError(_("Only a term's gradebook (term I or II) can be submitted."))
    if (entry.year_id, entry.grade) != (class_group.year_id, class_group.grade):
        raise GradebookError(_("This subject is not in the class's curriculum."))
    if not TeachingAssignment.objects.filter(
        teacher_id=actor.pk, class_group=class_group, subject_id=entry.subject_id
    ).exists():
        raise PermissionDenied(_("Only a teacher of this class and subject may submit it."))
    ClassGroup.objects.select_for_update().filter(pk=class_group.pk).first()  # one at a time
    if existing := submission_of(class_group=class_group, subject_id=entry.subject_id, term=term):
        return existing
    status = book_status(class_group, entry, term)
    if not status.complete:
        raise GradebookError(missing_marks_message(status))
    submission = Lock.objects.create(
        school_id=class_group.year.school_id,
        year_id=class_group.year_id,
        term=term,
        class_group=class_group,
        subject_id=entry.subject_id,
        kind=LockKind.SUBMITTED,
        created_by=actor,
    )
    make_checkpoint(class_group.year.school, reason=CheckpointReason.LOCK)
    return submission


# Leadership locks -----------------------------------------------------------------------------


def _check_scope(
    *,
    school: School,
    year: SchoolYear,
    term: int | None,
    class_group: ClassGroup | None,
    subject: Subject | None,
) -> None:
    if year.school_id != school.pk:
        raise GradebookError(_("This school year belongs to another school."))
    if term not in LOCK_TERMS:
        raise GradebookError(_("Choose term I, term II or the whole year."))
    if class_group is not None and class_group.year_id != year.pk:
        raise GradebookError(
            _("Class %(name)s is not in this school year.") % {"name": class_group}
        )
    if subject is not None and subject.school_id != school.pk:
        raise GradebookError(_("This subject belongs to another school."))


@transaction.atomic
def lock(
    *,
    actor: User,
    school: School,
    year: SchoolYear,
    term: int | None = None,
    class_group: ClassGroup | None = None,
    subject: Subject | None = None,
    reason: str,
    starts_at: datetime.datetime | None = None,
) -> Lock:
    """The leadership locks a class, a subject, a term, or any combination (None = all of
    them), now or from `starts_at`. A subject lock (subject given) leaves homeroom cells open;
    a lock without subject covers every subject and the homeroom book."""
    require_leader(actor, school.pk)
    reason = required_text(reason, _("Give the reason for the lock."))
    _check_scope(school=school, year=year, term=term, class_group=class_group, subject=subject)
    starts_at = starts_at or timezone.now()
    same = Lock.objects.filter(
        year=year,
        term=term,
        class_group=class_group,
        subject=subject,
        kind=LockKind.LOCKED,
        released_at__isnull=True,
        starts_at__lte=starts_at,
    ).first()
    if same is not None:
        raise GradebookError(
            _("This is already locked (since %(when)s: %(reason)s).")
            % {"when": short_datetime(same.starts_at), "reason": same.reason}
        )
    new = Lock.objects.create(
        school=school,
        year=year,
        term=term,
        class_group=class_group,
        subject=subject,
        kind=LockKind.LOCKED,
        reason=reason,
        starts_at=starts_at,
        created_by=actor,
    )
    make_checkpoint(school, reason=CheckpointReason.LOCK)
    notices.lock_changed(new, actor=actor, unlocked=False)
    return new


def lock_date_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day`, Vietnamese time."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=SCHOOL_TIMEZONE)


def scheduled_school_locks(*, year: SchoolYear, term: int | None):
    """The school-wide locks of a term that are set but not yet in force (the lock dates)."""
    return Lock.objects.filter(
        year=year,
        term=term,
        class_group__isnull=True,
        subject__isnull=True,
        kind=LockKind.LOCKED,
        released_at__isnull=True,
        starts_at__gt=timezone.now(),
    )


@transaction.atomic
def set_lock_date(
    *,
    actor: User,
    school: School,
    year: SchoolYear,
    term: int | None,
    date: datetime.date,
    reason: str,
) -> Lock:
    """Lock every gradebook of the school for `term` from midnight of `date` (Vietnamese time).
    A lock date set earlier for the same term and not yet in force is replaced (released with a
    note); a lock already in force stays until someone unlocks it."""
    require_leader(actor, school.pk)
    reason = required_text(reason, _("Give the reason for the lock date."))
    _check_scope(school=school, year=year, term=term, class_group=None, subject=None)
    now = timezone.now()
    replaced_note = _("Replaced by the lock date %(date)s.") % {
        "date": date_format(date, "SHORT_DATE_FORMAT")
    }
    for earlier in scheduled_school_locks(year=year, term=term).select_for_update():
        earlier.released_at, earlier.released_by = now, actor
        earlier.release_reason = replaced_note
        earlier.save(update_fields=["released_at", "released_by", "release_reason"])
    new = Lock.objects.create(
        school=school,
        year=year,
        term=term,
        kind=LockKind.LOCKED,
        reason=reason,
        starts_at=lock_date_start(date),
        created_by=actor,
    )
    notices.lock_changed(new, actor=actor, unlocked=False)
    return new


@transaction.atomic
def unlock(*, actor: User, lock: Lock, reason: str) -> Lock:
    """The leadership releases a lock with a reason; releasing a submission lock reopens the
    teacher's gradebook. The lock stays in the list as released (who, when, why)."""
    require_leader(actor, lock.school_id)
    reason = required_text(reason, _("Give the reason for unlocking."))
    current = (
        Lock.objects.select_for_update(of=("self",))
        .select_related("school", "class_group", "subject")
        .get(pk=lock.pk)
    )
    if current.released_at is not None:
        raise GradebookError(_("This lock was already released."))
    current.released_at, current.released_by = timezone.now(), actor
    current.release_reason = reason
    current.save(update_fields=["released_at", "released_by", "release_reason"])
    notices.lock_changed(current, actor=actor, unlocked=True)
    return current


# The grid's lock panel ------------------------------------------------------------------------


@dataclass(frozen=True)
class LockPanel:
    """Everything the grid's lock panel shows for one class × subject × term gradebook."""

    status: BookStatus
    locks: tuple[Lock, ...] = ()  # in force and covering this book
    scheduled: Lock | None = None  # the next lock (date) not yet in force
    can_submit: bool = False
    is_leader: bool = False

    @property
    def is_open(self) -> bool:
        return not self.locks

    @property
    def percent(self) -> int:
        required = self.status.required
        return round(100 * self.status.filled / required) if required else 100

    def is_own(self, lock: Lock) -> bool:
        """A lock of exactly this book (its submission, or a lock of this class × subject ×
        term), which the panel may release; broader locks are managed on the locks page."""
        status = self.status
        return (lock.class_group_id, lock.subject_id, lock.term) == (
            status.class_group.pk,
            status.entry.subject_id,
            status.term,
        )

    @property
    def own_locks(self) -> list[Lock]:
        return [lock for lock in self.locks if self.is_own(lock)]

    @property
    def other_locks(self) -> list[Lock]:
        return [lock for lock in self.locks if not self.is_own(lock)]


def lock_panel(
    access: SchoolAccess,
    class_group: ClassGroup,
    entry: CurriculumEntry,
    term: int,
    *,
    grid: Grid | None = None,
) -> LockPanel | None:
    """The book's state, its locks and what this user may do about them, in a few queries
    whatever the class size (two when given the page's `grid`, whose students and cells it
    counts). None for anything but a term's gradebook (a year view has nothing to submit)."""
    if term not in (1, 2):
        return None
    cell = CellScope(
        year_id=class_group.year_id, class_group_id=class_group.pk,
        subject_id=entry.subject_id, term=term,
    )  # fmt: skip
    covering = Lock.objects.active().filter(cell.locks())  # in force; `scheduled`: not yet
    scheduled = (
        Lock.objects.filter(cell.locks(), released_at__isnull=True, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )
    locks = list(
        covering.select_related("created_by", "class_group", "subject").order_by(
            "kind", "starts_at"
        )
    )
    if grid is None:  # a page without the grid: read the book
        status = book_status(class_group, entry, term)
        teaches = TeachingAssignment.objects.filter(
            teacher_id=access.user.pk, class_group=class_group, subject_id=entry.subject_id
        ).exists()
    else:
        status = _grid_status(grid, locks)
        teaches = grid.writer  # a subject book's writer is its assigned teacher
    submitted = any(lock.kind == LockKind.SUBMITTED and lock.term == term for lock in locks)
    return LockPanel(
        status=status,
        locks=tuple(locks),
        scheduled=scheduled,
        can_submit=teaches and not submitted,
        is_leader=access.is_leader,
    )


def _grid_status(grid: Grid, locks: list[Lock]) -> BookStatus:
    """The book's status from the rows the grid has read (current students, their cells) and
    the locks covering it (the year's other locks do not cover it)."""
    book = grid.book
    entry = book.entry
    assert entry is not None  # a subject book: the homeroom book has no lock panel
    subject_id = entry.subject_id
    rows = [row for row in grid.rows if row.enrollment.left_on is None]
    filled = {
        (row.enrollment.student_id, subject_id, item.column.kind, item.column.slot)
        for row in rows
        for item in row.items
        if isinstance(item, Cell) and item.value != ""
    }
    students = [row.enrollment.student for row in rows]
    exempt = {
        (row.enrollment.student_id, grid.term, subject_id)
        for row in rows
        if any(isinstance(item, Cell) and item.exempt for item in row.items)
    }
    code = entry.subject.code  # the grid's rows are the students who study the subject
    plan = StudyPlan({s.pk: {code: s.pk in book.topic_students} for s in students})
    return status_of(book.class_group, entry, grid.term, students, filled, locks, exempt, plan)
