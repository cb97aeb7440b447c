"""Who signs transcripts or sends them out, and so must use two-factor authentication."""

from __future__ import annotations

from accounts.models import Membership, User
from schools.access import EXPORT_ROLES, LEADERSHIP_ROLES
from schools.models import ClassGroup


def is_signer(user: User) -> bool:
    """Principals, vice principals and homeroom teachers of a current-year class sign."""
    if Membership.objects.active().filter(user=user, role__in=LEADERSHIP_ROLES).exists():
        return True
    return ClassGroup.objects.filter(homeroom_teacher=user, year__is_current=True).exists()


def is_exporter(user: User) -> bool:
    """Admins and principals export the school's transcripts, upload them to the Department and
    set where they go (`EXPORT_ROLES`)."""
    return Membership.objects.active().filter(user=user, role__in=EXPORT_ROLES).exists()


def needs_mfa(user: User) -> bool:
    """Signers and exporters must use two-factor authentication."""
    return is_signer(user) or is_exporter(user)
