"""Who signs transcripts or sends them out, and so must use two-factor authentication."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from accounts.models import Membership, User
from schools.access import EXPORT_ROLES, LEADERSHIP_ROLES
from schools.models import ClassGroup, DepartmentMembership

MFA_ROLES = LEADERSHIP_ROLES | EXPORT_ROLES
"""Signers by their role (the principal, vice principals) and exporters (admins, the
principal: `EXPORT_ROLES`, who export the school's transcripts, upload them to the Department
and set where they go)."""


def needs_mfa(user: User) -> bool:
    """Signers and exporters must use two-factor authentication: an active membership in
    `MFA_ROLES` anywhere, the homeroom of a current year's class (homeroom teachers sign
    their class's transcripts), or an active Department membership (a Department reads and
    exports every school's progress in its province). One query."""
    by_role = Membership.objects.active().filter(user=OuterRef("pk"), role__in=MFA_ROLES)
    homeroom = ClassGroup.objects.filter(homeroom_teacher=OuterRef("pk"), year__is_current=True)
    department = DepartmentMembership.objects.filter(user=OuterRef("pk"), is_active=True)
    return (
        User.objects.filter(pk=user.pk)
        .filter(Exists(by_role) | Exists(homeroom) | Exists(department))
        .exists()
    )
