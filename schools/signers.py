"""Who signs transcripts, and whether they have the MFA that signing requires."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from accounts.models import Membership, User
from schools.access import LEADERSHIP_ROLES
from schools.models import ClassGroup


def is_signer(user: User) -> bool:
    """Principals, vice principals and homeroom teachers of a current-year class sign."""
    if Membership.objects.active().filter(user=user, role__in=LEADERSHIP_ROLES).exists():
        return True
    return ClassGroup.objects.filter(homeroom_teacher=user, year__is_current=True).exists()


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
