"""Public verification of a transcript: by the code printed (QR) on it, or by its signed file.

Every function returns a :class:`Verdict` carrying only what the public page may show: the
outcome, the signers and signing times, the school, school year and version number, and whether
(and why) the version was superseded — never the student's name, identifiers or marks.

Outcomes:

- ``genuine``: a sealed (final) version that is still current;
- ``superseded``: a sealed version later replaced (with the date and reason);
- ``not_final``: a version that exists but was never sealed — not an official document;
- ``unknown``: no version has this code;
- ``unknown_document``: the file's signatures are valid and trusted, but the file is not one
  this system issued (no stored version has its hash or its content);
- ``invalid``: unreadable, unsigned, tampered with, or signed by an untrusted certificate.

Files are checked against ``settings.SIGNING_TRUST_ANCHORS``: PDFs with pyHanko's AdES validation
(:func:`transcripts.signing.ltv.check_pdf`: revocation from the file's DSS, fetched online only
when ``settings.SIGNING_VERIFY_ONLINE`` allows it), XML with signxml (and the XAdES-T time-stamp).
Each signer carries what can be said about the time of signing (:data:`TIME_LABELS`): signed
while the certificate was valid (time-stamped), valid now (no time-stamp), revoked before
signing (the document is then ``invalid``), or cannot be established.

A version whose PDF was extended later (``manage.py extend_signatures``) is still found by the
digest of every file it was stored as (:class:`~transcripts.models.StoredFileDigest`).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from transcripts.models import SignerRole, State, TranscriptVersion
from transcripts.signing import ltv
from transcripts.signing.certificates import load_trust_anchors, normalise_name
from transcripts.signing.pdf_validation import PdfCheckFailed, check_pdf
from transcripts.signing.signers import SigningError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

GENUINE = "genuine"
SUPERSEDED = "superseded"
NOT_FINAL = "not_final"
UNKNOWN = "unknown"
UNKNOWN_DOCUMENT = "unknown_document"
INVALID = "invalid"

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
ROLE_ORDER = [SignerRole.HOMEROOM, SignerRole.PRINCIPAL, SignerRole.SEAL]


#: What can be said about when a signature was made (ltv.TIME_STATUSES), for the page.
TIME_LABELS = {
    ltv.TIMESTAMPED: gettext_lazy("Valid: signed while the certificate was valid (time-stamped)"),
    ltv.VALID_NOW: gettext_lazy("Valid now (no time-stamp proves when it was signed)"),
    ltv.REVOKED: gettext_lazy("Not valid: the certificate was revoked before signing"),
    ltv.INDETERMINATE: gettext_lazy(
        "Whether the certificate was valid when signing cannot be established"
    ),
}


@dataclass(frozen=True)
class SignerInfo:
    name: str
    role: StrOrPromise  # translated role label, or "" when unknown
    signed_at: datetime.datetime | None
    #: Normalised (CN, O) of the certificate, to find the recorded role; not shown.
    subject_key: tuple[str, str] = ("", "")
    #: One of ltv.TIME_STATUSES ("" when not established from a file: a lookup by code).
    time_status: str = ""
    #: Whether ``signed_at`` is proven by a time-stamp (else the signer's computer's clock).
    timestamped: bool = False
    #: The certificate's revocation, when the validation learnt of one.
    revoked_at: datetime.datetime | None = None

    @property
    def time_label(self) -> str:
        return str(TIME_LABELS.get(self.time_status, ""))


@dataclass
class Verdict:
    outcome: str
    method: str  # "code" | "pdf" | "xml"
    reason: str = ""  # why a file is invalid (short, translated)
    signers: list[SignerInfo] = field(default_factory=list)
    school_name: str = ""
    school_year: str = ""
    version_number: int | None = None
    issued_at: datetime.datetime | None = None
    superseded_at: datetime.datetime | None = None
    superseded_reason: str = ""
    #: For the lookup log only; the page never receives the version object.
    version_id: int | None = None

    @property
    def is_genuine(self) -> bool:
        return self.outcome == GENUINE


# --- matching a version -------------------------------------------------------------------------


def _versions():
    return TranscriptVersion.objects.select_related("transcript__school", "transcript__year")


def _subject_part(subject: str, key: str) -> str:
    match = re.search(rf"(?:^|[,/+]\s*){key}=((?:\\.|[^,/+])+)", subject)
    return match.group(1).replace("\\", "").strip() if match else ""


def _recorded_signers(version: TranscriptVersion) -> list[SignerInfo]:
    signatures = sorted(
        version.signatures.select_related("signed_by"),
        key=lambda s: (
            ROLE_ORDER.index(SignerRole(s.role)) if s.role in ROLE_ORDER else len(ROLE_ORDER)
        ),
    )
    signers = []
    for signature in signatures:
        subject = signature.certificate_subject
        if signature.role == SignerRole.SEAL:
            name = _subject_part(subject, "O") or _subject_part(subject, "CN")
            name = name or version.transcript.school.name
        else:
            name = _subject_part(subject, "CN") or signature.signed_by.display_name
        signers.append(SignerInfo(name, SignerRole(signature.role).label, signature.signed_at))
    return signers


def _version_verdict(
    version: TranscriptVersion, method: str, signers: list[SignerInfo] | None = None
) -> Verdict:
    transcript = version.transcript
    recorded = _recorded_signers(version)
    seal = version.signatures.filter(role=SignerRole.SEAL).first()
    sealed = seal is not None
    if not sealed:
        outcome = NOT_FINAL
    elif version.superseded_at is not None:
        outcome = SUPERSEDED
    elif transcript.state == State.FINAL:
        outcome = GENUINE
    else:  # sealed, not marked superseded, but the transcript moved on: not current any more
        outcome = SUPERSEDED
    return Verdict(
        outcome=outcome,
        method=method,
        signers=signers if signers is not None else recorded,
        school_name=transcript.school.name,
        school_year=transcript.year.name,
        version_number=version.number,
        issued_at=seal.signed_at if seal else None,
        superseded_at=version.superseded_at,
        superseded_reason=version.superseded_reason,
        version_id=version.pk,
    )


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()[:32]


def verify_by_code(code: str) -> Verdict:
    code = normalise_code(code)
    version = _versions().filter(verification_code=code).first() if code else None
    if version is None:
        return Verdict(outcome=UNKNOWN, method="code")
    return _version_verdict(version, "code")


# --- PDF ----------------------------------------------------------------------------------------


def _asn1_key(name: asn1_x509.Name) -> tuple[str, str]:
    native = name.native if isinstance(name.native, dict) else {}

    def first(value) -> str:
        return str(value[0] if isinstance(value, list) else value or "")

    return (
        normalise_name(first(native.get("common_name"))),
        normalise_name(first(native.get("organization_name"))),
    )


def _asn1_name(name: asn1_x509.Name) -> str:
    native = name.native
    if isinstance(native, dict):
        common_name = native.get("common_name") or ""
        organisation = native.get("organization_name") or ""
        if isinstance(common_name, list):
            common_name = common_name[0]
        if isinstance(organisation, list):
            organisation = organisation[0]
        if organisation and organisation != common_name:
            return f"{common_name} ({organisation})" if common_name else str(organisation)
        return str(common_name or organisation)
    return str(native)


def _role_from_field(field_name: str) -> str:
    lowered = (field_name or "").lower()
    for role in ROLE_ORDER:
        if role.value in lowered:
            return str(role.label)
    return ""


def _invalid(method: str, reason: str) -> Verdict:
    return Verdict(outcome=INVALID, method=method, reason=reason)


def _anchors() -> list[x509.Certificate]:
    try:
        return load_trust_anchors()
    except (OSError, ValueError):
        logger.exception("Cannot read SIGNING_TRUST_ANCHORS")
        return []


class InvalidDocument(Exception):
    """A signed file that does not verify; ``reason`` is short and translated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: Why a PDF's signatures are not accepted, by ltv.PdfCheckFailed.kind.
_PDF_FAILURES = {
    "unreadable": gettext_lazy("The file is not a readable PDF."),
    "unsigned": gettext_lazy("The PDF has no digital signature."),
    "changed": gettext_lazy("The document was changed after it was signed."),
    "untrusted": gettext_lazy("A signature is not from a trusted certification authority."),
}


def pdf_signatures(
    data: bytes,
    anchors: Sequence[x509.Certificate],
    *,
    online: bool = False,
    moment: datetime.datetime | None = None,
) -> list[SignerInfo]:
    """Every signature of the PDF, each intact and trusted (a path to one of ``anchors``),
    with what can be said about its time (AdES validation as of ``moment``, default now;
    revocation data from the file, and fetched when ``online``); raises
    :class:`InvalidDocument` otherwise, or when a certificate was revoked before signing."""
    try:
        checks = check_pdf(data, anchors=anchors, online=online, moment=moment)
    except PdfCheckFailed as exc:
        logger.info("PDF signatures refused: %s", exc)
        raise InvalidDocument(str(_PDF_FAILURES[exc.kind])) from exc
    signers = []
    for check in checks:
        name = _asn1_name(check.signing_cert.subject)
        if check.status == ltv.REVOKED:
            raise InvalidDocument(
                _("The certificate of %(name)s was revoked before the document was signed.")
                % {"name": name}
            )
        signers.append(
            SignerInfo(
                name,
                _role_from_field(check.field_name),
                check.signed_at,
                _asn1_key(check.signing_cert.subject),
                time_status=check.status,
                timestamped=check.timestamped,
                revoked_at=check.revoked_at,
            )
        )
    return signers


def verify_pdf(data: bytes, *, moment: datetime.datetime | None = None) -> Verdict:
    if len(data) > MAX_UPLOAD_BYTES:
        return _invalid("pdf", _("The file is larger than 10 MB."))
    anchors = _anchors()
    if not anchors:
        return _invalid("pdf", _("No trusted certification authority is configured."))
    online = getattr(settings, "SIGNING_VERIFY_ONLINE", False)
    try:
        signers = pdf_signatures(data, anchors, online=online, moment=moment)
    except InvalidDocument as exc:
        return _invalid("pdf", exc.reason)
    version = _version_by_digest(hashlib.sha256(data).hexdigest(), "pdf")
    if version is None:
        return Verdict(outcome=UNKNOWN_DOCUMENT, method="pdf", signers=signers)
    return _version_verdict(version, "pdf", _with_roles(signers, version))


def _version_by_digest(digest: str, kind: str) -> TranscriptVersion | None:
    """The version stored with this file now, or earlier (before an archive time-stamp)."""
    version = _versions().filter(**{f"{kind}_sha256": digest}).first()
    if version is None:
        version = _versions().filter(earlier_files__kind=kind, earlier_files__sha256=digest).first()
    return version


def _with_roles(signers: list[SignerInfo], version: TranscriptVersion) -> list[SignerInfo]:
    """Fill in the role labels the file does not give: from the recorded signature whose
    certificate subject (CN and O) is the signer's, else by position when the counts agree."""
    if all(s.role for s in signers):
        return signers
    by_subject: dict[tuple[str, str], StrOrPromise] = {}
    for signature in version.signatures.all():
        subject = signature.certificate_subject
        key = (
            normalise_name(_subject_part(subject, "CN")),
            normalise_name(_subject_part(subject, "O")),
        )
        by_subject.setdefault(key, SignerRole(signature.role).label)
    recorded = _recorded_signers(version)
    positional = len(recorded) == len(signers)
    result = []
    for index, signer in enumerate(signers):
        role = signer.role or by_subject.get(signer.subject_key, "")
        if not role and positional:
            role = recorded[index].role
        result.append(dataclasses.replace(signer, role=role))
    return result


# --- XML ----------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _cert_names(cert: x509.Certificate) -> tuple[str, str]:
    def attribute(oid) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return attribute(NameOID.COMMON_NAME), attribute(NameOID.ORGANIZATION_NAME)


def _display_name(common_name: str, organisation: str) -> str:
    if organisation and organisation != common_name:
        return f"{common_name} ({organisation})" if common_name else organisation
    return common_name or organisation


def _signature_cert(signature: etree._Element, key_pem: bytes) -> x509.Certificate | None:
    for element in signature.iter(f"{{{DS_NS}}}X509Certificate"):
        try:
            import base64

            cert = x509.load_der_x509_certificate(base64.b64decode("".join(element.text.split())))
        except (ValueError, TypeError, AttributeError):
            continue
        spki = cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki == key_pem:
            return cert
    return None


def _signing_time(signature: etree._Element) -> datetime.datetime | None:
    element = signature.find(f".//{{{XADES_NS}}}SigningTime")
    if element is None or not element.text:
        return None
    try:
        return datetime.datetime.fromisoformat(element.text.strip())
    except ValueError:
        return None


def _xades_time(
    signature: etree._Element, anchor_paths: Sequence[str | Path]
) -> datetime.datetime | None:
    """The time proven by the signature's XAdES-T time-stamp, None without one; a time-stamp
    that does not cover this signature or is not trusted makes the document invalid."""
    try:
        return ltv.xades_timestamp(signature, load_trust_anchors(anchor_paths))
    except SigningError as exc:
        raise InvalidDocument(_("A signature's time-stamp does not match it.")) from exc


def _verify_one_xml_signature(
    root: etree._Element, index: int, anchor_paths: Sequence[str | Path]
) -> tuple[bytes, etree._Element]:
    """Verify the ``index``-th ds:Signature (with only it left in a copy of the document) against
    each trust anchor file; return the signing key (PEM) and the signed element."""
    from signxml import InvalidInput, InvalidSignature
    from signxml.xades import XAdESVerifier

    last_error: Exception | None = None
    for path in anchor_paths:
        copy = etree.fromstring(etree.tostring(root), parser=_parser())
        for position, signature in enumerate(copy.findall(f".//{{{DS_NS}}}Signature")):
            if position != index:
                signature.getparent().remove(signature)
        try:
            result = XAdESVerifier().verify(copy, ca_pem_file=str(path), expect_references=3)
        except (InvalidSignature, InvalidInput) as exc:
            last_error = exc
            continue
        first = result[0]
        return first.signature_key, first.signed_xml
    raise last_error or ValueError("no trust anchors")


def _same_content(signed: etree._Element, version: TranscriptVersion) -> bool:
    """True when the stored XML file's signed element has the same canonical form."""
    if not version.xml_file:
        return False
    try:
        with version.xml_file.open("rb") as handle:
            stored = etree.fromstring(handle.read(), parser=_parser())
    except (OSError, etree.XMLSyntaxError):
        return False
    candidates = [stored, *stored.iterchildren()]
    for element in candidates:
        if isinstance(element.tag, str) and element.get("Id") == signed.get("Id"):
            return etree.tostring(element, method="c14n") == etree.tostring(signed, method="c14n")
    return False


def xml_signatures(
    root: etree._Element, anchor_paths: Sequence[str | Path]
) -> tuple[list[SignerInfo], etree._Element]:
    """Every ds:Signature of the document, each valid and trusted (against the PEM files
    ``anchor_paths``) and all over the same ``hocBa`` data element, which is returned with the
    signers; raises :class:`InvalidDocument` otherwise."""
    from signxml import InvalidCertificate

    signatures = root.findall(f".//{{{DS_NS}}}Signature")
    if not signatures:
        raise InvalidDocument(_("The XML has no digital signature."))
    signers: list[SignerInfo] = []
    signed_data: etree._Element | None = None
    for index, signature in enumerate(signatures):
        try:
            key_pem, signed = _verify_one_xml_signature(root, index, anchor_paths)
        except InvalidCertificate as exc:
            raise InvalidDocument(
                _("A signature is not from a trusted certification authority.")
            ) from exc
        except Exception as exc:  # signxml raises several kinds of errors on bad input
            raise InvalidDocument(_("The document was changed after it was signed.")) from exc
        if _local(signed) != "hocBa":
            raise InvalidDocument(_("The signed part is not a transcript."))
        if signed_data is not None and etree.tostring(signed, method="c14n") != etree.tostring(
            signed_data, method="c14n"
        ):
            raise InvalidDocument(_("The signatures do not cover the same data."))
        signed_data = signed
        cert = _signature_cert(signature, key_pem)
        common_name, organisation = _cert_names(cert) if cert else ("", "")
        stamped = _xades_time(signature, anchor_paths)
        signers.append(
            SignerInfo(
                _display_name(common_name, organisation),
                "",
                stamped or _signing_time(signature),
                (normalise_name(common_name), normalise_name(organisation)),
                timestamped=stamped is not None,
            )
        )
    assert signed_data is not None
    return signers, signed_data


def parse_xml(data: bytes) -> etree._Element:
    """Parse an uploaded XML file safely (no entities, no network, no DTD); raises
    :class:`InvalidDocument`."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidDocument(_("The file is not readable XML.")) from exc
    if root.getroottree().docinfo.doctype:
        raise InvalidDocument(_("The file is not readable XML."))
    return root


def verify_xml(data: bytes) -> Verdict:
    if len(data) > MAX_UPLOAD_BYTES:
        return _invalid("xml", _("The file is larger than 10 MB."))
    if not _anchors():
        return _invalid("xml", _("No trusted certification authority is configured."))
    try:
        root = parse_xml(data)
        signers, signed_data = xml_signatures(root, settings.SIGNING_TRUST_ANCHORS)
    except InvalidDocument as exc:
        return _invalid("xml", exc.reason)
    version = _version_by_digest(hashlib.sha256(data).hexdigest(), "xml")
    if version is None:
        public_id, number = signed_data.get("maHocBa", ""), signed_data.get("phienBan", "")
        if number.isdigit() and re.fullmatch(r"[0-9a-fA-F-]{32,36}", public_id):
            candidate = (
                _versions().filter(transcript__public_id=public_id, number=int(number)).first()
            )
            if candidate is not None and _same_content(signed_data, candidate):
                version = candidate
    if version is None:
        return Verdict(outcome=UNKNOWN_DOCUMENT, method="xml", signers=signers)
    return _version_verdict(version, "xml", _with_roles(signers, version))


def verify_file(data: bytes) -> Verdict:
    """A PDF or an XML file, told apart by its first bytes."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"%PDF-" in data[:1024]:
        return verify_pdf(data)
    if head.startswith(b"<"):
        return verify_xml(data)
    return _invalid("file", _("The file is neither a PDF nor an XML transcript."))
