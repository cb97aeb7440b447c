"""Invitations to join a school's staff, for accounts the school did not create.

An account without any membership of the school (another school's, an operator's) belongs to its
owner: the school's admin may not attach it, nor learn whether it exists or whose it is
(docs/security.md). The admin's "add an existing account" form therefore invites it, and answers
the same whether or not the account exists; the person sees the invitation after logging in and
accepts (their memberships are created) or declines it. Each function is one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role, User
from schools.models import Invitation, School

VALID_FOR = datetime.timedelta(days=14)
"""How long an invitation may be accepted."""


def pending_invitations(user: User) -> list[Invitation]:
    """The invitations this person may still answer, newest first (one query)."""
    return list(Invitation.objects.pending().filter(invited_user=user).select_related("school"))


@transaction.atomic
def invite_to_staff(
    *, school: School, inviter: User | None, user: User, roles: Collection[str]
) -> None:
    """Invite `user` to the school's staff with `roles` (`inviter`: the admin who asked, None
    for an import run without one). An invitation still open for them here is renewed (these
    roles, a new expiry) rather than doubled."""
    Invitation.objects.update_or_create(
        school=school,
        invited_user=user,
        accepted_at=None,
        declined_at=None,
        defaults={
            "inviter": inviter,
            "roles": sorted(set(roles) & set(Role.values)),
            "expires_at": timezone.now() + VALID_FOR,
        },
    )


def _lock_pending(*, invitation: Invitation, user: User) -> Invitation:
    """The invitation, locked, if it is this person's and still open; a ValidationError once it
    is answered or expired. (The view has fetched it among the person's own: another's is a
    404.)"""
    if invitation.invited_user_id != user.pk:
        raise ValidationError(_("This invitation is not yours."))
    locked = Invitation.objects.select_for_update().pending().filter(pk=invitation.pk).first()
    if locked is None:
        raise ValidationError(_("This invitation has expired or has already been answered."))
    return locked


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: User) -> Invitation:
    """The person joins the school with the invited roles (their active memberships there).
    Their roles changed, so their next request decides again whether they need two-factor
    authentication (`roles_changed`, accounts/models.py)."""
    locked = _lock_pending(invitation=invitation, user=user)
    for role in locked.roles:
        Membership.objects.update_or_create(
            user=user, school_id=locked.school_id, role=role, defaults={"is_active": True}
        )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    return locked


@transaction.atomic
def decline_invitation(*, invitation: Invitation, user: User) -> Invitation:
    locked = _lock_pending(invitation=invitation, user=user)
    locked.declined_at = timezone.now()
    locked.save(update_fields=["declined_at"])
    return locked
