from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.signals import authenticator_removed
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.totp import has_totp
from schools.signers import needs_mfa

SESSION_KEY = "mfa_checked_at_roles_version"
"""The user's `roles_version` when this session last passed the check. Any change of the
person's memberships, roles or homeroom classes bumps it (accounts/models.py, schools/models.py),
so the next request decides again; comparing costs no query (the session's user row is loaded
anyway)."""
# Paths a signer or exporter without MFA may still reach: the MFA set-up itself, logging out,
# switching language, password changes and static files.
EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/verify/")


class RequireMfaForSignersMiddleware:
    """With MFA_REQUIRED_FOR_SIGNERS on, a principal, vice principal or homeroom teacher (who
    sign) and a school admin (who exports, uploads and sets the upload address) is sent to the
    TOTP set-up page until they have activated it. The decision is kept in the session for the
    user's current `roles_version`: a role given mid-session counts from the next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED_FOR_SIGNERS
            and request.user.is_authenticated
            and request.session.get(SESSION_KEY) != request.user.roles_version
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            # The version read with the user, before deciding: a change committed meanwhile
            # leaves the stored one behind, and the next request decides again.
            version = request.user.roles_version
            if needs_mfa(request.user) and not has_totp(request.user):
                return redirect("mfa_activate_totp")
            request.session[SESSION_KEY] = version
        return self.get_response(request)


@receiver(authenticator_removed)
def forget_mfa_check(sender: object, request: HttpRequest, **kwargs: object) -> None:
    request.session.pop(SESSION_KEY, None)
