from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Vietnamese names are kept whole (họ và tên), not split."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    roles_version = models.PositiveIntegerField(default=0, editable=False)
    """Bumped (`roles_changed`) whenever the person's memberships, roles or homeroom classes
    change, from any path: a session's cached decision that its user needs no two-factor
    authentication holds only for the version it was made at (schools/middleware.py)."""
    language = models.CharField(_("language"), max_length=10, blank=True, editable=False)
    """The language last chosen in the navigation bar (recorded by accounts/locale.py), that of
    the person's notification e-mails; empty: settings.LANGUAGE_CODE."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Role(models.TextChoices):
    """A staff role in one school. Homeroom and subject teaching come from ClassGroup and
    TeachingAssignment on top of the TEACHER membership."""

    ADMIN = "admin", _("School admin")
    PRINCIPAL = "principal", _("Principal")
    VICE_PRINCIPAL = "vice_principal", _("Vice principal")
    TEACHER = "teacher", _("Teacher")


def roles_changed(user_ids: Iterable[int | None]) -> None:
    """Mark these people's roles as changed (one UPDATE): their next request decides again
    whether they must use two-factor authentication. Called by the signals and the bulk writes
    of Membership here and of the homeroom classes and current years in schools/models.py."""
    ids = {pk for pk in user_ids if pk is not None}
    if ids:
        User.objects.filter(pk__in=ids).update(roles_version=models.F("roles_version") + 1)


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True)

    # Bulk writes send no signals: these two mark the people whose roles they change
    # (bulk_update goes through update).
    def update(self, **kwargs: Any) -> int:
        users = set(self.values_list("user_id", flat=True))
        count = super().update(**kwargs)
        roles_changed(users | {kwargs.get("user_id"), getattr(kwargs.get("user"), "pk", None)})
        return count

    def bulk_create(
        self, objs: Iterable[Membership], *args: Any, **kwargs: Any
    ) -> list[Membership]:
        created = super().bulk_create(objs, *args, **kwargs)
        roles_changed(m.user_id for m in created)
        return created


class Membership(models.Model):
    """user × school × role. One person may hold several roles in several schools."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "school", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.school} · {self.get_role_display()}"


@receiver([post_save, post_delete], sender=Membership)
def membership_changed(sender: type[Membership], instance: Membership, **kwargs: object) -> None:
    roles_changed([instance.user_id])


class NotificationKind(models.TextChoices):
    """What a notification tells. Its text is written by the layer that raises it (the
    gradebook's and the transcripts' `notices.py`), handed to accounts/notifications.py when the
    app loads."""

    CORRECTION_APPROVED = "correction_approved", _("Correction approved")
    CORRECTION_REJECTED = "correction_rejected", _("Correction rejected")
    TRANSCRIPT_RETURNED = "transcript_returned", _("Transcript returned")
    TRANSCRIPT_REOPENED = "transcript_reopened", _("Transcript reopened")
    BOOK_LOCKED = "book_locked", _("Gradebooks locked")
    BOOK_UNLOCKED = "book_unlocked", _("Gradebooks unlocked")
    LOCK_DATE_SOON = "lock_date_soon", _("Lock date approaching")


NotificationText = Callable[[dict[str, Any]], str]
NOTIFICATION_TEXTS: dict[str, NotificationText] = {}
"""kind → its text from the parameters, in the active language: the apps above fill it when they
load (accounts/notifications.py: `TEXTS`), accounts importing none of them."""


class Notification(models.Model):
    """Something that happened to one person's work (the bell in the top bar, and an e-mail).

    Keeps the kind and its parameters (names, numbers, dates; never translated text): the text
    is written when it is read, in the reader's language of the moment — the page's, or the one
    the person chose for their e-mail — and a corrected translation reaches old notifications
    too. Names are kept as they were then, so a notification reads without a query and still
    reads after the class or subject is renamed or deleted."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    """A path of this site (through its access-checked views), never another site's."""
    key = models.CharField(max_length=100, blank=True)
    """Set for what must reach a person once (a lock date's reminder: "lock-date:<lock id>")."""
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_list"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=~models.Q(key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} · {self.kind} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def text(self) -> str:
        """The notification in the active language (its kind's name if no text is known)."""
        write = NOTIFICATION_TEXTS.get(self.kind)
        if write is None:
            return str(NotificationKind(self.kind).label)
        return write(self.params)
