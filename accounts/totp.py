"""TOTP: whether a user has an authenticator (the one definition, for the MFA middleware and the
admin site), and its current code (for the demo and the tests)."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings

from accounts.models import User


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def current_totp_code(user: User, *, at: float | None = None) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    period = getattr(settings, "MFA_TOTP_PERIOD", 30)
    return format_hotp_value(
        hotp_value(secret, int(at if at is not None else time.time()) // period)
    )
