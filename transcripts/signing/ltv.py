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

The signatures of a batch share one :class:`LtvSession`: one time-stamping client and one HTTP
session, and the revocation data fetched for the first signature, used again for the others
while the responder says it is valid, so that a class of 45 transcripts fetches its signer
chain's OCSP answers and CRLs once, not 45 times.

Verification (:func:`transcripts.signing.pdf_validation.check_pdf`) reads it back and sorts
each signature into one of :data:`TIME_STATUSES`; :func:`xades_timestamp` checks an XML
signature's time-stamp.

Settings (docs/deployment.md): ``SIGNING_TSA_URL``, ``SIGNING_PADES_LEVEL``,
``SIGNING_REVOCATION``, ``SIGNING_FETCH_TIMEOUT``, ``SIGNING_VERIFY_ONLINE``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import enum
import hashlib
import io
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Any, TypeAlias, TypeVar

from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.fetchers.api import (
    CertificateFetcher,
    CRLFetcher,
    Fetchers,
    OCSPFetcher,
)
from pyhanko_certvalidator.policy_decl import FRESHNESS_FALLBACK_VALIDITY_DEFAULT
from pyhanko_certvalidator.util import issuer_serial

from transcripts.signing.certificates import load_trust_anchors
from transcripts.signing.pki import Revocation, run_coroutine, to_asn1, validation_context
from transcripts.signing.signers import SigningError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PadesLevel(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), in increasing order."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return list(PadesLevel).index(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PadesLevel):
            return NotImplemented
        return self.rank >= other.rank


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


def timestamper(url: str, *, timeout: int = 10) -> HTTPTimeStamper:
    """The RFC 3161 client of the time-stamping authority at ``url``."""
    return HTTPTimeStamper(url, timeout=timeout)


# --- a batch's session: one time-stamping client, the revocation data fetched once ---------------

#: Revocation data fetched for one signature of a session is used for the next ones while it is
#: valid — until its nextUpdate (an OCSP answer without one: pyHanko's 30 minutes, the validity
#: it gives such an answer when it validates) — less this margin: the time one transcript's
#: signature, validation data and time-stamps can take after the check.
REUSE_MARGIN = datetime.timedelta(minutes=1)


def _valid_until(
    this_update: datetime.datetime | None, next_update: datetime.datetime | None
) -> datetime.datetime | None:
    if next_update is not None:
        return next_update
    return this_update + FRESHNESS_FALLBACK_VALIDITY_DEFAULT if this_update is not None else None


def _ocsp_valid_until(response: ocsp.OCSPResponse) -> datetime.datetime | None:
    try:
        data = response["response_bytes"]["response"].parsed["tbs_response_data"]
        ends = [
            _valid_until(single["this_update"].native, single["next_update"].native)
            for single in data["responses"]
        ]
    except (KeyError, ValueError, TypeError):  # not a successful response: do not keep it
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
    known = [end for end in ends if end is not None]
    return min(known) if known else None


def _crl_valid_until(certificate_list: crl.CertificateList) -> datetime.datetime | None:
    tbs = certificate_list["tbs_cert_list"]
    return _valid_until(tbs["this_update"].native, tbs["next_update"].native)


#: What pyHanko's fetchers are asked about: a certificate, or an attribute certificate.
_Certificate: TypeAlias = asn1_x509.Certificate | cms.AttributeCertificateV2


class _Failures:
    """Set when a fetch failed during an operation: pyHanko's fetchers remember a failure like an
    answer, so the session's fetchers are dropped after it and the next operation asks again."""

    failed = False


class _OcspView(OCSPFetcher):
    """One operation's view of the session's OCSP fetcher: fetches through it (answers fetched
    for an earlier operation come from its cache) and shows the operation only the answers it
    asked for, so that what a signature's DSS receives is what its own validation used."""

    def __init__(self, shared: OCSPFetcher, failures: _Failures) -> None:
        self._shared, self._failures = shared, failures
        self._used: dict[Any, ocsp.OCSPResponse] = {}

    async def fetch(self, cert: _Certificate, authority: Authority) -> ocsp.OCSPResponse:
        try:
            response = await self._shared.fetch(cert, authority)
        except Exception:
            self._failures.failed = True
            raise
        self._used[(issuer_serial(cert), authority.hashable)] = response
        return response

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return list(self._used.values())

    def fetched_responses_for_cert(self, cert: _Certificate) -> Iterable[ocsp.OCSPResponse]:
        wanted = issuer_serial(cert)
        return [response for (key, _), response in self._used.items() if key == wanted]


class _CrlView(CRLFetcher):
    """One operation's view of the session's CRL fetcher (see :class:`_OcspView`)."""

    def __init__(self, shared: CRLFetcher, failures: _Failures) -> None:
        self._shared, self._failures = shared, failures
        self._used: dict[bytes, list[crl.CertificateList]] = {}

    async def fetch(
        self, cert: _Certificate, *, use_deltas: bool = True
    ) -> Iterable[crl.CertificateList]:
        try:
            lists = list(await self._shared.fetch(cert, use_deltas=use_deltas))
        except Exception:
            self._failures.failed = True
            raise
        self._used[issuer_serial(cert)] = lists
        return lists

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        unique = {c.dump(): c for lists in self._used.values() for c in lists}
        return list(unique.values())

    def fetched_crls_for_cert(self, cert: _Certificate) -> Iterable[crl.CertificateList]:
        return self._used[issuer_serial(cert)]  # KeyError: not asked for in this operation


class _CertificateView(CertificateFetcher):
    """One operation's view of the session's fetcher of issuer certificates (AIA)."""

    def __init__(self, shared: CertificateFetcher, failures: _Failures) -> None:
        self._shared, self._failures = shared, failures
        self._used: list[asn1_x509.Certificate] = []

    async def _through(
        self, fetched: AsyncIterator[asn1_x509.Certificate]
    ) -> AsyncGenerator[asn1_x509.Certificate, None]:
        try:
            async for certificate in fetched:
                self._used.append(certificate)
                yield certificate
        except Exception:
            self._failures.failed = True
            raise

    def fetch_cert_issuers(self, cert: _Certificate) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._through(self._shared.fetch_cert_issuers(cert))

    def fetch_crl_issuers(
        self, certificate_list: crl.CertificateList
    ) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._through(self._shared.fetch_crl_issuers(certificate_list))

    def fetched_certs(self) -> Iterable[asn1_x509.Certificate]:
        return list(self._used)


class LtvSession:
    """What the signatures of one batch (one signer) share for their time-stamps and validation
    data: one RFC 3161 client, one HTTP session on one event loop, and the revocation data
    fetched (OCSP answers, CRLs, issuer certificates).

    Each operation (:func:`add_validation_data`, :func:`add_document_timestamp`, ...) validates
    with a new ValidationContext as of its own time — a context's time is fixed when it is made,
    and pyHanko refuses revocation data issued after it — on the session's fetchers, whose
    cache keeps what was fetched: the first transcript of a batch fetches its signer chain's
    OCSP answers and CRLs, the others use the same answers while they are valid
    (:data:`REUSE_MARGIN`); then they are fetched again. Each operation's DSS receives exactly
    the data its own validation used. A failed fetch is never reused (the fetchers are dropped
    after it), and an operation that fails with data fetched for an earlier one is run once
    more with data fetched afresh, so a session never makes a signature fail that a fresh
    fetch would have let through.

    ``moment``: validate as of then, not now (archive time-stamps in tests travelling in time).
    One thread at a time; close it (or use it as a context manager).
    """

    def __init__(self, settings: LtvSettings, *, moment: datetime.datetime | None = None) -> None:
        self.settings = settings
        self.moment = moment
        self._roots = [to_asn1(c) for c in settings.trust_anchors]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http = LazySession()  # type: ignore[no-untyped-call]  # unannotated in pyHanko
        self._backend = AIOHttpFetcherBackend(
            self._http,  # type: ignore[arg-type]  # a LazySession is what it makes by default
            per_request_timeout=settings.timeout,
        )
        self._shared: Fetchers | None = None
        self._reusable_until: datetime.datetime | None = None
        self._stamper: HTTPTimeStamper | None = None
        #: How many times revocation data was started afresh (the first fetch included).
        self.fetcher_generations = 0

    @classmethod
    def from_settings(cls, *, moment: datetime.datetime | None = None) -> LtvSession:
        return cls(LtvSettings.from_settings(), moment=moment)

    def __enter__(self) -> LtvSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def timestamp_url(self) -> str | None:
        """The time-stamping authority, when the level asks for time-stamps (B-T and up)."""
        return self.settings.timestamp_url if self.settings.timestamped else None

    @property
    def level(self) -> PadesLevel:
        return self.settings.level if self.timestamp_url else PadesLevel.B_B

    @property
    def timeout(self) -> int:
        return self.settings.timeout

    def timestamper(self) -> HTTPTimeStamper | None:
        """The session's client of the time-stamping authority (it keeps the authority's
        certificates and the size of its answers), None below B-T."""
        url = self.timestamp_url
        if url is None:
            return None
        if self._stamper is None:
            self._stamper = HTTPTimeStamper(url, timeout=self.timeout, session=self._http)
        return self._stamper

    def run(self, coroutine: Awaitable[T]) -> T:
        """Run ``coroutine`` on the session's event loop (made on first use)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def _now(self) -> datetime.datetime:
        return self.moment or datetime.datetime.now(datetime.UTC)

    def _fetchers(self) -> tuple[Fetchers, bool]:
        """The session's fetchers, and whether they hold data fetched for earlier operations;
        new ones (an empty cache) when there are none yet or their data is no longer valid."""
        reusable = self._reusable_until is None or self._now() + REUSE_MARGIN < self._reusable_until
        if self._shared is None or not reusable:
            self._shared = self._backend.get_fetchers()
            self._reusable_until = None
            self.fetcher_generations += 1
            return self._shared, False
        return self._shared, True

    def forget(self) -> None:
        """Drop the revocation data fetched so far: the next operation fetches afresh."""
        self._shared = None
        self._reusable_until = None

    def _context(
        self, extra: Sequence[x509.Certificate], failures: _Failures
    ) -> tuple[ValidationContext, bool]:
        fetching = self.settings.revocation != Revocation.OFF
        mode = "require" if self.settings.revocation == Revocation.REQUIRE else "soft-fail"
        views, reused = None, False
        if fetching:
            shared, reused = self._fetchers()
            views = Fetchers(
                ocsp_fetcher=_OcspView(shared.ocsp_fetcher, failures),
                crl_fetcher=_CrlView(shared.crl_fetcher, failures),
                cert_fetcher=_CertificateView(shared.cert_fetcher, failures),
            )
        context = ValidationContext(
            trust_roots=self._roots,
            other_certs=[to_asn1(c) for c in extra],
            allow_fetching=fetching,
            revocation_mode=mode,
            fetchers=views,
            moment=self.moment,
        )
        return context, reused

    def _kept(self, failures: _Failures) -> None:
        """After an operation: drop the fetchers if a fetch failed; otherwise note until when
        their data may be used again (the earliest end of validity of what they hold)."""
        if failures.failed or self._shared is None:
            self.forget()
            return
        ends = [_ocsp_valid_until(r) for r in self._shared.ocsp_fetcher.fetched_responses()]
        ends += [_crl_valid_until(c) for c in self._shared.crl_fetcher.fetched_crls()]
        known = [end for end in ends if end is not None]
        self._reusable_until = min(known) if known else None

    def validate(
        self,
        operation: Callable[[ValidationContext], Awaitable[T]],
        *,
        extra: Sequence[x509.Certificate] = (),
    ) -> T:
        """Run ``operation`` with a validation context as of now on the session's revocation
        data (``extra``: certificates that may be needed to build paths). When it fails with
        data fetched for an earlier operation, it runs once more with data fetched afresh."""
        failures = _Failures()
        context, reused = self._context(extra, failures)
        try:
            result = self.run(operation(context))
        except Exception:
            self.forget()
            if not reused:
                raise
            logger.info("retrying with revocation data fetched afresh", exc_info=True)
            failures = _Failures()
            context, _reused = self._context(extra, failures)
            try:
                result = self.run(operation(context))
            except Exception:
                self.forget()
                raise
        self._kept(failures)
        return result

    def close(self) -> None:
        """Close the HTTP session and the event loop; the revocation data is dropped."""
        self.forget()
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            loop.run_until_complete(self._http.close())  # type: ignore[no-untyped-call]  # idem
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


@contextlib.contextmanager
def session_for(
    ltv: LtvSettings | LtvSession | None,
    *,
    timestamp_url: str | None = None,
    timeout: int = 10,
) -> Iterator[LtvSession | None]:
    """The session an operation uses: ``ltv`` itself when it is one (left open: the batch's);
    otherwise a session for this operation only, closed after it — from the settings ``ltv``,
    or, without them, time-stamps only from ``timestamp_url`` (B-T; ``timestamp_url`` with
    settings: that authority rather than theirs). None when there is nothing to add (no
    time-stamping authority)."""
    if isinstance(ltv, LtvSession):
        if timestamp_url and timestamp_url != ltv.timestamp_url:
            raise ValueError("timestamp_url differs from the session's time-stamping authority")
        yield ltv if ltv.timestamp_url else None  # below B-T a batch's session adds nothing
        return
    settings = ltv or LtvSettings(PadesLevel.B_B, None, Revocation.OFF, timeout)
    if timestamp_url:
        level = settings.level if settings.timestamped else PadesLevel.B_T
        settings = dataclasses.replace(settings, timestamp_url=timestamp_url, level=level)
    if not (settings.timestamped and settings.timestamp_url):
        yield None
        return
    with LtvSession(settings) as session:
        yield session


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=False)


# --- signing: B-LT and B-LTA after a signature is in -------------------------------------------


def add_validation_data(
    pdf: bytes, *, ltv: LtvSession, extra: Sequence[x509.Certificate] = ()
) -> bytes:
    """B-LT: the revocation data (OCSP / CRL) and certificates of the last signature's chain and
    of its time-stamp's authority, added to the DSS in an incremental update: fetched now, or
    the session's, fetched for an earlier signature of the batch and still valid (``extra``:
    the signer's chain, for building the path). Raises SigningError when the chain does not
    validate or, with revocation ``require``, when the revocation data cannot be obtained (the
    signature is then not stored)."""
    from pyhanko.sign.validation import async_add_validation_info

    async def run(context: ValidationContext) -> bytes:
        reader = _reader(pdf)
        signature = reader.embedded_regular_signatures[-1]
        output = io.BytesIO()
        await async_add_validation_info(signature, context, add_vri_entry=False, output=output)
        return output.getvalue()

    try:
        return ltv.validate(run, extra=extra)
    except Exception as exc:  # path building, fetch failures, a revoked certificate
        raise SigningError(f"Cannot add the validation data (B-LT): {exc}") from exc


def add_document_timestamp(pdf: bytes, *, ltv: LtvSession) -> bytes:
    """B-LTA: a document time-stamp from the session's authority over the whole file (an
    incremental update), with the validation data of the authority's certificate added."""
    from pyhanko.sign.signers import PdfTimeStamper

    stamper = ltv.timestamper()
    if stamper is None:
        raise SigningError("A document time-stamp needs a time-stamping authority")

    async def run(context: ValidationContext) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        output = io.BytesIO()
        await PdfTimeStamper(stamper).async_timestamp_pdf(
            writer, "sha256", validation_context=context, output=output
        )
        return output.getvalue()

    try:
        return ltv.validate(run)
    except Exception as exc:
        raise SigningError(f"Cannot add the document time-stamp (B-LTA): {exc}") from exc


def extend_archive_timestamp(pdf: bytes, *, ltv: LtvSession) -> bytes:
    """A fresh archive time-stamp from the session's authority: the validation data of the last
    document time-stamp (its authority's certificate, still valid now) into the DSS, then a new
    document time-stamp over everything. A file without a document time-stamp gets the
    validation data of each signature first (best effort: what can be fetched now), then its
    first document time-stamp."""
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.validation import async_add_validation_info

    stamper = ltv.timestamper()
    if stamper is None:
        raise SigningError("An archive time-stamp needs a time-stamping authority")

    async def run(context: ValidationContext) -> bytes:
        data = pdf
        reader = _reader(data)
        if not reader.embedded_timestamp_signatures:
            for index in range(len(reader.embedded_regular_signatures)):
                signature = _reader(data).embedded_regular_signatures[index]
                out = io.BytesIO()
                try:
                    await async_add_validation_info(
                        signature, context, add_vri_entry=False, output=out
                    )
                except Exception as exc:  # an expired or revoked certificate: nothing to add
                    logger.warning("no validation data for signature %s: %s", index, exc)
                    ltv.forget()  # whatever failed is asked again for the next file
                    continue
                data = out.getvalue()
        output = io.BytesIO()
        await PdfTimeStamper(stamper).async_update_archival_timestamp_chain(
            _reader(data), context, in_place=False, output=output
        )
        return output.getvalue()

    try:
        return ltv.validate(run)
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


def add_xades_timestamp(xml_bytes: bytes, *, ltv: LtvSession) -> bytes:
    """Make the document's last XAdES signature XAdES-T: an RFC 3161 time-stamp from the
    session's authority over its canonical ds:SignatureValue, as a ``xades:SignatureTimeStamp`` in
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
    stamper = ltv.timestamper()
    if stamper is None:
        raise SigningError("XAdES-T needs a time-stamping authority")
    try:
        token = ltv.run(stamper.async_timestamp(digest, "sha256"))
    except Exception as exc:
        raise SigningError(f"The time-stamping authority failed: {exc}") from exc
    unsigned = etree.SubElement(qualifying, f"{{{XADES_NS}}}UnsignedProperties")
    properties = etree.SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
    stamp = etree.SubElement(properties, f"{{{XADES_NS}}}SignatureTimeStamp")
    stamp.set("Id", f"{signature.get('Id') or 'signature'}-timestamp")
    etree.SubElement(stamp, f"{{{DS_NS}}}CanonicalizationMethod").set("Algorithm", C14N_10)
    encapsulated = etree.SubElement(stamp, f"{{{XADES_NS}}}EncapsulatedTimeStamp")
    encapsulated.text = base64.b64encode(token.dump()).decode()
    stamped: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return stamped


def xades_timestamp(
    signature: etree._Element, anchors: Sequence[x509.Certificate]
) -> datetime.datetime | None:
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
        matches, moment = run_coroutine(_trusted_tst(token["content"], digest, anchors))
    except Exception as exc:
        raise SigningError(f"The signature time-stamp cannot be checked: {exc}") from exc
    if not matches:
        raise SigningError("The signature time-stamp does not match this signature")
    return moment


async def _trusted_tst(
    signed_data: cms.SignedData, digest: bytes, anchors: Sequence[x509.Certificate]
) -> tuple[bool, datetime.datetime]:
    """Whether the time-stamp token is intact and valid for ``digest``, and the time it states;
    its authority's certificate validated (path to ``anchors``, time-stamping usage) as of
    that time."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import CertificateValidator

    if not anchors:
        raise SigningError("No trusted certification authority is configured")
    roots = [to_asn1(c) for c in anchors]
    status = await validate_tst_signed_data(
        signed_data, ValidationContext(trust_roots=roots), lambda _: digest
    )
    moment: datetime.datetime = status["timestamp"]
    certs = extract_certificate_info(signed_data)
    context = ValidationContext(trust_roots=roots, moment=moment)
    validator = CertificateValidator(
        certs.signer_cert, intermediate_certs=certs.other_certs, validation_context=context
    )
    await validator.async_validate_usage(  # type: ignore[no-untyped-call]  # unannotated in pyHanko
        set(), extended_key_usage={"time_stamping"}
    )
    return bool(status["intact"] and status["valid"]), moment
