"""Locks and corrections.

A subject teacher submits a finished gradebook (a submission lock); the school leadership locks
and unlocks classes, subjects, terms or the whole school from a date; a locked cell changes only
through a correction request that the leadership approves, applied by `save_mark` with the
source "correction" (docs/regulations.md#records-corrections-and-locking: Hanoi practice).
Each service is one transaction.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership, Role, User
from gradebook.columns import Column, canonical_value, homeroom_columns, subject_columns
from gradebook.completeness import BookStatus, book_status
from gradebook.messages import invalid_mark_message
from gradebook.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventSource,
    Lock,
    LockKind,
    Mark,
    MarkEvent,
)
from gradebook.rules import InvalidMark
from gradebook.services import (
    GradebookError,
    InvalidValue,
    cell_lock,
    locked_cell,
    save_mark,
    settings_for,
)
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

LEADERSHIP_ROLES = frozenset({Role.PRINCIPAL, Role.VICE_PRINCIPAL})
"""Lock, unlock and decide corrections: the principal or a vice principal (the delegate)."""
SCHOOL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""A lock date takes effect at midnight, Vietnamese time, whatever the server's zone."""
LOCK_TERMS = (None, 0, 1, 2)  # None = every term; 0 = the year-level cells
MISSING_STUDENTS_NAMED = 3


class CorrectionPending(GradebookError):
    """A correction of this cell is already waiting for a decision; `request` is that one."""

    code = "pending"

    def __init__(self, message: str, *, request: CorrectionRequest) -> None:
        super().__init__(message)
        self.request = request


# Who may do what --------------------------------------------------------------------------------


def is_leader(user: User, school: School) -> bool:
    """Whether the user is the principal or a vice principal of the school (active membership)."""
    return (
        Membership.objects.active()
        .filter(user_id=user.pk, school=school, role__in=LEADERSHIP_ROLES)
        .exists()
    )


def may_write_cell(user: User, *, class_group: ClassGroup, column: Column) -> bool:
    """The teacher who writes this cell when it is open: a teacher assigned to the class and
    subject for a subject cell; the class's homeroom teacher for a homeroom cell."""
    if column.subject_id is None:
        return class_group.homeroom_teacher_id == user.pk
    return TeachingAssignment.objects.filter(
        teacher_id=user.pk, class_group=class_group, subject_id=column.subject_id
    ).exists()


def _require_leadership(actor: User, school: School) -> None:
    if not is_leader(actor, school):
        raise PermissionDenied(_("Only the principal or a vice principal may do this."))


def _required_text(text: str, message: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise GradebookError(message)
    return cleaned


def _when(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


# Words -----------------------------------------------------------------------------------------


def term_name(term: int | None) -> str:
    """ "Term I", "Term II", "year-end" (term 0) or "the whole year" (None)."""
    names = {None: _("the whole year"), 0: _("year-end"), 1: _("Term I"), 2: _("Term II")}
    return str(names[term])


def lock_scope(lock: Lock) -> str:
    """What a lock covers, in words: "6A1 · Toán · Term I", "all classes · … · Term II"."""
    classes = lock.class_group.name if lock.class_group_id else _("all classes")
    subjects = lock.subject.name if lock.subject_id else _("all subjects and homeroom books")
    return " · ".join((classes, subjects, term_name(lock.term)))


# Cells -----------------------------------------------------------------------------------------


def is_primary_class(class_group: ClassGroup) -> bool:
    """Grades 1–5 follow Circular 27 (qualities and competencies in the homeroom book)."""
    return class_group.grade <= 5


def find_column(class_group: ClassGroup, subject_id: int | None, key: str) -> Column | None:
    """The column of this class's subject (None = homeroom) gradebook with this key
    ("<term>:<kind>:<slot>"), or None if the book has no such column."""
    try:
        term = int(key.split(":", 1)[0])
    except ValueError:
        return None
    if term not in (1, 2):
        return None
    if subject_id is None:
        columns = homeroom_columns(primary=is_primary_class(class_group), term=term)
    else:
        entry = CurriculumEntry.objects.filter(
            year_id=class_group.year_id, grade=class_group.grade, subject_id=subject_id
        ).first()
        columns = subject_columns(entry, term) if entry else []
    return next((column for column in columns if column.key == key), None)


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
    return Lock.objects.create(
        school_id=class_group.year.school_id,
        year_id=class_group.year_id,
        term=term,
        class_group=class_group,
        subject_id=entry.subject_id,
        kind=LockKind.SUBMITTED,
        created_by=actor,
    )


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
    _require_leadership(actor, school)
    reason = _required_text(reason, _("Give the reason for the lock."))
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
            % {"when": _when(same.starts_at), "reason": same.reason}
        )
    return Lock.objects.create(
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
    _require_leadership(actor, school)
    reason = _required_text(reason, _("Give the reason for the lock date."))
    _check_scope(school=school, year=year, term=term, class_group=None, subject=None)
    now = timezone.now()
    replaced_note = _("Replaced by the lock date %(date)s.") % {
        "date": date_format(date, "SHORT_DATE_FORMAT")
    }
    for earlier in scheduled_school_locks(year=year, term=term).select_for_update():
        earlier.released_at, earlier.released_by = now, actor
        earlier.release_reason = replaced_note
        earlier.save(update_fields=["released_at", "released_by", "release_reason"])
    return Lock.objects.create(
        school=school,
        year=year,
        term=term,
        kind=LockKind.LOCKED,
        reason=reason,
        starts_at=lock_date_start(date),
        created_by=actor,
    )


@transaction.atomic
def unlock(*, actor: User, lock: Lock, reason: str) -> Lock:
    """The leadership releases a lock with a reason; releasing a submission lock reopens the
    teacher's gradebook. The lock stays in the list as released (who, when, why)."""
    _require_leadership(actor, lock.school)
    reason = _required_text(reason, _("Give the reason for unlocking."))
    current = Lock.objects.select_for_update().get(pk=lock.pk)
    if current.released_at is not None:
        raise GradebookError(_("This lock was already released."))
    current.released_at, current.released_by = timezone.now(), actor
    current.release_reason = reason
    current.save(update_fields=["released_at", "released_by", "release_reason"])
    return current


# Corrections ----------------------------------------------------------------------------------


@transaction.atomic
def request_correction(
    *,
    actor: User,
    class_group: ClassGroup,
    student: Student,
    column: Column,
    new_text: str,
    reason: str,
) -> CorrectionRequest:
    """The teacher who writes a cell asks to change it after it was locked. The new value is
    checked as the grid checks it; one request per cell may wait for a decision at a time."""
    if not may_write_cell(actor, class_group=class_group, column=column):
        raise PermissionDenied(_("Only the teacher who writes this cell may ask to correct it."))
    if not Enrollment.objects.filter(student=student, class_group=class_group).exists():
        raise InvalidValue(_("This student is not in class %(name)s.") % {"name": class_group})
    if cell_lock(class_group=class_group, column=column) is None:
        raise GradebookError(_("This cell is not locked: change it directly in the gradebook."))
    max_length = settings_for(class_group.year.school_id).comment_max_length
    try:
        value = canonical_value(new_text, value_type=column.value_type, max_length=max_length)
    except InvalidMark as error:
        raise InvalidValue(invalid_mark_message(error)) from error
    reason = _required_text(reason, _("Give the reason for the correction."))
    mark = locked_cell(class_group=class_group, student=student, column=column)
    pending = mark.corrections.filter(status=CorrectionStatus.PENDING).first()
    if pending is not None:
        raise CorrectionPending(
            _(
                "A correction of this cell (to “%(value)s”) filed by %(name)s on %(when)s is "
                "still waiting for a decision. Wait for it before filing another."
            )
            % {
                "value": pending.new_value,
                "name": pending.requested_by.display_name,
                "when": _when(pending.requested_at),
            },
            request=pending,
        )
    if value == mark.value:
        raise GradebookError(_("The cell already holds this value."))
    return CorrectionRequest.objects.create(
        school_id=class_group.year.school_id,
        mark=mark,
        class_group=class_group,
        old_value=mark.value,
        new_value=value,
        reason=reason,
        requested_by=actor,
    )


def _pending(request: CorrectionRequest) -> CorrectionRequest:
    current = (
        CorrectionRequest.objects.select_for_update()
        .select_related("class_group__year", "requested_by")
        .get(pk=request.pk)
    )
    if current.status != CorrectionStatus.PENDING:
        raise GradebookError(_("This request has already been decided."))
    return current


@transaction.atomic
def approve_correction(
    *,
    actor: User,
    request: CorrectionRequest,
    note: str = "",
    client_ip: str | None = None,
) -> CorrectionRequest:
    """The leadership approves a correction: the new value is written through `save_mark`
    (locks bypassed, source "correction", the teacher's reason and the approver in the ledger).
    Refused if the cell changed since the request was filed, or if the approver filed it."""
    _require_leadership(actor, request.school)
    request = _pending(request)
    if request.requested_by_id == actor.pk:
        raise GradebookError(
            _("You filed this request: another member of the leadership must approve it.")
        )
    mark = Mark.objects.select_for_update().select_related("student").get(pk=request.mark_id)
    if mark.value != request.old_value:
        raise GradebookError(
            _(
                "The cell changed after this request was filed (it now holds “%(value)s”). "
                "Reject this request and ask the teacher to file a new one."
            )
            % {"value": mark.value}
        )
    column = find_column(
        request.class_group, mark.subject_id, f"{mark.term}:{mark.kind}:{mark.slot}"
    )
    if column is None:
        raise GradebookError(_("This cell is no longer part of the class's gradebook."))
    reason = _("%(reason)s (approved by %(name)s)") % {
        "reason": request.reason,
        "name": actor.display_name,
    }
    result = save_mark(
        actor=actor,
        class_group=request.class_group,
        student=mark.student,
        column=column,
        text=request.new_value,
        base_version=None,
        source=EventSource.CORRECTION,
        reason=reason,
        client_ip=client_ip,
        bypass_locks=True,
    )
    approved = CorrectionStatus.APPROVED
    return _decide(request, actor=actor, status=approved, note=note, event=result.event)


@transaction.atomic
def reject_correction(*, actor: User, request: CorrectionRequest, note: str) -> CorrectionRequest:
    """The leadership rejects a correction, saying why; the cell keeps its value."""
    _require_leadership(actor, request.school)
    note = _required_text(note, _("Say why the correction is rejected."))
    request = _pending(request)
    return _decide(request, actor=actor, status=CorrectionStatus.REJECTED, note=note, event=None)


def _decide(
    request: CorrectionRequest, *, actor: User, status: str, note: str, event: MarkEvent | None
) -> CorrectionRequest:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.decision_note, request.event = (note or "").strip(), event
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "event"])
    return request
