"""Authentication backends: Django's and allauth's, with the user of a session read by one
hand-written statement (accounts/hot.py). Every authenticated request runs it; through the
ORM its compilation cost more CPU than the rest of a session's handling (bench/RESULTS.md)."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from accounts import hot
from accounts.models import User


class SessionUserMixin(DjangoModelBackend):
    """Both backends are Django's ModelBackend (allauth's extends it), with this get_user."""

    def get_user(self, user_id: int) -> User | None:
        """`ModelBackend.get_user`: the active user with this id, or None."""
        user = hot.session_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(SessionUserMixin, DjangoModelBackend):
    pass


class AuthenticationBackend(SessionUserMixin, AllauthBackend):
    pass
