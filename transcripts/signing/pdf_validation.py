"""Validate every signature of a signed PDF for the long term: is it intact, does it chain to a
trust anchor, and what can be said about **when** it was made (:data:`ltv.TIME_STATUSES`).

Built from pyHanko's AdES building blocks (ETSI EN 319 102-1):

1. every document time-stamp must cover exactly its bytes (a changed DSS or revision breaks it);
2. each signature is validated **now** with time (§5.5: its own time-stamp as the proof of
   existence), the revocation data of the DSS known and, when allowed, fresh data fetched: a
   certificate revoked after the time-stamp leaves the signature valid (with the revocation
   shown), one revoked before makes it invalid;
3. when that cannot conclude — the signer's certificate has expired, or its revocation data in
   the DSS is past its nextUpdate and nothing fresh can be fetched — the **evidence record** is
   used: the chain of document time-stamps after the signature is checked link by link (the
   newest now, each earlier one at the time of the next, its authority's revocation data from
   the DSS revisions before that), and the signature is validated again as of the oldest
   link's time, with the DSS as it was then. That is what a B-LTA file is for: a transcript
   stays verifiable after every certificate in it has expired, as long as
   ``manage.py extend_signatures`` keeps the newest time-stamp's certificate valid.

pyHanko's own §5.6.3 procedure (``ades_lta_validation``) is not used: in pyHanko 0.38 it reports
a stale CRL of an intermediate CA as a chain failure instead of trying past validation, and its
time slide cannot establish proof of existence for the CA certificates of a signature whose
certificate has expired (measured with the certomancer test PKI, docs/signing.md).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import logging
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, NamedTuple

from asn1crypto import crl, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator import ValidationContext

from transcripts.signing.ltv import INDETERMINATE, REVOKED, TIMESTAMPED, VALID_NOW
from transcripts.signing.pki import run_validation, to_asn1

if TYPE_CHECKING:  # pyHanko's validation modules are imported where they are used
    from pyhanko.sign.validation.ades import AdESBasicValidationResult
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.policy_decl import LocalKnowledge, SignatureValidationSpec
    from pyhanko.sign.validation.status import StandardCMSSignatureStatus
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

logger = logging.getLogger(__name__)

#: Revocation data of the newest time-stamp's authority accepted offline however old.
ANY_AGE = datetime.timedelta(days=365 * 200)


@dataclasses.dataclass(frozen=True)
class SignatureCheck:
    """One PDF signature: ``status`` one of :data:`ltv.TIME_STATUSES`; ``signed_at`` the proven
    time of the signature (its time-stamp, else the evidence record's) or, without proof, the
    time the signer's computer claimed; ``revoked_at`` the signer certificate's revocation,
    when the validation learnt of one."""

    field_name: str
    signing_cert: asn1_x509.Certificate
    status: str
    signed_at: datetime.datetime | None
    timestamped: bool
    revoked_at: datetime.datetime | None = None
    detail: str = ""


class PdfCheckFailed(Exception):
    """The PDF's signatures cannot be accepted at all; ``kind``: "unreadable", "unsigned",
    "changed" (a signature or document time-stamp does not match the bytes it covers),
    "untrusted" (no path to a trust anchor)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=False)


def _spec(
    anchors: Sequence[x509.Certificate], *, online: bool, known: LocalKnowledge
) -> SignatureValidationSpec:
    """Revocation checked wherever a certificate declares a CRL or OCSP responder, from
    ``known`` (the DSS) and online only when ``online``. A time-stamping authority's data is
    checked where it can be had and tolerated where it cannot."""
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    trust = SimpleTrustManager.build(trust_roots=[to_asn1(c) for c in anchors])

    def policy(rule: RevocationCheckingRule) -> CertValidationPolicySpec:
        return CertValidationPolicySpec(
            trust_manager=trust,
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule)),
        )

    online_rule = (
        RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
        if online
        else RevinfoOnlineFetchingRule.LOCAL_ONLY
    )
    return SignatureValidationSpec(
        cert_validation_policy=policy(RevocationCheckingRule.CHECK_IF_DECLARED),
        ts_cert_validation_policy=policy(RevocationCheckingRule.CHECK_IF_DECLARED_SOFT),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=online_rule,
            certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
        ),
        local_knowledge=known,
    )


class _DssContents(NamedTuple):
    """The certificates, CRLs and OCSP responses of a PDF's Document Security Store."""

    certs: list[asn1_x509.Certificate]
    crls: list[crl.CertificateList]
    ocsps: list[ocsp.OCSPResponse]


def _dss_contents(reader: PdfFileReader) -> _DssContents:
    """The certificates, CRLs and OCSP responses of the PDF's Document Security Store."""
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _DssContents([], [], [])
    ocsps = [
        ocsp.OCSPResponse.load(s.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
        for s in dss.ocsps
    ]
    crls = [crl.CertificateList.load(s.get_object().read_data(DecodePurpose.CRL)) for s in dss.crls]
    return _DssContents(list(dss.load_certs()), crls, ocsps)


def _knowledge(contents: _DssContents) -> LocalKnowledge:
    from pyhanko.sign.validation.policy_decl import LocalKnowledge
    from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

    certs, crls, ocsps = contents
    return LocalKnowledge(
        known_ocsps=[c for response in ocsps for c in OCSPContainer.load_multi(response)],
        known_crls=[CRLContainer(c) for c in crls],
        known_certs=certs,
    )


def check_pdf(
    pdf: bytes,
    *,
    anchors: Sequence[x509.Certificate],
    online: bool = False,
    moment: datetime.datetime | None = None,
) -> list[SignatureCheck]:
    """Validate every signature (not the document time-stamps, which are their evidence) of
    ``pdf`` as of ``moment`` (default now). Raises :class:`PdfCheckFailed` when the file cannot
    be read, has no signature, a signature or a document time-stamp does not match the bytes it
    covers, or a signer has no path to ``anchors``."""
    if not anchors:
        raise PdfCheckFailed("untrusted", "no trust anchors")
    try:
        reader = _reader(pdf)
        signatures = list(reader.embedded_regular_signatures)
        stamps = list(reader.embedded_timestamp_signatures)
    except Exception as exc:  # pyHanko raises many kinds of errors on malformed input
        raise PdfCheckFailed("unreadable", str(exc)) from exc
    if not signatures:
        raise PdfCheckFailed("unsigned")
    for stamp in stamps:
        _check_document_timestamp(stamp, anchors)
    moment = moment or datetime.datetime.now(datetime.UTC)
    contents = _dss_contents(reader)
    spec = _spec(anchors, online=online, known=_knowledge(contents))
    checks = []
    for signature in signatures:
        later = [s for s in stamps if s.signed_revision > signature.signed_revision]
        evidence = _Evidence(later, contents, anchors, moment, online)
        checks.append(_check_signature(signature, spec, moment, evidence))
    return checks


@dataclasses.dataclass
class _Evidence:
    """The document time-stamps after a signature and what checking them needs."""

    stamps: list[EmbeddedPdfSignature]
    dss: _DssContents
    anchors: Sequence[x509.Certificate]
    moment: datetime.datetime
    online: bool


def _check_document_timestamp(
    stamp: EmbeddedPdfSignature, anchors: Sequence[x509.Certificate]
) -> None:
    from pyhanko.sign.validation import async_validate_pdf_timestamp

    context = ValidationContext(trust_roots=[to_asn1(c) for c in anchors], allow_fetching=False)
    try:
        status = run_validation(async_validate_pdf_timestamp(stamp, context), context)
    except Exception as exc:
        raise PdfCheckFailed("changed", f"document time-stamp: {exc}") from exc
    if not (status.intact and status.valid) or status.coverage is None:
        raise PdfCheckFailed("changed", "a document time-stamp does not match the file")


def _timing(moment: datetime.datetime, *, past: bool) -> ValidationTimingInfo:
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    return ValidationTimingInfo(moment, moment, point_in_time_validation=past)


def _validate(
    signature: EmbeddedPdfSignature,
    spec: SignatureValidationSpec,
    timing: ValidationTimingInfo,
) -> Coroutine[object, None, AdESBasicValidationResult[StandardCMSSignatureStatus]]:
    """§5.5 (validation with time) when the signature has a time-stamp, §5.3 otherwise."""
    from pyhanko.sign.general import extract_signer_info
    from pyhanko.sign.validation.ades import ades_basic_validation, ades_with_time_validation
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    signed_data, digest = signature.signed_data, signature.compute_digest()
    if any(extract_tst_data_iter(extract_signer_info(signed_data), signed=False)):
        return ades_with_time_validation(signed_data, spec, timing_info=timing, raw_digest=digest)
    return ades_basic_validation(signed_data, spec, timing_info=timing, raw_digest=digest)


def _check_signature(
    signature: EmbeddedPdfSignature,
    spec: SignatureValidationSpec,
    moment: datetime.datetime,
    evidence_record: _Evidence,
) -> SignatureCheck:
    from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY

    name = signature.field_name or ""
    try:
        # compute_integrity_info is unannotated in pyHanko
        signature.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)  # type: ignore[no-untyped-call]  # unannotated in pyHanko
        result = run_validation(_validate(signature, spec, _timing(moment, past=False)))
    except Exception as exc:
        raise PdfCheckFailed("changed", f"{name}: {exc}") from exc
    status = result.api_status
    if status is None or not (status.intact and status.valid):
        raise PdfCheckFailed("changed", f"{name}: {result.ades_subindic}")
    if signature.summarise_integrity_info().get("docmdp_ok") is False:
        raise PdfCheckFailed("changed", f"{name}: modified after signing")
    if result.ades_subindic in (
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
        AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    ) and not _chains(signature, evidence_record.anchors, moment):
        raise PdfCheckFailed("untrusted", f"{name}: {result.ades_subindic}")
    stamp = getattr(status, "timestamp_validity", None)
    signed_at = stamp.timestamp if stamp is not None else signature.self_reported_timestamp
    revocation = status.revocation_details
    revoked_at = revocation.revocation_date if revocation else None
    indication = result.ades_subindic
    detail = f"{indication.standard_name} {result.failure_msg or ''}".strip()
    timestamped = stamp is not None
    if indication == AdESPassed.OK:
        verdict = TIMESTAMPED if timestamped else VALID_NOW
    elif indication in (AdESFailure.REVOKED, AdESIndeterminate.REVOKED_NO_POE,
                        AdESIndeterminate.REVOKED_CA_NO_POE):  # fmt: skip
        before = revoked_at is None or signed_at is None or revoked_at <= signed_at
        verdict = REVOKED if indication == AdESFailure.REVOKED or before else INDETERMINATE
    else:
        verdict = INDETERMINATE
        evidence = _evidence_time(evidence_record)
        past = _valid_at(signature, spec, evidence) if evidence is not None else None
        if evidence is not None and past is not None:
            verdict, timestamped = TIMESTAMPED, True
            past_stamp = getattr(past, "timestamp_validity", None)
            signed_at = past_stamp.timestamp if past_stamp is not None else evidence
            detail = f"{detail}; valid as of the evidence record ({evidence.isoformat()})"
    return SignatureCheck(name, signature.signer_cert, verdict, signed_at, timestamped,
                          revoked_at, detail)  # fmt: skip


def _chains(
    signature: EmbeddedPdfSignature,
    anchors: Sequence[x509.Certificate],
    moment: datetime.datetime,
) -> bool:
    """Whether the signer's certificate has a path to ``anchors`` (names and signatures), as
    of a moment inside its validity period, revocation aside: a chain failure of the AdES
    validation is "not trusted" only when this fails too (a stale CRL is not)."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko_certvalidator import CertificateValidator

    signed = extract_certificate_info(signature.signed_data)
    latest = signed.signer_cert.not_valid_after - datetime.timedelta(seconds=1)
    context = ValidationContext(
        trust_roots=[to_asn1(c) for c in anchors],
        moment=min(moment, latest),
        revocation_mode="soft-fail",
    )
    validator = CertificateValidator(
        signed.signer_cert, intermediate_certs=signed.other_certs, validation_context=context
    )
    # async_validate_usage is unannotated in pyHanko
    usage = validator.async_validate_usage(set())  # type: ignore[no-untyped-call]  # unannotated in pyHanko
    try:
        run_validation(usage, context)
    except Exception:
        return False
    return True


def _valid_at(
    signature: EmbeddedPdfSignature, spec: SignatureValidationSpec, moment: datetime.datetime
) -> StandardCMSSignatureStatus | None:
    """The signature's status when it validates as of ``moment`` (a past time proven by the
    evidence record) with the revocation data the file holds, else None."""
    from pyhanko.sign.ades.report import AdESPassed

    try:
        result = run_validation(_validate(signature, spec, _timing(moment, past=True)))
    except Exception:
        logger.info("past validation of %s failed", signature.field_name, exc_info=True)
        return None
    return result.api_status if result.ades_subindic == AdESPassed.OK else None


def _evidence_time(record: _Evidence) -> datetime.datetime | None:
    """The time of the oldest document time-stamp after the signature when the chain holds:
    the newest valid as of the validation moment, each earlier one as of the time of the next
    (its authority's revocation data from the DSS)."""
    if not record.stamps:
        return None
    at = record.moment
    for index, stamp in enumerate(reversed(record.stamps)):
        newest = index == 0
        if not _stamp_valid_at(stamp, record, at, online=record.online and newest, newest=newest):
            return None
        at = stamp.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    return at


def _stamp_valid_at(
    stamp: EmbeddedPdfSignature,
    record: _Evidence,
    at: datetime.datetime,
    *,
    online: bool,
    newest: bool,
) -> bool:
    """Whether the document time-stamp's authority certificate validates as of ``at`` (its
    bytes were checked already). The newest one, checked offline, accepts its authority's
    revocation data in the DSS however old (there is nothing fresher to be had offline; online,
    fresh data is fetched and a revoked authority fails)."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        FreshnessReqType,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(soft, soft))
    if newest and not online:
        policy = dataclasses.replace(
            policy,
            freshness=ANY_AGE,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        )

    certs, crls, ocsps = record.dss
    signed = extract_certificate_info(stamp.signed_data)
    context = ValidationContext(
        trust_roots=[to_asn1(c) for c in record.anchors],
        other_certs=certs,
        crls=crls,
        ocsps=ocsps,
        allow_fetching=online,
        moment=at,
        revinfo_policy=policy,
    )
    validator = CertificateValidator(
        signed.signer_cert, intermediate_certs=signed.other_certs, validation_context=context
    )
    usage = validator.async_validate_usage(  # type: ignore[no-untyped-call]  # unannotated
        set(), extended_key_usage={"time_stamping"}
    )
    try:
        run_validation(usage, context)
    except Exception:
        logger.info("document time-stamp %s not valid at %s", stamp.field_name, at, exc_info=True)
        return False
    return True
