"""Long-term validation: time-stamps, revocation data and archive time-stamps on signed PDFs, and
the AdES validation that reads them back.

A personal certificate lives at most five years (Decree 68/2024) and a transcript must be
verifiable for the student's lifetime. What keeps a signature verifiable after its certificate
expired or was revoked is proof that it existed while the certificate was good:

- **B-T**: an RFC 3161 time-stamp on the signature value (an unsigned attribute of the CMS),
  taken when the signature is finished (:func:`timestamper`);
- **B-LT**: the OCSP responses or CRLs and the certificates of the signer's chain and of the
  time-stamping authority, fetched at signing and stored in the PDF's Document Security Store
  in an incremental update after the signature (:func:`add_validation_data`);
- **B-LTA**: a document time-stamp over everything, DSS included, after the last signature
  (the seal's), with its own validation data after it (:func:`add_document_timestamp`); before
  that time-stamp's certificate expires, :func:`extend_archive_timestamp` (``manage.py
  extend_signatures``) adds the validation data for it and a fresh one.

Verification (:func:`transcripts.signing.pdf_validation.check_pdf`) reads it back and sorts
each signature into one of :data:`TIME_STATUSES`; :func:`xades_timestamp` checks an XML
signature's time-stamp.

Settings (docs/deployment.md): ``SIGNING_TSA_URL``, ``SIGNING_PADES_LEVEL``,
``SIGNING_REVOCATION``, ``SIGNING_FETCH_TIMEOUT``, ``SIGNING_VERIFY_ONLINE``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import hashlib
import io
import logging
from collections.abc import Sequence

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from transcripts.signing.signers import SigningError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"

logger = logging.getLogger(__name__)


class PadesLevel(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), in increasing order."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return list(PadesLevel).index(self)

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, PadesLevel):
            return NotImplemented
        return self.rank >= other.rank


class Revocation(enum.StrEnum):
    """``SIGNING_REVOCATION``: how signing treats revocation checks (OCSP / CRL)."""

    REQUIRE = "require"  # every certificate of the chain must be shown not revoked
    IF_AVAILABLE = "if-available"  # checked where the certificate names a responder that answers
    OFF = "off"  # never asked


#: Per signature, what can be said about the time it was made (the public page's wording):
#: signed while the certificate was valid, proven by a time-stamp; valid now, but no time-stamp
#: proves when; the certificate was revoked before the signature existed; cannot be established.
TIMESTAMPED = "timestamped"
VALID_NOW = "valid_now"
REVOKED = "revoked"
INDETERMINATE = "indeterminate"
TIME_STATUSES = (TIMESTAMPED, VALID_NOW, REVOKED, INDETERMINATE)


@dataclasses.dataclass(frozen=True)
class LtvSettings:
    """What a signature gets and how validation data is fetched, from the settings."""

    level: PadesLevel
    timestamp_url: str | None
    revocation: Revocation
    timeout: int
    trust_anchors: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_settings(cls) -> LtvSettings:
        from django.conf import settings

        from transcripts.signing.certificates import load_trust_anchors

        url = getattr(settings, "SIGNING_TSA_URL", "") or None
        return cls(
            level=pades_level(getattr(settings, "SIGNING_PADES_LEVEL", ""), url),
            timestamp_url=url,
            revocation=Revocation(getattr(settings, "SIGNING_REVOCATION", Revocation.IF_AVAILABLE)),
            timeout=int(getattr(settings, "SIGNING_FETCH_TIMEOUT", 10)),
            trust_anchors=tuple(load_trust_anchors()),
        )

    @property
    def timestamped(self) -> bool:
        return self.level >= PadesLevel.B_T

    def context(self, *, extra: Sequence[x509.Certificate] = ()) -> ValidationContext:
        """A context that fetches revocation data as the settings allow."""
        return validation_context(
            anchors=self.trust_anchors,
            extra=extra,
            revocation=self.revocation,
            timeout=self.timeout,
        )


def pades_level(configured: str, timestamp_url: str | None) -> PadesLevel:
    """``SIGNING_PADES_LEVEL``, or by default B-LTA when a time-stamping authority is configured
    and B-B without one (every level above B-B needs a time-stamp)."""
    if not timestamp_url:
        return PadesLevel.B_B
    return PadesLevel(configured) if configured else PadesLevel.B_LTA


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def validation_context(
    *,
    anchors: Sequence[x509.Certificate],
    extra: Sequence[x509.Certificate] = (),
    revocation: Revocation = Revocation.IF_AVAILABLE,
    timeout: int = 10,
    moment: datetime.datetime | None = None,
) -> ValidationContext:
    """A pyHanko validation context trusting ``anchors`` that fetches OCSP responses and CRLs
    (``timeout`` seconds per request) unless ``revocation`` is off. ``moment``: validate as of
    then (tests travelling in time; the responders must answer as of the same moment)."""
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

    fetching = revocation != Revocation.OFF
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in anchors],
        other_certs=[to_asn1(c) for c in extra],
        allow_fetching=fetching,
        revocation_mode="require" if revocation == Revocation.REQUIRE else "soft-fail",
        fetcher_backend=(
            OwnedFetcherBackend(AIOHttpFetcherBackend(per_request_timeout=timeout))
            if fetching
            else None
        ),
        moment=moment,
    )


def timestamper(url: str, *, timeout: int = 10) -> HTTPTimeStamper:
    """The RFC 3161 client of the time-stamping authority at ``url``."""
    return HTTPTimeStamper(url, timeout=timeout)


def _run(coroutine, *contexts: ValidationContext):
    """Run ``coroutine`` on a new event loop, then release the contexts' HTTP sessions on it."""
    from pyhanko.sign._session_scope import run_and_release

    from transcripts.signing.formats import _run as run_loop

    return run_loop(run_and_release(coroutine, *contexts))


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=False)


# --- signing: B-LT and B-LTA after a signature is in -------------------------------------------


def add_validation_data(pdf: bytes, *, context: ValidationContext) -> bytes:
    """B-LT: the revocation data (OCSP / CRL) and certificates of the last signature's chain and
    of its time-stamp's authority, fetched now, added to the DSS in an incremental update.
    Raises SigningError when the chain does not validate or, with revocation ``require``, when
    the revocation data cannot be obtained (the signature is then not stored)."""
    from pyhanko.sign.validation import async_add_validation_info

    async def run() -> bytes:
        reader = _reader(pdf)
        signature = reader.embedded_regular_signatures[-1]
        output = await async_add_validation_info(
            signature, context, add_vri_entry=False, output=io.BytesIO()
        )
        return output.getvalue()

    try:
        return _run(run(), context)
    except Exception as exc:  # path building, fetch failures, a revoked certificate
        raise SigningError(f"Cannot add the validation data (B-LT): {exc}") from exc


def add_document_timestamp(
    pdf: bytes, *, url: str, context: ValidationContext, timeout: int
) -> bytes:
    """B-LTA: a document time-stamp over the whole file (an incremental update), with the
    validation data of the time-stamping authority's certificate added after it."""
    from pyhanko.sign.signers import PdfTimeStamper

    async def run() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        output = await PdfTimeStamper(timestamper(url, timeout=timeout)).async_timestamp_pdf(
            writer, "sha256", validation_context=context, output=io.BytesIO()
        )
        return output.getvalue()

    try:
        return _run(run(), context)
    except Exception as exc:
        raise SigningError(f"Cannot add the document time-stamp (B-LTA): {exc}") from exc


def extend_archive_timestamp(
    pdf: bytes, *, url: str, context: ValidationContext, timeout: int
) -> bytes:
    """A fresh archive time-stamp: the validation data of the last document time-stamp (its
    authority's certificate, still valid now) into the DSS, then a new document time-stamp over
    everything. A file without a document time-stamp gets the validation data of each signature
    first (best effort: what can be fetched now), then its first document time-stamp."""
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.validation import async_add_validation_info

    async def run() -> bytes:
        data = pdf
        reader = _reader(data)
        if not reader.embedded_timestamp_signatures:
            for index in range(len(reader.embedded_regular_signatures)):
                signature = _reader(data).embedded_regular_signatures[index]
                try:
                    out = await async_add_validation_info(
                        signature, context, add_vri_entry=False, output=io.BytesIO()
                    )
                except Exception as exc:  # an expired or revoked certificate: nothing to add
                    logger.warning("no validation data for signature %s: %s", index, exc)
                    continue
                data = out.getvalue()
        stamper = PdfTimeStamper(timestamper(url, timeout=timeout))
        output = await stamper.async_update_archival_timestamp_chain(
            _reader(data), context, in_place=False, output=io.BytesIO()
        )
        return output.getvalue()

    try:
        return _run(run(), context)
    except Exception as exc:
        raise SigningError(f"Cannot add an archive time-stamp: {exc}") from exc


@dataclasses.dataclass(frozen=True)
class LastTimestamp:
    """The newest time-stamp of a PDF (a document time-stamp, else a signature's time-stamp):
    when it was taken and when its authority's certificate expires."""

    at: datetime.datetime
    certificate_expires: datetime.datetime
    is_document_timestamp: bool


def _tst_time_and_cert(
    signed_data: cms.SignedData,
) -> tuple[datetime.datetime, asn1_x509.Certificate]:
    from pyhanko.sign.general import extract_certificate_info

    info = signed_data["encap_content_info"]["content"].parsed
    return info["gen_time"].native, extract_certificate_info(signed_data).signer_cert


def last_timestamp(pdf: bytes) -> LastTimestamp | None:
    """The newest time-stamp in ``pdf``, or None when it has none (B-B)."""
    from pyhanko.sign.general import extract_signer_info
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    reader = _reader(pdf)
    documents = reader.embedded_timestamp_signatures
    if documents:
        at, cert = _tst_time_and_cert(documents[-1].signed_data)
        return LastTimestamp(at, cert.not_valid_after, True)
    found: list[tuple[datetime.datetime, asn1_x509.Certificate]] = []
    for signature in reader.embedded_regular_signatures:
        signer_info = extract_signer_info(signature.signed_data)
        for token in extract_tst_data_iter(signer_info, signed=False):
            found.append(_tst_time_and_cert(token))
    if not found:
        return None
    at, cert = max(found, key=lambda item: item[0])
    return LastTimestamp(at, cert.not_valid_after, False)


# --- XAdES-T: a signature time-stamp on an XML signature --------------------------------------


#: XAdES-T's SignatureTimeStamp is over the ds:SignatureValue element canonicalised with this
#: algorithm (inclusive C14N 1.0, named in the property; ETSI EN 319 132-1 §5.3).
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def signature_value_digest(signature: etree._Element, algorithm: str = C14N_10) -> bytes:
    """SHA-256 of the signature's ds:SignatureValue element, canonicalised in its document."""
    slot = signature.find(f"{{{DS_NS}}}SignatureValue")
    if slot is None:
        raise SigningError("The signature has no SignatureValue")
    if algorithm == C14N_10:
        canonical = etree.tostring(slot, method="c14n", exclusive=False, with_comments=False)
    elif algorithm == "http://www.w3.org/2001/10/xml-exc-c14n#":
        canonical = etree.tostring(slot, method="c14n", exclusive=True, with_comments=False)
    else:
        raise SigningError(f"Unsupported canonicalisation {algorithm!r}")
    return hashlib.sha256(canonical).digest()


def add_xades_timestamp(xml_bytes: bytes, *, timestamp_url: str, timeout: int = 10) -> bytes:
    """Make the document's last XAdES signature XAdES-T: an RFC 3161 time-stamp from
    ``timestamp_url`` over its canonical ds:SignatureValue, as a ``xades:SignatureTimeStamp`` in
    new ``xades:UnsignedProperties`` of its QualifyingProperties. Unsigned properties are outside
    what the signature signs (its references name the data, SignedProperties and KeyInfo), so
    the signature verifies as before; signxml does not produce them itself."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    root = etree.fromstring(xml_bytes, parser=parser)
    signatures = root.findall(f"{{{DS_NS}}}Signature")
    if not signatures:
        raise SigningError("The XML has no signature to time-stamp")
    signature = signatures[-1]
    qualifying = signature.find(f"{{{DS_NS}}}Object/{{{XADES_NS}}}QualifyingProperties")
    if qualifying is None or qualifying.find(f"{{{XADES_NS}}}UnsignedProperties") is not None:
        raise SigningError("The signature is not XAdES-BES, or already has unsigned properties")
    digest = signature_value_digest(signature)
    try:
        token = _run(timestamper(timestamp_url, timeout=timeout).async_timestamp(digest, "sha256"))
    except Exception as exc:
        raise SigningError(f"The time-stamping authority failed: {exc}") from exc
    unsigned = etree.SubElement(qualifying, f"{{{XADES_NS}}}UnsignedProperties")
    properties = etree.SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
    stamp = etree.SubElement(properties, f"{{{XADES_NS}}}SignatureTimeStamp")
    stamp.set("Id", f"{signature.get('Id') or 'signature'}-timestamp")
    etree.SubElement(stamp, f"{{{DS_NS}}}CanonicalizationMethod").set("Algorithm", C14N_10)
    encapsulated = etree.SubElement(stamp, f"{{{XADES_NS}}}EncapsulatedTimeStamp")
    encapsulated.text = base64.b64encode(token.dump()).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def xades_timestamp(signature: etree._Element, anchors: Sequence[x509.Certificate]):
    """The time proven by the XAdES-T ``SignatureTimeStamp`` of ``signature`` (a ds:Signature
    element in its document), or None when it has none. Raises SigningError when the time-stamp
    does not cover this SignatureValue or its authority does not chain to ``anchors``."""

    path = f"{{{DS_NS}}}Object/{{{XADES_NS}}}QualifyingProperties/{{{XADES_NS}}}UnsignedProperties"
    stamp = signature.find(
        f"{path}/{{{XADES_NS}}}UnsignedSignatureProperties/{{{XADES_NS}}}SignatureTimeStamp"
    )
    if stamp is None:
        return None
    method = stamp.find(f"{{{DS_NS}}}CanonicalizationMethod")
    encapsulated = stamp.findtext(f"{{{XADES_NS}}}EncapsulatedTimeStamp") or ""
    try:
        token = cms.ContentInfo.load(base64.b64decode("".join(encapsulated.split())))
        digest = signature_value_digest(
            signature, method.get("Algorithm") if method is not None else C14N_10
        )
        status = _run(_trusted_tst(token["content"], digest, anchors))
    except Exception as exc:
        raise SigningError(f"The signature time-stamp cannot be checked: {exc}") from exc
    if not (status["intact"] and status["valid"]):
        raise SigningError("The signature time-stamp does not match this signature")
    return status["timestamp"]


async def _trusted_tst(signed_data: cms.SignedData, digest: bytes, anchors):
    """The time-stamp token's status (intact, valid, timestamp), its authority's certificate
    validated (path to ``anchors``, time-stamping usage) as of the time it states."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import CertificateValidator

    if not anchors:
        raise SigningError("No trusted certification authority is configured")
    roots = [to_asn1(c) for c in anchors]
    status = await validate_tst_signed_data(
        signed_data, ValidationContext(trust_roots=roots), lambda _: digest
    )
    certs = extract_certificate_info(signed_data)
    context = ValidationContext(trust_roots=roots, moment=status["timestamp"])
    validator = CertificateValidator(
        certs.signer_cert, intermediate_certs=certs.other_certs, validation_context=context
    )
    await validator.async_validate_usage(set(), extended_key_usage={"time_stamping"})
    return status
