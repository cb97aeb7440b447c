"""The manifest, read within its bounds and parsed, and its seal: ``manifest.p7s``, a detached
CMS signature over the manifest's exact bytes by a trusted certificate of the school it names."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Sequence

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from transcripts.packages import format as fmt
from transcripts.packages.verify.limits import Inflation, Limits, read_member, xml_too_large
from transcripts.packages.verify.report import PackageReport, Summary
from transcripts.signing.certificates import normalise_name


def _roots(anchors: Sequence[x509.Certificate]) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in anchors]


def _subject_name(subject: asn1_x509.Name) -> str:
    native = subject.native if isinstance(subject.native, dict) else {}
    value = native.get("organization_name") or native.get("common_name") or ""
    return str(value[0] if isinstance(value, list) else value)


def _check_seal(
    manifest_bytes: bytes,
    signature: bytes,
    manifest: fmt.Manifest | None,
    anchors: Sequence[x509.Certificate],
    report: PackageReport,
) -> None:
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data = info["content"]
        context = ValidationContext(trust_roots=_roots(anchors), allow_fetching=False)
        status = asyncio.run(
            async_validate_detached_cms(
                manifest_bytes, signed_data, signer_validation_context=context
            )
        )
    except Exception:  # asn1crypto / pyHanko raise many kinds of errors on malformed input
        report.add(fmt.SIGNATURE, _("The manifest signature cannot be read."))
        return
    if not (status.intact and status.valid):
        report.add(fmt.SIGNATURE, _("The manifest signature does not match manifest.xml."))
        return
    if not status.trusted:
        report.add(
            fmt.SIGNATURE,
            _("The manifest is not signed by a certificate of a trusted certification authority."),
        )
        return
    holder = _subject_name(status.signing_cert.subject)
    report.sealed_by = holder
    stamp = status.timestamp_validity
    if stamp is not None:
        if stamp.intact and stamp.valid and stamp.trusted:
            report.sealed_at = stamp.timestamp
        else:
            report.add(fmt.SIGNATURE, _("The manifest signature's time-stamp does not match it."))
    if manifest is not None and normalise_name(holder) != normalise_name(manifest.school_name):
        report.add(
            fmt.SIGNATURE,
            _("The manifest is signed by “%(holder)s”, not by the school “%(school)s”.")
            % {"holder": holder, "school": manifest.school_name},
        )


def _manifest_bytes(
    archive: zipfile.ZipFile, limits: Limits, budget: Inflation, report: PackageReport
) -> bytes | None:
    info = archive.NameToInfo.get(fmt.MANIFEST)
    if info is None:
        report.add(fmt.MANIFEST, _("The package has no readable manifest."))
        return None
    if info.file_size > limits.max_manifest_bytes:
        report.add(
            fmt.MANIFEST,
            _("The manifest is larger than %(size)s.")
            % {"size": filesizeformat(limits.max_manifest_bytes)},
        )
        return None
    data = read_member(archive, fmt.MANIFEST, limits=limits, budget=budget, report=report,
                       limit=limits.max_manifest_bytes)  # fmt: skip
    if data is None:
        report.add(fmt.MANIFEST, _("The package has no readable manifest."))
    return data


def _parse_manifest(data: bytes, limits: Limits, report: PackageReport) -> fmt.Manifest | None:
    too_large = xml_too_large(
        data, max_elements=limits.max_manifest_elements, max_depth=limits.max_depth
    )
    if too_large:
        report.add(fmt.MANIFEST, too_large)
        return None
    try:
        manifest = fmt.parse_manifest(data)
    except fmt.ManifestError as exc:
        report.add(fmt.MANIFEST, _("The manifest is not valid: %(error)s") % {"error": exc})
        return None
    report.manifest = manifest
    report.summary = Summary(
        school_name=manifest.school_name,
        school_code=manifest.school_code,
        school_year=manifest.school_year,
        transcripts=len(manifest.transcripts),
        withdrawn=len(manifest.withdrawals),
    )
    if len(manifest.transcripts) > limits.max_transcripts:
        report.add(
            fmt.MANIFEST,
            _("The package holds more than %(n)s transcripts.") % {"n": limits.max_transcripts},
        )
        return None
    return manifest
