"""Signing settings: how each signer signs from now on (:func:`my_signing`: homeroom teachers of
a current-year class, principals and vice principals) and how the school seal does
(:func:`seal_signing`: the principal and the school admin).

Each page shows the active method and its certificate (with a warning before it expires), and
registers a new method once its certificate has been read and checked like a signature's
(``transcripts/forms_signing.py``); the older method is kept, inactive, for the record.
"""

from __future__ import annotations

import dataclasses
import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedRequest
from accounts.models import User
from schools.access import SEAL_ROLES, SchoolAccess, get_school
from schools.models import ClassGroup
from transcripts.credentials import (
    active_credential,
    method_description,
    register_credential,
    stored_certificates,
)
from transcripts.forms_signing import SigningMethodForm, account_field_name
from transcripts.models import CredentialKind, SignerRole, SigningCredential

#: A certificate expiring sooner than this is announced on the page.
EXPIRY_WARNING = datetime.timedelta(days=60)


@dataclasses.dataclass(frozen=True)
class CertificateFacts:
    """What the page says about the active certificate."""

    holder: str
    organisation: str
    issuer: str
    valid_until: datetime.datetime
    days_left: int
    expired: bool
    expiring: bool

    @classmethod
    def of(cls, certificate: x509.Certificate) -> CertificateFacts:
        now = datetime.datetime.now(datetime.UTC)
        valid_until = certificate.not_valid_after_utc
        return cls(
            holder=_attribute(certificate.subject, NameOID.COMMON_NAME),
            organisation=_attribute(certificate.subject, NameOID.ORGANIZATION_NAME),
            issuer=_attribute(certificate.issuer, NameOID.COMMON_NAME)
            or certificate.issuer.rfc4514_string(),
            valid_until=valid_until,
            days_left=max(0, (valid_until - now).days),
            expired=valid_until < now,
            expiring=now <= valid_until < now + EXPIRY_WARNING,
        )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def personal_role(access: SchoolAccess) -> str:
    """The role whose certificate check applies to this person at this school: "principal" for
    a principal or vice principal, "homeroom" for a homeroom teacher of a class of the current
    year; 403 for anyone else (they sign nothing here)."""
    if access.is_leader:
        return SignerRole.PRINCIPAL
    if (
        access.year is not None
        and ClassGroup.objects.filter(year=access.year, homeroom_teacher=access.user).exists()
    ):
        return SignerRole.HOMEROOM
    raise PermissionDenied


def _initial(credential: SigningCredential | None) -> dict | None:
    """The form starts from the active method: its kind and, for a remote service, the service
    and the account's plain fields (never a secret)."""
    if credential is None:
        return None
    initial: dict = {"method": credential.kind}
    config = credential.config or {}
    if credential.kind == CredentialKind.REMOTE and config.get("service"):
        service = str(config["service"])
        initial["service"] = service
        for name, value in config.items():
            if name != "service":
                initial[account_field_name(service, name)] = value
    return initial


@require_http_methods(["GET", "HEAD", "POST"])
def my_signing(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = get_school(request, code)
    role = personal_role(access)
    return _settings_page(request, access, holder=request.user, role=role, url_name="my_signing")


@require_http_methods(["GET", "HEAD", "POST"])
def seal_signing(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = get_school(request, code, roles=SEAL_ROLES)
    return _settings_page(
        request, access, holder=None, role=SignerRole.SEAL, url_name="seal_signing"
    )


def _settings_page(
    request: AuthenticatedRequest,
    access: SchoolAccess,
    *,
    holder: User | None,
    role: str,
    url_name: str,
) -> HttpResponse:
    credential = active_credential(school=access.school, user=holder)
    form = SigningMethodForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=_initial(credential),
        user=request.user,
        school=access.school,
        holder=holder,
        role=role,
    )
    if request.method == "POST" and form.is_valid():
        new = form.new_credential
        assert new is not None  # a valid form has checked its credential
        credential = register_credential(
            school=access.school,
            user=holder,
            kind=new.kind,
            created_by=request.user,
            certificates=new.certificates,
            pkcs12=new.pkcs12,
            config=new.config,
            secrets=new.secrets,
        )
        messages.success(request, _saved_message(credential, seal=holder is None))
        return redirect(f"hocba:{url_name}", access.school.code)
    return render(
        request,
        "transcripts/signing_settings.html",
        {
            "access": access,
            "form": form,
            "seal": holder is None,
            "credential": credential,
            "method": method_description(credential) if credential else "",
            "facts": _facts(credential),
            "companion_url": settings.SIGNING_COMPANION_URL,
            "may_seal": access.has_any(SEAL_ROLES),
        },
        status=400 if request.method == "POST" else 200,
    )


def _facts(credential: SigningCredential | None) -> CertificateFacts | None:
    certificates = stored_certificates(credential) if credential else []
    return CertificateFacts.of(certificates[0]) if certificates else None


def _saved_message(credential: SigningCredential, *, seal: bool) -> str:
    method = method_description(credential)
    if seal:
        return _("The school seal now signs with: %(method)s.") % {"method": method}
    return _("You now sign with: %(method)s.") % {"method": method}
