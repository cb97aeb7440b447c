"""Exemptions (miễn học): the homeroom teacher or the admin asks for one, the principal approves
or rejects it (docs/gradebook.md#exemptions). Only a secondary class (grades 6-12) takes one: the
learning level's "fewer than six score-assessed subjects" rule (gradebook.rules.options,
FewSubjectsPolicy) is what the results follow. A book under a lock (submitted or locked) takes
no new exemption: the marks already stand, the correction path changes them.
Each service is one transaction.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from gradebook.models import YEAR_TERM, Exemption, ExemptionScope, ExemptionState, Lock
from gradebook.services import GradebookError, required_text
from schools.access import PRINCIPAL_ROLES, SETUP_ROLES, holds_any
from schools.models import ClassGroup, CurriculumEntry, Enrollment, Student, Subject

TERMS = (1, 2, YEAR_TERM)


def may_request(user: User, class_group: ClassGroup) -> bool:
    """The class's homeroom teacher or the school's admin (one query for the admin)."""
    if class_group.homeroom_teacher_id == user.pk:
        return True
    return holds_any(user, class_group.year.school_id, SETUP_ROLES)


def _check_open(class_group: ClassGroup, subject_id: int, term: int) -> None:
    """Refused when a lock covers the subject's book in one of the terms."""
    for number in (1, 2) if term == YEAR_TERM else (term,):
        covering = Lock.objects.covering(
            year_id=class_group.year_id, term=number,
            class_group_id=class_group.pk, subject_id=subject_id,
        )  # fmt: skip
        if covering.exists():
            raise GradebookError(
                _(
                    "This gradebook is already submitted or locked for that term: an exemption "
                    "can no longer be recorded here. Ask for a correction of the marks instead."
                )
            )


@transaction.atomic
def request_exemption(
    *,
    actor: User,
    class_group: ClassGroup,
    student: Student,
    subject: Subject,
    term: int,
    reason: str,
    document: str,
    scope: str = ExemptionScope.WHOLE,
    part: str = "",
) -> Exemption:
    """File a request; refused in a primary class, for a subject the class does not study,
    a student not in the class, an unknown term, one already asked for or granted, a partial
    one that does not say which part, or a book under a lock."""
    if not may_request(actor, class_group):
        raise PermissionDenied
    if scope not in ExemptionScope.values:
        raise GradebookError(_("Choose the whole subject or a part of it."))
    part = part.strip() if scope == ExemptionScope.PARTIAL else ""
    if scope == ExemptionScope.PARTIAL and not part:
        raise GradebookError(
            _(
                "Say which part of the subject the student is exempted from, e.g. “the running "
                "exercises”."
            )
        )
    reason = required_text(reason, _("Give the reason for the exemption."))
    document = required_text(
        document, _("Give the reference of the document (decision, medical certificate).")
    )
    if class_group.grade <= 5:
        raise GradebookError(_("Exemptions are recorded for grades 6 to 12 only."))
    if term not in TERMS:
        raise GradebookError(_("Choose term I, term II or the whole year."))
    if not CurriculumEntry.objects.filter(
        year_id=class_group.year_id, grade=class_group.grade, subject=subject
    ).exists():
        raise GradebookError(_("This class does not study that subject."))
    if not Enrollment.objects.filter(student=student, class_group=class_group).exists():
        raise GradebookError(
            _("This student is not in class %(name)s.") % {"name": class_group.name}
        )
    _check_open(class_group, subject.pk, term)
    overlapping = (term, YEAR_TERM) if term != YEAR_TERM else TERMS
    if Exemption.objects.filter(
        year_id=class_group.year_id, student=student, subject=subject, term__in=overlapping,
        state__in=(ExemptionState.REQUESTED, ExemptionState.APPROVED),
    ).exists():  # fmt: skip
        raise GradebookError(
            _("An exemption of this student from this subject is already asked for or granted.")
        )
    return Exemption.objects.create(
        school_id=class_group.year.school_id,
        year_id=class_group.year_id,
        class_group=class_group,
        student=student,
        subject=subject,
        term=term,
        scope=scope,
        part=part,
        reason=reason,
        document=document,
        requested_by=actor,
    )


@transaction.atomic
def decide_exemption(*, actor: User, exemption: Exemption, approve: bool) -> Exemption:
    """The principal approves or rejects a waiting request; approving is refused once the book
    is under a lock (the correction path)."""
    if not holds_any(actor, exemption.school_id, PRINCIPAL_ROLES):
        raise PermissionDenied(_("Only the principal may approve or reject an exemption."))
    exemption = (
        Exemption.objects.select_for_update().select_related("class_group").get(pk=exemption.pk)
    )
    if exemption.state != ExemptionState.REQUESTED:
        raise GradebookError(_("This exemption has already been decided."))
    if approve:
        _check_open(exemption.class_group, exemption.subject_id, exemption.term)
    exemption.state = ExemptionState.APPROVED if approve else ExemptionState.REJECTED
    exemption.decided_by, exemption.decided_at = actor, timezone.now()
    exemption.save(update_fields=["state", "decided_by", "decided_at"])
    return exemption


@transaction.atomic
def withdraw_exemption(*, actor: User, exemption: Exemption, reason: str) -> Exemption:
    """The principal withdraws an approved exemption (the student studies the subject again),
    with the reason; refused once the book is under a lock (the correction path), as approving
    is. The cells are due again from then on."""
    if not holds_any(actor, exemption.school_id, PRINCIPAL_ROLES):
        raise PermissionDenied(_("Only the principal may withdraw an exemption."))
    reason = required_text(reason, _("Give the reason for withdrawing the exemption."))
    exemption = (
        Exemption.objects.select_for_update().select_related("class_group").get(pk=exemption.pk)
    )
    if exemption.state != ExemptionState.APPROVED:
        raise GradebookError(_("Only an approved exemption can be withdrawn."))
    _check_open(exemption.class_group, exemption.subject_id, exemption.term)
    exemption.state = ExemptionState.WITHDRAWN
    exemption.withdrawn_reason = reason
    exemption.decided_by, exemption.decided_at = actor, timezone.now()
    exemption.save(update_fields=["state", "withdrawn_reason", "decided_by", "decided_at"])
    return exemption
