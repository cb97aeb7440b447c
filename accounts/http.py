"""The request type of a view behind the login (Django's LoginRequiredMiddleware): its user is a
:class:`~accounts.models.User`, never AnonymousUser. Views and access getters annotate their
request with it, so the type checker knows ``request.user`` is a User."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
