"""Signature formats: PAdES on PDFs (pyHanko), XAdES-BES on XML (signxml), CMS detached (pyHanko).

Signing is in two phases, so that the key can be anywhere (a USB token on the signer's own
computer, a remote service that asks for a confirmation on a phone): :func:`prepare_pdf` /
:func:`prepare_xml` add the new signature to the document with an empty value and return the
SHA-256 digest to be signed, as plain data that can be stored; :func:`finish_pdf` /
:func:`finish_xml` put a value obtained later into it, after checking the value against the
certificate. :func:`sign_pdf`, :func:`sign_pdfs` and :func:`sign_xml` do both at once with a
:class:`~transcripts.signing.signers.Signer` the server can use. Only RSA PKCS#1 v1.5 over
SHA-256. Functions take and return bytes.

A PAdES signature builds its CMS container once (:func:`signature_reservation`) and its signed
attributes without re-encoding them (:class:`_PadesSignedAttributes`): 54-58 → 10 ms per
signature of a 40 KB transcript with the demo certificates (issue 7, bench/render_sign.py).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import attributes, fields, signers
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import Signer as PyHankoSigner
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.stamp import BaseStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.xades import XAdESDataObjectFormat, XAdESSigner

from transcripts.signing.appearance import (
    SignatureAppearance,
    appearance_for,
    common_name,
    field_lock,
    stamp_style,
)
from transcripts.signing.ltv import (
    LtvSession,
    LtvSettings,
    PadesLevel,
    add_document_timestamp,
    add_validation_data,
    add_xades_timestamp,
    session_for,
)
from transcripts.signing.pki import run_coroutine, to_asn1
from transcripts.signing.signers import Signer, SigningError, rsa_public_key

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"

#: DER bytes a PAdES signature container needs beyond its certificates and signature value: the
#: signed attributes (content type, message digest, signing-certificate-v2 with the issuer's
#: name), the signer info (issuer name and serial again, algorithms) and the SignedData framing.
#: 0.5 KB with the demo certificates; 4 KB leaves room for long issuer names and serials.
CMS_OVERHEAD_BYTES = 4096
#: An RFC 3161 time-stamp token (PAdES B-T, an unsigned attribute) is the time-stamping
#: authority's own SignedData, usually with its certificate chain: 2-6 KB from public TSAs,
#: ~3 KB from the test TSA. 8 KB leaves room for a longer chain; the reservation is written as
#: hex into every signature, so 16 KB cost ~50 KB per transcript for nothing. A token that
#: does not fit fails the signature (SigningError), never the document.
TIMESTAMP_TOKEN_BYTES = 8192


@functools.lru_cache(maxsize=256)
def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """Parsed once per certificate: asn1crypto re-serialises parsed certificates slowly."""
    return to_asn1(cert)


@functools.lru_cache(maxsize=256)
def _signing_certificate_v2(cert: x509.Certificate) -> tsp.SigningCertificateV2:
    """pyHanko's signing-certificate-v2 value for ``cert``, built once and parsed back from DER.

    asn1crypto re-encodes a freshly built value every time an enclosing value reads its bytes,
    and reads them two or three times per level, so this nested value was encoded hundreds of
    times per signature (~12 ms); a parsed value keeps its bytes."""
    return tsp.SigningCertificateV2.load(as_signing_certificate_v2(_to_asn1(cert)).dump())


def signature_reservation(signer: Certified, *, timestamped: bool) -> int:
    """The space reserved in the PDF for one PAdES signature container, in hex digits (two per
    DER byte): the certificates embedded (the signer's and its chain, whole), the signature
    value, :data:`CMS_OVERHEAD_BYTES` and, with a time-stamp, :data:`TIMESTAMP_TOKEN_BYTES`.

    Without it pyHanko builds the whole container once more, as a dry run, only to measure it.
    A container larger than the reservation makes pyHanko raise before it returns anything, so
    a too small reservation fails the signature and never yields a broken document."""
    certificates = [signer.certificate, *signer.chain]
    der = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in certificates)
    der += rsa_public_key(signer.certificate).key_size // 8 + CMS_OVERHEAD_BYTES
    if timestamped:
        der += TIMESTAMP_TOKEN_BYTES
    return 2 * der


class _SigningCertificateV2(attributes.SigningCertificateV2Provider):
    """pyHanko's provider of the signing-certificate-v2 attribute, with the value built once
    per certificate (:func:`_signing_certificate_v2`)."""

    def __init__(self, cert: x509.Certificate) -> None:
        super().__init__(signing_cert=_to_asn1(cert))
        self._value = _signing_certificate_v2(cert)

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        return self._value


class _PadesSignedAttributes(attributes.SignedAttributeProviderSpec):
    """The signed attributes of our PAdES signatures: what pyHanko's default for PAdES
    (``CAdESSignedAttributeProviderSpec`` with ``is_pades=True`` and no extra CAdES attributes)
    provides, signing-certificate-v2 only (pyHanko adds content type and message digest
    itself), with that value built once per certificate. A test compares the result with
    pyHanko's default byte for byte."""

    def __init__(self, cert: x509.Certificate) -> None:
        self._cert = cert

    def signed_attr_providers(
        self, data_digest: bytes, digest_algorithm: str
    ) -> Iterable[attributes.CMSAttributeProvider]:
        yield _SigningCertificateV2(self._cert)


class Certified(Protocol):
    """Anything that names a signer by certificate: a Signer, a SignatureSource, the
    Certificates a batch stored (read only)."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> Sequence[x509.Certificate]: ...


class PyHankoAdapter(PyHankoSigner):
    """A pyHanko signer for ``holder``'s certificate whose raw signature value is either a value
    obtained earlier (``value``: finishing a prepared signature) or asked of ``holder`` (a
    :class:`Signer`: the manifest's CMS, signed at once).

    With ``pades=True`` it only makes PAdES signatures, whose signed attributes it builds
    faster (:class:`_PadesSignedAttributes`)."""

    def __init__(
        self, holder: Certified, *, pades: bool = False, value: bytes | None = None
    ) -> None:
        # pyHanko embeds the registry's certificates and the signing certificate: a registry
        # holding the signing certificate too embedded it twice (~1 KB per signature).
        chain = [_to_asn1(c) for c in holder.chain if c != holder.certificate]
        # from_certs is unannotated in pyHanko
        registry = SimpleCertificateStore.from_certs(chain)  # type: ignore[no-untyped-call]  # unannotated in pyHanko
        super().__init__(
            signing_cert=_to_asn1(holder.certificate),
            cert_registry=registry,
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            embed_roots=True,
        )
        self._holder = holder
        self._value = value
        if pades:
            self.signed_attr_prov_spec = _PadesSignedAttributes(holder.certificate)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != "sha256":
            raise SigningError(f"Only sha256 is supported, not {digest_algorithm!r}")
        if dry_run:  # pyHanko sizes the signature container with a placeholder
            return bytes(rsa_public_key(self._holder.certificate).key_size // 8)
        if self._value is not None:
            return self._value
        if not isinstance(self._holder, Signer):
            raise SigningError("No signature value to finish this signature with")
        return self._holder.sign_digest(hashlib.sha256(data).digest())


def signature_digest_matches(holder: Certified, digest: bytes, value: bytes) -> bool:
    """Whether ``value`` is the RSA PKCS#1 v1.5 signature of the SHA-256 ``digest`` by the
    holder's certificate: every value obtained from outside is checked before it is used."""
    try:
        rsa_public_key(holder.certificate).verify(
            value, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )
    except Exception:  # InvalidSignature, or a value of the wrong length or type
        return False
    return True


# --- PAdES: prepared, then finished with a value obtained elsewhere -------------------------------


@dataclasses.dataclass(frozen=True)
class PreparedPdf:
    """A PDF made ready for one more PAdES signature, waiting for its value.

    ``data`` is the whole file with the new signature field and an empty, reserved region for
    the signature container; ``document_digest`` the SHA-256 over its /ByteRange;
    ``signed_attributes`` the DER of the CMS signed attributes (content type, message digest,
    signing-certificate-v2). The signer signs :attr:`digest`, the SHA-256 of those attributes.
    Everything here is plain data, so a prepared signature can be stored and finished by
    another process, minutes later."""

    data: bytes
    document_digest: bytes
    region: tuple[int, int]
    signed_attributes: bytes

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.signed_attributes).digest()

    def state(self) -> dict[str, Any]:
        """The JSON-serialisable part (``data`` is stored as a file)."""
        return {
            "document_digest": self.document_digest.hex(),
            "region": list(self.region),
            "signed_attributes": self.signed_attributes.hex(),
        }

    @classmethod
    def from_state(cls, data: bytes, state: dict[str, Any]) -> PreparedPdf:
        start, end = state["region"]
        return cls(
            data=data,
            document_digest=bytes.fromhex(state["document_digest"]),
            region=(int(start), int(end)),
            signed_attributes=bytes.fromhex(state["signed_attributes"]),
        )


def _pdf_signer(
    adapter: PyHankoAdapter,
    *,
    field_name: str,
    reason: str,
    location: str,
    stamp: BaseStampStyle | None = None,
) -> signers.PdfSigner:
    """pyHanko's signer for one PAdES signature in ``field_name``: the existing empty field of
    that name (drawn with ``stamp`` when visible), or a new invisible one; either way locked
    (FieldMDP, :func:`~transcripts.signing.appearance.field_lock`) once signed."""
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        use_pades_lta=False,
    )
    return signers.PdfSigner(
        meta,
        signer=adapter,
        stamp_style=stamp,
        new_field_spec=fields.SigFieldSpec(field_name, field_mdp_spec=field_lock(field_name)),
    )


def prepare_pdf(
    pdf_bytes: bytes,
    holder: Certified,
    *,
    field_name: str,
    reason: str,
    location: str,
    timestamped: bool = False,
    appearance: SignatureAppearance | None = None,
    signed_at: datetime.datetime | None = None,
) -> PreparedPdf:
    """Sign ``field_name`` for ``holder``'s certificate as an incremental update (earlier
    signatures stay valid), reserve the signature container's space
    (:func:`signature_reservation`) and compute what must be signed. Nothing is signed.

    The field is the document's empty field of that name (a rendered transcript has one per
    signer, at the official place), drawn with ``appearance`` (default: the field's layout with
    "Ký bởi: <the certificate's name>" and the time only); or, when the document has none, a
    new invisible field.
    ``signed_at`` (default: now) is the signature's time (/M) and the one its appearance shows:
    the preparation's, not the moment the value arrives."""
    signed_at = signed_at or datetime.datetime.now(datetime.UTC)
    stamp = stamp_style(
        appearance or appearance_for(field_name, {}),
        signer=common_name(holder.certificate),
        signed_at=signed_at,
    )
    adapter = PyHankoAdapter(holder, pades=True)
    pdf_signer = _pdf_signer(
        adapter, field_name=field_name, reason=reason, location=location, stamp=stamp
    )

    async def run() -> PreparedPdf:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
        # pyHanko's async_digest_doc_for_signing, with the signing time set (/M = appearance's)
        session = pdf_signer.init_signing_session(writer)
        session.system_time = signed_at
        tbs = session.prepare_tbs_document(
            validation_info=await session.perform_presign_validation(writer),
            bytes_reserved=signature_reservation(holder, timestamped=timestamped),
        )
        output = io.BytesIO()
        prepared, _written = tbs.digest_tbs_document(output=output)  # into ``output`` itself
        attributes_ = await adapter.signed_attrs(prepared.document_digest, "sha256", use_pades=True)
        return PreparedPdf(
            data=output.getvalue(),
            document_digest=prepared.document_digest,
            region=(prepared.reserved_region_start, prepared.reserved_region_end),
            signed_attributes=attributes_.dump(),
        )

    try:
        return run_coroutine(run())
    except SigningError:
        raise
    except Exception as exc:  # pyHanko raises many kinds on a damaged PDF
        raise SigningError(f"Cannot prepare the PDF for signing: {exc}") from exc


def finish_pdf(
    prepared: PreparedPdf,
    holder: Certified,
    value: bytes,
    *,
    timestamp_url: str | None = None,
    ltv: LtvSettings | LtvSession | None = None,
    last: bool = False,
) -> bytes:
    """Put the signature container with ``value`` (over :attr:`PreparedPdf.digest`) into the
    prepared PDF: B-B, or B-T with an RFC 3161 time-stamp over the value from
    ``timestamp_url`` (or ``ltv``'s authority). With ``ltv`` at B-LT or above, the revocation data
    of the signer's chain and of the time-stamp's authority follow in the DSS (an incremental
    update after the signature, :func:`~transcripts.signing.ltv.add_validation_data`); at B-LTA
    and ``last`` (no signature follows: the seal's), a document time-stamp closes the file.
    ``ltv``: a batch's :class:`~transcripts.signing.ltv.LtvSession` (its time-stamping client
    and revocation data shared by the batch's signatures), or settings for a session of this
    signature only. A value that does not verify against the certificate is refused; a step
    that fails raises SigningError and nothing is returned."""
    if not signature_digest_matches(holder, prepared.digest, value):
        raise SigningError("The signature value does not verify against the certificate")
    adapter = PyHankoAdapter(holder, pades=True, value=value)
    with session_for(ltv, timestamp_url=timestamp_url) as session:
        stamper = session.timestamper() if session is not None else None

        async def run() -> bytes:
            container = await adapter.async_sign_prescribed_attributes(
                "sha256",
                signed_attrs=cms.CMSAttributes.load(prepared.signed_attributes),
                timestamper=stamper,
            )
            output = io.BytesIO(prepared.data)
            await PdfTBSDocument.async_finish_signing(
                output,
                PreparedByteRangeDigest(
                    document_digest=prepared.document_digest,
                    reserved_region_start=prepared.region[0],
                    reserved_region_end=prepared.region[1],
                ),
                container,
            )
            return output.getvalue()

        try:
            signed = session.run(run()) if session is not None else run_coroutine(run())
        except SigningError:
            raise
        except Exception as exc:  # a container larger than the reservation, a TSA failure
            raise SigningError(f"Cannot finish the PDF signature: {exc}") from exc
        if session is None or not session.level >= PadesLevel.B_LT:
            return signed
        signed = add_validation_data(signed, ltv=session, extra=holder.chain)
        if last and session.level >= PadesLevel.B_LTA:
            signed = add_document_timestamp(signed, ltv=session)
        return signed


def sign_pdf(
    pdf_bytes: bytes,
    signer: Signer,
    *,
    field_name: str,
    reason: str,
    location: str,
    timestamp_url: str | None = None,
) -> bytes:
    """Add one PAdES signature (B-B; B-T with an RFC 3161 time-stamp when ``timestamp_url`` is
    given) in a new invisible field, as an incremental update: earlier signatures stay valid."""
    return sign_pdfs(
        [pdf_bytes],
        signer,
        field_name=field_name,
        reason=reason,
        location=location,
        timestamp_url=timestamp_url,
    )[0]


def sign_pdfs(
    pdfs: Sequence[bytes],
    signer: Signer,
    *,
    field_name: str,
    reason: str,
    location: str,
    timestamp_url: str | None = None,
) -> list[bytes]:
    """Sign several PDFs with one ``signer.sign_digests`` call (one remote authorisation):
    prepare them all, sign every digest at once, finish each."""
    prepared = [
        prepare_pdf(
            pdf,
            signer,
            field_name=field_name,
            reason=reason,
            location=location,
            timestamped=bool(timestamp_url),
        )
        for pdf in pdfs
    ]
    values = signer.sign_digests([p.digest for p in prepared])
    if len(values) != len(prepared):
        raise SigningError(f"Got {len(values)} signature values for {len(prepared)} documents")
    return [
        finish_pdf(p, signer, value, timestamp_url=timestamp_url)
        for p, value in zip(prepared, values, strict=True)
    ]


# --- CMS detached --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PreparedCms:
    """A detached CMS signature waiting for its value: the DER signed attributes (content type,
    message digest of the data, signing time, CMS algorithm protection); the signer signs
    :attr:`digest`."""

    signed_attributes: bytes

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.signed_attributes).digest()


def prepare_cms(data: bytes, holder: Certified) -> PreparedCms:
    """What a detached CMS signature over ``data`` by ``holder``'s certificate signs."""
    adapter = PyHankoAdapter(holder)
    attributes_ = run_coroutine(
        adapter.signed_attrs(
            hashlib.sha256(data).digest(), "sha256", is_pdf_sig=False, content_type="data"
        )
    )
    return PreparedCms(signed_attributes=attributes_.dump())


def finish_cms(
    prepared: PreparedCms,
    holder: Certified,
    value: bytes,
    *,
    timestamp_url: str | None = None,
    timeout: int = 10,
    ltv: LtvSession | None = None,
) -> bytes:
    """The DER CMS SignedData (detached) with ``value`` over :attr:`PreparedCms.digest` and the
    holder's certificate chain; with ``timestamp_url`` (or ``ltv``, a session whose
    time-stamping client it uses), an RFC 3161 signature time-stamp over the value as an
    unsigned attribute (CAdES-T). A value that does not verify is refused."""
    if not signature_digest_matches(holder, prepared.digest, value):
        raise SigningError("The signature value does not verify against the certificate")
    adapter = PyHankoAdapter(holder, value=value)
    with session_for(ltv, timestamp_url=timestamp_url, timeout=timeout) as session:
        finishing = adapter.async_sign_prescribed_attributes(
            "sha256",
            signed_attrs=cms.CMSAttributes.load(prepared.signed_attributes),
            timestamper=session.timestamper() if session is not None else None,
        )
        try:
            content_info = (
                session.run(finishing) if session is not None else run_coroutine(finishing)
            )
        except Exception as exc:  # the time-stamping authority failed
            raise SigningError(f"Cannot finish the CMS signature: {exc}") from exc
    der: bytes = content_info.dump()
    return der


def sign_cms_detached(data: bytes, signer: Signer) -> bytes:
    """A DER CMS SignedData over ``data`` (not embedded), with signed attributes (content type,
    message digest, signing time, algorithm protection) and the signer's certificate chain."""
    prepared = prepare_cms(data, signer)
    return finish_cms(prepared, signer, signer.sign_digest(prepared.digest))


# --- XAdES: prepared, then finished with a value obtained elsewhere -------------------------------


class _CapturingRsaKey(rsa.RSAPrivateKey):
    """Looks like a cryptography RSA private key to signxml; its ``sign`` records what signxml
    asks to sign (the canonical SignedInfo) and returns a placeholder of the right size, which
    :func:`finish_xml` replaces with the real value."""

    def __init__(self, holder: Certified) -> None:
        self._holder = holder
        self.signed_data: bytes | None = None

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:
        if not isinstance(padding, _PKCS1v15) or not isinstance(algorithm, hashes.SHA256):
            raise SigningError("XML signatures use RSA PKCS#1 v1.5 with SHA-256 only")
        self.signed_data = data
        return bytes(self.key_size // 8)

    def public_key(self) -> rsa.RSAPublicKey:
        return rsa_public_key(self._holder.certificate)

    @property
    def key_size(self) -> int:
        return self.public_key().key_size

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        raise SigningError("A signing key does not decrypt")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise SigningError("The private key is not available")

    def private_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        raise SigningError("The private key is not available")

    def __copy__(self) -> _CapturingRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _CapturingRsaKey:
        return self


_PKCS1v15 = padding.PKCS1v15


@dataclasses.dataclass(frozen=True)
class PreparedXml:
    """An XML document with one more XAdES signature whose SignatureValue is still empty:
    ``data`` is the whole document, ``digest`` the SHA-256 of the canonical SignedInfo (what the
    signer signs)."""

    data: bytes
    digest: bytes


def _parse(xml_bytes: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(xml_bytes, parser=parser)


def prepare_xml(
    xml_bytes: bytes,
    holder: Certified,
    *,
    reference_id: str,
    description: str = "Chữ ký số trên học bạ",
) -> PreparedXml:
    """Append one XAdES-BES signature for ``holder``'s certificate to the document's root
    element, referencing the element whose ``Id`` is ``reference_id`` (plus the signature's own
    SignedProperties and KeyInfo), with its value left to :func:`finish_xml`. ``description``
    says what the signature is (the signed DataObjectFormat's Description, in Vietnamese: it is
    part of the signed document).

    The referenced element must not be the root: signatures are its siblings, so a second
    signature leaves the first one's digest intact and any number of signatures coexist.

    KeyInfo carries the certificate chain (X509Data) and no bare KeyValue: a verifier that
    finds a bare key may check the signature with it and never look at the certificate, so
    a look-alike certificate from another CA would pass.
    """
    root = _parse(xml_bytes)
    if root.get("Id") == reference_id:
        raise SigningError(
            "The signed element must be a child of the root element, not the root itself, "
            "so that several signatures can be added next to it"
        )
    matches = root.xpath("//*[@Id=$id]", id=reference_id)
    if len(matches) != 1:
        raise SigningError(f"Expected exactly one element with Id={reference_id!r}")
    xades = XAdESSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        data_object_format=XAdESDataObjectFormat(Description=description, MimeType="text/xml"),
    )
    key = _CapturingRsaKey(holder)
    signature = xades.sign(
        root,
        key=key,
        cert=[holder.certificate, *holder.chain],
        reference_uri=f"#{reference_id}",
        always_add_key_value=False,
    )
    if key.signed_data is None:  # pragma: no cover - signxml always signs the SignedInfo
        raise SigningError("signxml produced no SignedInfo to sign")
    root.append(signature)
    return PreparedXml(
        data=etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
        digest=hashlib.sha256(key.signed_data).digest(),
    )


def finish_xml(
    prepared: PreparedXml,
    holder: Certified,
    value: bytes,
    *,
    timestamp_url: str | None = None,
    timeout: int = 10,
    ltv: LtvSettings | LtvSession | None = None,
) -> bytes:
    """Write ``value`` (over :attr:`PreparedXml.digest`) into the last signature's
    SignatureValue; a value that does not verify against the certificate is refused. With
    ``timestamp_url``, or ``ltv`` at B-T or above (a batch's session, or settings), the
    signature becomes XAdES-T (:func:`add_xades_timestamp`)."""
    if not signature_digest_matches(holder, prepared.digest, value):
        raise SigningError("The signature value does not verify against the certificate")
    root = _parse(prepared.data)
    signatures = root.findall(f"{{{DS_NS}}}Signature")
    if not signatures:
        raise SigningError("The prepared XML has no signature to finish")
    slot = signatures[-1].find(f"{{{DS_NS}}}SignatureValue")
    placeholder = base64.b64encode(bytes(len(value))).decode()
    if slot is None or "".join((slot.text or "").split()) != placeholder:
        raise SigningError("The prepared XML signature was changed or is already finished")
    slot.text = base64.b64encode(value).decode()
    finished: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with session_for(ltv, timestamp_url=timestamp_url, timeout=timeout) as session:
        if session is None:
            return finished
        return add_xades_timestamp(finished, ltv=session)


def sign_xml(xml_bytes: bytes, signer: Signer, *, reference_id: str) -> bytes:
    """Append one XAdES-BES signature signed at once by ``signer`` (see :func:`prepare_xml`)."""
    prepared = prepare_xml(xml_bytes, signer, reference_id=reference_id)
    return finish_xml(prepared, signer, signer.sign_digest(prepared.digest))


def xml_signature_count(xml_bytes: bytes) -> int:
    root = etree.fromstring(xml_bytes, parser=etree.XMLParser(resolve_entities=False))
    return len(root.findall(f"{{{DS_NS}}}Signature"))
