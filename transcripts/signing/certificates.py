"""May this certificate sign a transcript for this person (or seal it for this school)?

Checked before every signature: validity period, a path to a configured trust anchor
(settings.SIGNING_TRUST_ANCHORS, PEM files), key usage, and that the holder named in the
certificate is the person signing (:func:`check_signing_certificate`); and, before a batch,
that the certificate is not revoked now (:func:`check_revocation`, OCSP / CRL as
``settings.SIGNING_REVOCATION`` says).
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import PathValidationError, RevokedError

from transcripts.signing.pki import Revocation, run_validation, to_asn1, validation_context
from transcripts.signing.signers import SigningError

_MAX_PATH = 6


class SigningRefused(SigningError):
    """The certificate may not be used for this signature; the message is for the user."""


def normalise_name(name: str) -> str:
    """Compare names without case, diacritics or spacing: "NGUYỄN  Văn Ân" == "nguyen van an"."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def load_trust_anchors(paths: Iterable[str | Path] | None = None) -> list[x509.Certificate]:
    """Read every certificate in the PEM files listed in settings.SIGNING_TRUST_ANCHORS."""
    if paths is None:
        paths = getattr(settings, "SIGNING_TRUST_ANCHORS", [])
    anchors: list[x509.Certificate] = []
    for path in paths:
        anchors += x509.load_pem_x509_certificates(Path(path).read_bytes())
    return anchors


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _in_period(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def chains_to_anchor(
    cert: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    trust_anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> bool:
    """True when issuer links (name and signature) lead from ``cert`` to an anchor through valid
    CA certificates."""
    current = cert
    for _depth in range(_MAX_PATH):
        if any(current == anchor or _issued_by(current, anchor) for anchor in trust_anchors):
            return True
        parent = next(
            (
                c
                for c in intermediates
                if c != current and _is_ca(c) and _in_period(c, now) and _issued_by(current, c)
            ),
            None,
        )
        if parent is None:
            return False
        current = parent
    return False


def check_signing_certificate(
    cert: x509.Certificate,
    *,
    holder_name: str | None = None,
    organisation_name: str | None = None,
    chain: Sequence[x509.Certificate] = (),
    now: datetime.datetime | None = None,
    trust_anchors: Sequence[x509.Certificate] | None = None,
) -> None:
    """Raise :class:`SigningRefused` unless ``cert`` may sign now for ``holder_name`` (a person,
    compared with the subject CN) or ``organisation_name`` (the school seal, compared with the
    subject O, or the CN when there is no O). ``trust_anchors`` defaults to the settings."""
    now = now or datetime.datetime.now(datetime.UTC)
    if trust_anchors is None:
        trust_anchors = load_trust_anchors()
    if not trust_anchors:
        raise SigningRefused(_("No trusted certification authority is configured for signing."))
    if now < cert.not_valid_before_utc:
        raise SigningRefused(
            _("The certificate is not valid before %(date)s.")
            % {"date": cert.not_valid_before_utc.date().isoformat()}
        )
    if now > cert.not_valid_after_utc:
        raise SigningRefused(
            _("The certificate expired on %(date)s.")
            % {"date": cert.not_valid_after_utc.date().isoformat()}
        )
    if not chains_to_anchor(cert, intermediates=chain, trust_anchors=trust_anchors, now=now):
        raise SigningRefused(
            _("The certificate is not issued by a trusted certification authority.")
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        may_sign = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        may_sign = False
    if not may_sign:
        raise SigningRefused(_("The certificate does not allow digital signatures."))
    common_name = _attribute(cert.subject, NameOID.COMMON_NAME)
    if holder_name is not None and normalise_name(common_name) != normalise_name(holder_name):
        raise SigningRefused(
            _("The certificate belongs to “%(holder)s”, not to “%(name)s”.")
            % {"holder": common_name, "name": holder_name}
        )
    if organisation_name is not None:
        organisation = _attribute(cert.subject, NameOID.ORGANIZATION_NAME) or common_name
        if normalise_name(organisation) != normalise_name(organisation_name):
            raise SigningRefused(
                _("The certificate belongs to “%(holder)s”, not to “%(name)s”.")
                % {"holder": organisation, "name": organisation_name}
            )


def check_revocation(
    cert: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    trust_anchors: Sequence[x509.Certificate] | None = None,
    mode: str | None = None,
    timeout: int | None = None,
) -> None:
    """Raise :class:`SigningRefused` when the certificate (or a CA of its chain) is revoked now,
    asking the OCSP responders and CRL distribution points the certificates name. ``mode``
    (default ``settings.SIGNING_REVOCATION``): "require" also refuses when the status cannot be
    established (no responder named, none answers); "if-available" refuses only a revocation
    actually reported; "off" asks nothing."""
    revocation = Revocation(mode or settings.SIGNING_REVOCATION)
    if revocation == Revocation.OFF:
        return
    context = validation_context(
        anchors=load_trust_anchors() if trust_anchors is None else trust_anchors,
        extra=chain,
        revocation=revocation,
        timeout=timeout or settings.SIGNING_FETCH_TIMEOUT,
    )
    validator = CertificateValidator(
        to_asn1(cert),
        intermediate_certs=[to_asn1(c) for c in chain],
        validation_context=context,
    )
    # async_validate_usage is unannotated in pyHanko
    usage = validator.async_validate_usage(set())  # type: ignore[no-untyped-call]  # unannotated in pyHanko
    try:
        run_validation(usage, context)
    except RevokedError as exc:
        raise SigningRefused(
            _("The certificate was revoked on %(date)s: it can no longer sign.")
            % {"date": _local(exc.revocation_dt)}
        ) from exc
    except PathValidationError as exc:
        if revocation == Revocation.REQUIRE:
            raise SigningRefused(
                _("Whether the certificate is revoked cannot be checked now: %(reason)s")
                % {"reason": exc.failure_msg}
            ) from exc
        raise SigningRefused(
            _("The certificate cannot be validated: %(reason)s") % {"reason": exc.failure_msg}
        ) from exc
    except Exception as exc:  # path building (checked before), a broken responder answer
        if revocation == Revocation.REQUIRE:
            raise SigningRefused(
                _("Whether the certificate is revoked cannot be checked now: %(reason)s")
                % {"reason": str(exc)}
            ) from exc


def _local(moment: datetime.datetime) -> str:
    """A moment in the site's time zone (Vietnam time), as the pages show it."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
