"""Signature formats: PAdES on PDFs (pyHanko), XAdES-BES on XML (signxml), CMS detached (pyHanko).

All three ask a :class:`~transcripts.signing.signers.Signer` for the raw RSA value of a SHA-256
digest, so PKCS#12, PKCS#11 and remote (CSC) backends work for every format. Functions take and
return bytes.

A PAdES signature builds its CMS container once (:func:`signature_reservation`) and its signed
attributes without re-encoding them (:class:`_PadesSignedAttributes`): 54-58 → 10 ms per
signature of a 40 KB transcript with the demo certificates (issue 7, bench/render_sign.py).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import Any

from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import attributes, fields, signers
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers.pdf_cms import Signer as PyHankoSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.xades import XAdESSigner

from transcripts.signing.signers import Signer, SigningError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"

#: DER bytes a PAdES signature container needs beyond its certificates and signature value: the
#: signed attributes (content type, message digest, signing-certificate-v2 with the issuer's
#: name), the signer info (issuer name and serial again, algorithms) and the SignedData framing.
#: 0.5 KB with the demo certificates; 4 KB leaves room for long issuer names and serials.
CMS_OVERHEAD_BYTES = 4096
#: An RFC 3161 time-stamp token (PAdES B-T, an unsigned attribute) is the time-stamping
#: authority's own SignedData, usually with its certificate chain: 2-6 KB from public TSAs.
TIMESTAMP_TOKEN_BYTES = 16384


@functools.lru_cache(maxsize=256)
def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """Parsed once per certificate: asn1crypto re-serialises parsed certificates slowly."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@functools.lru_cache(maxsize=256)
def _signing_certificate_v2(cert: x509.Certificate) -> tsp.SigningCertificateV2:
    """pyHanko's signing-certificate-v2 value for ``cert``, built once and parsed back from DER.

    asn1crypto re-encodes a freshly built value every time an enclosing value reads its bytes,
    and reads them two or three times per level, so this nested value was encoded hundreds of
    times per signature (~12 ms); a parsed value keeps its bytes."""
    return tsp.SigningCertificateV2.load(as_signing_certificate_v2(_to_asn1(cert)).dump())


def signature_reservation(signer: Signer, *, timestamped: bool) -> int:
    """The space reserved in the PDF for one PAdES signature container, in hex digits (two per
    DER byte): the certificates embedded (the signer's and its chain, whole), the signature
    value, :data:`CMS_OVERHEAD_BYTES` and, with a time-stamp, :data:`TIMESTAMP_TOKEN_BYTES`.

    Without it pyHanko builds the whole container once more, as a dry run, only to measure it.
    A container larger than the reservation makes pyHanko raise before it returns anything, so
    a too small reservation fails the signature and never yields a broken document."""
    certificates = [signer.certificate, *signer.chain]
    der = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in certificates)
    der += signer.key_size // 8 + CMS_OVERHEAD_BYTES
    if timestamped:
        der += TIMESTAMP_TOKEN_BYTES
    return 2 * der


def _run(coroutine):
    """Run ``coroutine`` to completion on a new event loop.

    Not asyncio.run: in the main thread it installs a SIGINT handler, and on Python 3.11
    taking it down again formats the repr of the finished task, result included (every
    signed PDF as a bytes literal; for a CMS, asn1crypto re-encoding the whole structure)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class _DigestBatch:
    """Collects the digests of several concurrent pyHanko signing coroutines and signs them with
    one ``sign_digests`` call (one CSC authorisation for a batch of PDFs)."""

    def __init__(self, signer: Signer, expected: int) -> None:
        self._signer = signer
        self._expected = expected
        self._pending: list[tuple[bytes, asyncio.Future[bytes]]] = []

    async def sign(self, digest: bytes) -> bytes:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending.append((digest, future))
        self._flush_if_complete()
        return await future

    def forfeit(self) -> None:
        """A document failed before asking for its signature: do not wait for it."""
        self._expected -= 1
        self._flush_if_complete()

    def _flush_if_complete(self) -> None:
        if not self._pending or len(self._pending) < self._expected:
            return
        pending, self._pending = self._pending, []
        self._expected -= len(pending)
        try:
            values = self._signer.sign_digests([digest for digest, _ in pending])
        except Exception as exc:
            for _, future in pending:
                future.set_exception(exc)
            return
        for (_, future), value in zip(pending, values, strict=True):
            future.set_result(value)


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


class PyHankoAdapter(PyHankoSigner):
    """A pyHanko signer whose raw signature comes from one of our :class:`Signer` backends.

    With ``pades=True`` it only makes PAdES signatures, whose signed attributes it builds
    faster (:class:`_PadesSignedAttributes`)."""

    def __init__(
        self, signer: Signer, *, batch: _DigestBatch | None = None, pades: bool = False
    ) -> None:
        # pyHanko embeds the registry's certificates and the signing certificate: a registry
        # holding the signing certificate too embedded it twice (~1 KB per signature).
        chain = [_to_asn1(c) for c in signer.chain if c != signer.certificate]
        super().__init__(
            signing_cert=_to_asn1(signer.certificate),
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            embed_roots=True,
        )
        self._signer = signer
        self._batch = batch
        if pades:
            self.signed_attr_prov_spec = _PadesSignedAttributes(signer.certificate)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False):
        if digest_algorithm != "sha256":
            raise SigningError(f"Only sha256 is supported, not {digest_algorithm!r}")
        if dry_run:  # pyHanko sizes the signature container with a placeholder
            return bytes(self._signer.key_size // 8)
        digest = hashlib.sha256(data).digest()
        if self._batch is not None:
            return await self._batch.sign(digest)
        return self._signer.sign_digest(digest)


# --- PAdES ---------------------------------------------------------------------------------------


def _pdf_signer(
    adapter: PyHankoAdapter,
    *,
    field_name: str,
    reason: str,
    location: str,
    timestamp_url: str | None,
) -> signers.PdfSigner:
    timestamper = None
    if timestamp_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(timestamp_url)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        use_pades_lta=False,
    )
    return signers.PdfSigner(meta, signer=adapter, timestamper=timestamper)


async def _sign_pdf_async(
    pdf_bytes: bytes, pdf_signer: signers.PdfSigner, *, bytes_reserved: int
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = await pdf_signer.async_sign_pdf(
        writer, bytes_reserved=bytes_reserved, output=io.BytesIO()
    )
    return output.getvalue()


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
    """Sign several PDFs with one ``signer.sign_digests`` call (one remote authorisation).

    All documents are prepared concurrently; the first failure is raised after the others are
    done."""

    reserved = signature_reservation(signer, timestamped=bool(timestamp_url))

    async def run() -> list[bytes | BaseException]:
        batch = _DigestBatch(signer, len(pdfs))

        async def one(pdf: bytes) -> bytes:
            adapter = PyHankoAdapter(signer, batch=batch, pades=True)
            pdf_signer = _pdf_signer(
                adapter,
                field_name=field_name,
                reason=reason,
                location=location,
                timestamp_url=timestamp_url,
            )
            asked = False
            original = adapter.async_sign_raw

            async def tracking(data: bytes, digest_algorithm: str, dry_run: bool = False):
                nonlocal asked
                asked = asked or not dry_run
                return await original(data, digest_algorithm, dry_run)

            adapter.async_sign_raw = tracking  # type: ignore[method-assign]
            try:
                return await _sign_pdf_async(pdf, pdf_signer, bytes_reserved=reserved)
            except BaseException:
                if not asked:
                    batch.forfeit()
                raise

        return await asyncio.gather(*(one(pdf) for pdf in pdfs), return_exceptions=True)

    results = _run(run())
    for result in results:
        if isinstance(result, BaseException):
            if isinstance(result, SigningError):
                raise result
            raise SigningError(f"Cannot sign the PDF: {result}") from result
    return results  # type: ignore[return-value]


# --- CMS detached --------------------------------------------------------------------------------


def sign_cms_detached(data: bytes, signer: Signer) -> bytes:
    """A DER CMS SignedData over ``data`` (not embedded), with signed attributes (content type,
    message digest, signing time, algorithm protection) and the signer's certificate chain."""
    adapter = PyHankoAdapter(signer)
    content_info = _run(adapter.async_sign_general_data(data, "sha256", detached=True))
    return content_info.dump()


# --- XAdES ---------------------------------------------------------------------------------------


class _DelegatingRsaKey(rsa.RSAPrivateKey):
    """Looks like a cryptography RSA private key to signxml, but its ``sign`` asks our Signer
    (any backend) for the value. Only PKCS#1 v1.5 with SHA-256 is accepted."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:  # type: ignore[override]
        if not isinstance(padding, _PKCS1v15) or not isinstance(algorithm, hashes.SHA256):
            raise SigningError("XML signatures use RSA PKCS#1 v1.5 with SHA-256 only")
        return self._signer.sign_digest(hashlib.sha256(data).digest())

    def public_key(self) -> rsa.RSAPublicKey:
        return self._signer.certificate.public_key()  # type: ignore[return-value]

    @property
    def key_size(self) -> int:
        return self._signer.key_size

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        raise SigningError("A signing key does not decrypt")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise SigningError("The private key is not available")

    def private_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        raise SigningError("The private key is not available")

    def __copy__(self) -> _DelegatingRsaKey:
        return self

    def __deepcopy__(self, memo: dict) -> _DelegatingRsaKey:
        return self


_PKCS1v15 = padding.PKCS1v15


def sign_xml(xml_bytes: bytes, signer: Signer, *, reference_id: str) -> bytes:
    """Append one XAdES-BES signature to the document's root element, referencing the element
    whose ``Id`` is ``reference_id`` (plus the signature's own SignedProperties and KeyInfo).

    The referenced element must not be the root: signatures are its siblings, so a second
    signature leaves the first one's digest intact and any number of signatures coexist.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    root = etree.fromstring(xml_bytes, parser=parser)
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
    )
    signature = xades.sign(
        root,
        key=_DelegatingRsaKey(signer),
        cert=[signer.certificate, *signer.chain],
        reference_uri=f"#{reference_id}",
    )
    root.append(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def xml_signature_count(xml_bytes: bytes) -> int:
    root = etree.fromstring(xml_bytes, parser=etree.XMLParser(resolve_entities=False))
    return len(root.findall(f"{{{DS_NS}}}Signature"))
