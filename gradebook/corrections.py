"""Correction requests: the teacher who writes a locked cell asks to change it, and the
leadership approves (the new value is written by `save_mark` with the source "correction",
locks bypassed) or rejects it (docs/regulations.md#records-corrections-and-locking: Hanoi
practice). Each service is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from gradebook import notices
from gradebook.columns import Column, canonical_value, homeroom_columns, subject_columns
from gradebook.messages import invalid_mark_message, short_datetime
from gradebook.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventSource,
    Mark,
    MarkEvent,
)
from gradebook.rules import InvalidMark
from gradebook.services import (
    GradebookError,
    InvalidValue,
    cell_lock,
    locked_cell,
    required_text,
    save_mark,
    settings_for,
)
from schools.access import SchoolAccess, require_leader
from schools.models import ClassGroup, CurriculumEntry, Enrollment, Student, TeachingAssignment


class CorrectionPending(GradebookError):
    """A correction of this cell is already waiting for a decision; `request` is that one."""

    code = "pending"

    def __init__(self, message: str, *, request: CorrectionRequest) -> None:
        super().__init__(message)
        self.request = request


# The cell -------------------------------------------------------------------------------------


def may_write_cell(user: User, *, class_group: ClassGroup, column: Column) -> bool:
    """The teacher who writes this cell when it is open: a teacher assigned to the class and
    subject for a subject cell; the class's homeroom teacher for a homeroom cell."""
    if column.subject_id is None:
        return class_group.homeroom_teacher_id == user.pk
    return TeachingAssignment.objects.filter(
        teacher_id=user.pk, class_group=class_group, subject_id=column.subject_id
    ).exists()


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


# Requests and decisions -----------------------------------------------------------------------


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
    reason = required_text(reason, _("Give the reason for the correction."))
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
                "when": short_datetime(pending.requested_at),
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
    require_leader(actor, request.school_id)
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
    require_leader(actor, request.school_id)
    note = required_text(note, _("Say why the correction is rejected."))
    request = _pending(request)
    return _decide(request, actor=actor, status=CorrectionStatus.REJECTED, note=note, event=None)


def _decide(
    request: CorrectionRequest, *, actor: User, status: str, note: str, event: MarkEvent | None
) -> CorrectionRequest:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.decision_note, request.event = (note or "").strip(), event
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "event"])
    notices.correction_decided(request, actor=actor)
    return request


# The dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardCorrections:
    """The dashboard's correction buttons for one user."""

    is_leader: bool
    is_teacher: bool
    pending: int  # pending requests this user sees (all of the school for the leadership)


def dashboard_corrections(access: SchoolAccess) -> DashboardCorrections:
    """What the dashboard offers about corrections: deciding them (the leadership), filing them
    (teachers), and how many wait that this user sees (one query, none for other roles)."""
    is_leader = access.is_leader
    is_teacher = access.has_any({Role.TEACHER})
    pending = CorrectionRequest.objects.filter(
        school=access.school, status=CorrectionStatus.PENDING
    )
    if not access.sees_whole_school:
        pending = pending.filter(
            Q(requested_by_id=access.user.pk) | Q(class_group__homeroom_teacher_id=access.user.pk)
        )
    count = pending.count() if (is_leader or is_teacher) else 0
    return DashboardCorrections(is_leader=is_leader, is_teacher=is_teacher, pending=count)
