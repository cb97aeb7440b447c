from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.signals import authenticator_removed
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.totp import has_totp
from schools.signers import needs_mfa

SESSION_KEY = "mfa_requirement_met"
# Paths a signer or exporter without MFA may still reach: the MFA set-up itself, logging out,
# switching language, password changes and static files.
EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/verify/")


class RequireMfaForSignersMiddleware:
    """With MFA_REQUIRED_FOR_SIGNERS on, a principal, vice principal or homeroom teacher (who
    sign) and a school admin (who exports, uploads and sets the upload address) is sent to the
    TOTP set-up page until they have activated it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED_FOR_SIGNERS
            and request.user.is_authenticated
            and not request.session.get(SESSION_KEY)
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            if needs_mfa(request.user) and not has_totp(request.user):
                return redirect("mfa_activate_totp")
            request.session[SESSION_KEY] = True
        return self.get_response(request)


@receiver(authenticator_removed)
def forget_mfa_check(sender: object, request: HttpRequest, **kwargs: object) -> None:
    request.session.pop(SESSION_KEY, None)
