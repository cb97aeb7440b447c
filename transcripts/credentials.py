"""Signing credentials: how each signer (and the school seal) reaches their key, and opening it.

A :class:`~transcripts.models.SigningCredential` says which method a person (or, with no person,
the school seal) signs with — a PKCS#12 file, a token or HSM attached to the server, a remote
signing service, or a USB token on their own computer through the signing companion — and holds
what is needed besides the secret typed at signing time. :func:`open_source` turns it into a
:class:`~transcripts.signing.sources.SignatureSource` for a batch; :func:`open_signer` into a
:class:`~transcripts.signing.signers.Signer` for what must be signed at once by the server
(a package manifest's seal).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from schools.models import School
from transcripts.models import CredentialKind, SigningCredential
from transcripts.signing import services
from transcripts.signing.signers import (
    Pkcs11Signer,
    Pkcs12Signer,
    Signer,
    SigningError,
    decrypt_at_rest,
    encrypt_at_rest,
)
from transcripts.signing.sources import (
    Certificates,
    CompanionSource,
    SignatureSource,
    SignerSource,
    certificates_pem,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def active_credential(*, school: School, user: User | None) -> SigningCredential | None:
    """The newest active credential of ``user`` at ``school`` (None: the school seal's)."""
    return (
        SigningCredential.objects.filter(school=school, user=user, is_active=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def stored_certificates(credential: SigningCredential) -> list[x509.Certificate]:
    if not credential.certificate_pem.strip():
        return []
    return x509.load_pem_x509_certificates(credential.certificate_pem.encode())


def _remote_service(credential: SigningCredential) -> services.RemoteService | None:
    try:
        return services.service(str(credential.config.get("service", "")))
    except SigningError:
        return None


def needs_secret(credential: SigningCredential) -> bool:
    """Whether the signer types something (a password, a PIN) on the confirmation page."""
    if credential.kind in (CredentialKind.PKCS12, CredentialKind.PKCS11):
        return True
    if credential.kind == CredentialKind.REMOTE:
        service = _remote_service(credential)
        return service is None or service.signing_secret_label is not None
    return False


def secret_label(credential: SigningCredential) -> StrOrPromise:
    """What the confirmation page asks for, in words the signer knows."""
    if credential.kind == CredentialKind.PKCS12:
        return _("Your certificate file's password")
    if credential.kind == CredentialKind.PKCS11:
        return _("The token's PIN")
    service = _remote_service(credential)
    return (service and service.signing_secret_label) or _("PIN")


def method_description(credential: SigningCredential) -> str:
    """How the signer will sign, for the confirmation page."""
    if credential.kind == CredentialKind.REMOTE:
        service = _remote_service(credential)
        name = service.label if service else credential.config.get("service", "")
        return _("Remote signing service: %(service)s") % {"service": name}
    return str(CredentialKind(credential.kind).label)


def _pkcs11_library(path: str) -> str:
    """Only the libraries the deployment lists may be loaded into the server process."""
    allowed = list(getattr(settings, "SIGNING_PKCS11_LIBRARIES", []))
    if path not in allowed:
        raise SigningError(
            _("The PKCS#11 library %(path)s is not allowed on this server.") % {"path": path}
        )
    return path


def open_source(*, credential: SigningCredential, secret: str) -> SignatureSource:
    """The signature source of ``credential``; ``secret`` is what the signer typed when signing
    (a password or PIN; nothing for a phone confirmation or the companion). Raises SigningError
    with a message for the user."""
    if not credential.is_active:
        raise SigningError(_("This signing credential is no longer active."))
    if credential.kind in (CredentialKind.PKCS12, CredentialKind.PKCS11):
        return SignerSource(open_signer(credential=credential, secret=secret))
    if credential.kind == CredentialKind.REMOTE:
        config = dict(credential.config or {})
        service = services.service(str(config.pop("service", "")))
        return service.source(account={**config, **account_secrets(credential)}, secret=secret)
    if credential.kind == CredentialKind.COMPANION:
        certificates = stored_certificates(credential)
        if not certificates:
            raise SigningError(_("No certificate is registered for this USB token."))
        return CompanionSource(
            Certificates(certificates[0], certificates[1:]),
            timeout_seconds=settings.SIGNING_COMPANION_SECONDS,
        )
    raise SigningError(f"Unknown credential kind {credential.kind!r}")


def open_signer(*, credential: SigningCredential, secret: str) -> Signer:
    """A signer the server uses directly (PKCS#12 file, PKCS#11 token or HSM on the server, or a
    remote service that signs at once given the secret); SigningError for a method that needs
    the signer's own computer or phone."""
    if not credential.is_active:
        raise SigningError(_("This signing credential is no longer active."))
    config = credential.config or {}
    if credential.kind == CredentialKind.PKCS12:
        return Pkcs12Signer.from_bytes(decrypt_at_rest(bytes(credential.pkcs12_encrypted)), secret)
    if credential.kind == CredentialKind.PKCS11:
        certificates = stored_certificates(credential)
        return Pkcs11Signer(
            _pkcs11_library(config["lib"]),
            config["token"],
            secret,
            config["key"],
            certificate=certificates[0] if certificates else None,
            chain=certificates[1:],
        )
    if credential.kind == CredentialKind.REMOTE:
        source = open_source(credential=credential, secret=secret)
        if isinstance(source, SignerSource):
            return source.signer
    raise SigningError(
        _(
            "This certificate is used from the signer's own computer or phone, so the server "
            "cannot sign with it on its own."
        )
    )


def account_secrets(credential: SigningCredential) -> dict[str, str]:
    blob = bytes(credential.secrets_encrypted or b"")
    return json.loads(decrypt_at_rest(blob)) if blob else {}


def seal_account_secrets(secrets: dict[str, str]) -> bytes:
    return encrypt_at_rest(json.dumps(secrets).encode()) if secrets else b""


@transaction.atomic
def register_credential(
    *,
    school: School,
    user: User | None,
    kind: str,
    created_by: User,
    certificates: Sequence[x509.Certificate] = (),
    pkcs12: bytes = b"",
    config: dict | None = None,
    secrets: dict[str, str] | None = None,
) -> SigningCredential:
    """Make a new credential the holder's active one (older ones are deactivated, kept for the
    record). The caller has checked the certificate (it opens, chains to a trust anchor, names
    the holder)."""
    SigningCredential.objects.filter(school=school, user=user, is_active=True).update(
        is_active=False
    )
    return SigningCredential.objects.create(
        school=school,
        user=user,
        kind=kind,
        created_by=created_by,
        pkcs12_encrypted=encrypt_at_rest(pkcs12) if pkcs12 else b"",
        config=config or {},
        secrets_encrypted=seal_account_secrets(secrets or {}),
        certificate_pem=certificates_pem(list(certificates)),
    )
