"""Verify a transcript package offline: everything a province checks before accepting it.

1. The ZIP itself: readable, no absolute or ``..`` paths, no symbolic links, no encrypted
   members, no duplicates, bounded sizes (each member, the total, the compression ratio).
2. ``manifest.xml`` is valid against this program's own copy of goi-hocba-v1.xsd, and
   ``manifest.p7s`` is a detached CMS signature over its exact bytes, by a certificate that
   chains to a trust anchor and belongs to the school the manifest names.
3. Every member is listed in the manifest, every listed file is present, and each one's size
   and SHA-256 match.
4. Every transcript XML is valid against the XSDs, carries the number of XML signatures the
   manifest states, each valid and trusted, and is the transcript the manifest says (id,
   version, student code, school, year).
5. Every PDF carries that many signatures, each intact, valid and trusted, and the XML embedded
   in it holds exactly the same ``hocBa`` data as the package's XML.

Nothing is fetched from the network and the database is not used: the same function backs
``manage.py verify_package``, the public verification page and the test receiving server.
Each failure is reported with the member it concerns; :attr:`PackageReport.ok` is true only
when there is none. PDF signatures go through pyHanko's AdES validation with the revocation data
the files carry (B-LT / B-LTA): a certificate revoked before signing is a failure; a signature
whose time cannot be established offline (no time-stamp, revocation data missing or stale) is
a note (:attr:`PackageReport.notes`), as is the manifest seal's time-stamp
(:attr:`PackageReport.sealed_at`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import io
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext as _
from lxml import etree

from transcripts.packages import format as fmt
from transcripts.signing import ltv
from transcripts.signing.certificates import load_trust_anchors, normalise_name
from transcripts.verification import (
    InvalidDocument,
    parse_xml,
    pdf_signatures,
    xml_signatures,
)
from transcripts.xml import DATA_TAG, InvalidTranscriptXML, validate_xml


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds that protect the verifier from hostile ZIPs (sizes are uncompressed)."""

    max_members: int = 100_000
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 8 * 1024 * 1024 * 1024
    max_ratio: int = 200


@dataclasses.dataclass(frozen=True)
class Problem:
    member: str  # "" for the package as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.member}: {self.message}" if self.member else self.message


@dataclasses.dataclass
class PackageReport:
    problems: list[Problem] = dataclasses.field(default_factory=list)
    manifest: fmt.Manifest | None = None
    #: The organisation (or name) of the certificate that signed the manifest, once verified.
    sealed_by: str = ""
    files_checked: int = 0
    transcripts_checked: int = 0
    #: The time proven by the manifest signature's time-stamp (CAdES-T), when it has one.
    sealed_at: datetime.datetime | None = None
    #: PDF signatures proven by a time-stamp / in all.
    timestamped_signatures: int = 0
    pdf_signatures: int = 0
    #: What the report says without failing the package (signature times not established).
    notes: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, member: str, message: str) -> None:
        self.problems.append(Problem(member, message))


def _unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to extract, or None."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return _("an absolute or malformed path")
    if len(name) > 1 and name[1] == ":":
        return _("an absolute or malformed path")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return _("a path that leaves the package (.. or an empty segment)")
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _structure(archive: zipfile.ZipFile, report: PackageReport, limits: Limits) -> set[str]:
    """Check every member's header; return the names that are safe to read."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        report.add("", _("The package has more than %(n)s members.") % {"n": limits.max_members})
        return set()
    safe: set[str] = set()
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            report.add(name, _("This member appears twice in the ZIP."))
            safe.discard(name)
            continue
        seen.add(name)
        reason = _unsafe_name(name)
        if reason:
            report.add(name, _("Unsafe member name: %(reason)s.") % {"reason": reason})
        elif _is_symlink(info):
            report.add(name, _("Symbolic links are not allowed in a package."))
        elif info.is_dir():
            report.add(name, _("Directory entries are not part of the format."))
        elif info.flag_bits & 0x1:
            report.add(name, _("Encrypted members are not allowed."))
        elif info.file_size > limits.max_member_bytes:
            report.add(
                name, _("The member is too large (%(size)s bytes).") % {"size": info.file_size}
            )
        elif info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            report.add(name, _("The member is compressed suspiciously well (a ZIP bomb?)."))
        else:
            safe.add(name)
        total += info.file_size
    if total > limits.max_total_bytes:
        report.add("", _("The package unpacks to more than the allowed size."))
        return set()
    return safe


def _read(
    archive: zipfile.ZipFile, name: str, limits: Limits, report: PackageReport
) -> bytes | None:
    try:
        with archive.open(name) as member:
            data = member.read(limits.max_member_bytes + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        report.add(name, _("The member is damaged: %(error)s") % {"error": exc})
        return None
    except NotImplementedError:
        report.add(name, _("The member uses an unsupported compression method."))
        return None
    if len(data) > limits.max_member_bytes:
        report.add(name, _("The member is larger than its header says."))
        return None
    return data


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


def _check_digest(path: str, data: bytes, entry: fmt.FileEntry, report: PackageReport) -> None:
    report.files_checked += 1
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
        report.add(path, _("The file's size or SHA-256 differs from the manifest."))


def _listing(
    archive: zipfile.ZipFile, manifest: fmt.Manifest, report: PackageReport
) -> tuple[set[str], set[str]]:
    """Compare the members with the manifest's list (both ways) and with what the format
    allows; return (the transcript file paths, the other listed paths) that are present."""
    names = {info.filename for info in archive.infolist()} - {fmt.MANIFEST, fmt.SIGNATURE}
    listed = {entry.path for entry in manifest.files}
    for name in sorted(names - listed):
        report.add(name, _("This file is in the package but not in the manifest."))
    for path in sorted(listed - names):
        report.add(path, _("The manifest lists this file but the package lacks it."))
    schema = {f"schema/{name}" for name in fmt.SCHEMA_FILES}
    transcript_files = {path for entry in manifest.transcripts for path in entry.paths}
    for path in sorted((schema | transcript_files) - listed):
        report.add(path, _("This file of the format is missing from the manifest."))
    for path in sorted(listed - schema - transcript_files):
        report.add(path, _("The format has no place for this file."))
    present = listed & names
    return present & transcript_files, present & schema


def _identity_problem(hocba: etree._Element, entry: fmt.TranscriptEntry, manifest) -> bool:
    ns = {"h": hocba.nsmap.get(None, "")}
    found = (
        hocba.get("maHocBa"),
        hocba.get("phienBan"),
        hocba.findtext("h:hocSinh/h:maHocSinh", namespaces=ns),
        hocba.findtext("h:truong/h:maTruong", namespaces=ns),
        hocba.findtext("h:namHoc", namespaces=ns),
    )
    expected = (
        entry.transcript_id,
        str(entry.version),
        entry.student_code,
        manifest.school_code,
        manifest.school_year,
    )
    return found != expected


def _check_xml(
    path: str,
    data: bytes,
    entry: fmt.TranscriptEntry,
    manifest: fmt.Manifest,
    anchor_paths: Sequence[str | Path],
    report: PackageReport,
) -> etree._Element | None:
    """Check one transcript XML; return its data element when it could be read."""
    try:
        validate_xml(data)
    except InvalidTranscriptXML as exc:
        report.add(path, _("Not valid against the schema: %(error)s") % {"error": exc.errors[0]})
    try:
        root = parse_xml(data)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
        return None
    hocba = root.find(DATA_TAG)
    if hocba is None:
        report.add(path, _("The file holds no transcript data."))
        return None
    if _identity_problem(hocba, entry, manifest):
        report.add(path, _("This XML is not the transcript the manifest lists here."))
    try:
        signers, _signed = xml_signatures(root, anchor_paths)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
    else:
        if len(signers) != entry.signatures:
            report.add(
                path,
                _("%(found)s XML signatures, the manifest says %(expected)s.")
                % {"found": len(signers), "expected": entry.signatures},
            )
    return hocba


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files attached to a PDF (its EmbeddedFiles name tree), by name."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found: dict[str, bytes] = {}

    def walk(node) -> None:
        node = node.get_object()
        if "/Kids" in node:
            for kid in node["/Kids"]:
                walk(kid)
        names = node.get("/Names", [])
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            stream = spec["/EF"].get("/UF", spec["/EF"].get("/F")).get_object()
            found[str(names[i])] = stream.data

    tree = reader.root.get("/Names", {}).get("/EmbeddedFiles")
    if tree is not None:
        walk(tree)
    return found


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


def _check_pdf(
    path: str,
    data: bytes,
    entry: fmt.TranscriptEntry,
    hocba: etree._Element | None,
    anchors: Sequence[x509.Certificate],
    report: PackageReport,
) -> None:
    try:
        signers = pdf_signatures(data, anchors)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
    else:
        _note_times(path, signers, report)
        if len(signers) != entry.signatures:
            report.add(
                path,
                _("%(found)s PDF signatures, the manifest says %(expected)s.")
                % {"found": len(signers), "expected": entry.signatures},
            )
    try:
        attached = embedded_files(data)
    except Exception:  # a PDF that pdf_signatures could read but with a broken name tree
        attached = {}
    embedded = attached.get("hocba.xml")
    if embedded is None:
        report.add(path, _("The PDF carries no embedded transcript XML (hocba.xml)."))
        return
    try:
        embedded_data = parse_xml(embedded).find(DATA_TAG)
    except InvalidDocument:
        embedded_data = None
    if hocba is not None and (embedded_data is None or _c14n(embedded_data) != _c14n(hocba)):
        report.add(path, _("The XML embedded in the PDF is not this transcript's XML data."))


def _note_times(path: str, signers, report: PackageReport) -> None:
    """Count the time-stamped signatures; note those whose time cannot be established."""
    for signer in signers:
        report.pdf_signatures += 1
        report.timestamped_signatures += signer.timestamped
        if signer.time_status == ltv.INDETERMINATE:
            report.notes.append(
                Problem(
                    path,
                    _("%(name)s: %(status)s.") % {"name": signer.name, "status": signer.time_label},
                )
            )


def verify_package(
    source: str | Path | BinaryIO,
    *,
    anchor_paths: Sequence[str | Path] | None = None,
    limits: Limits | None = None,
) -> PackageReport:
    """Check a package (a path or a seekable binary file) against ``anchor_paths`` (PEM files;
    default ``settings.SIGNING_TRUST_ANCHORS``)."""
    from django.conf import settings

    limits = limits or Limits()
    anchor_paths = list(settings.SIGNING_TRUST_ANCHORS if anchor_paths is None else anchor_paths)
    report = PackageReport()
    anchors = load_trust_anchors(anchor_paths)
    if not anchors:
        report.add("", _("No trusted certification authority is configured."))
        return report
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError):
        report.add("", _("The file is not a ZIP package."))
        return report
    with archive:
        safe = _structure(archive, report, limits)
        _verify_contents(archive, safe, anchors, anchor_paths, limits, report)
    return report


def _verify_contents(archive, safe, anchors, anchor_paths, limits, report: PackageReport) -> None:
    manifest_bytes = _read(archive, fmt.MANIFEST, limits, report) if fmt.MANIFEST in safe else None
    if manifest_bytes is None:
        report.add(fmt.MANIFEST, _("The package has no readable manifest."))
        return
    try:
        manifest = fmt.parse_manifest(manifest_bytes)
    except fmt.ManifestError as exc:
        report.add(fmt.MANIFEST, _("The manifest is not valid: %(error)s") % {"error": exc})
        manifest = None
    report.manifest = manifest
    signature = _read(archive, fmt.SIGNATURE, limits, report) if fmt.SIGNATURE in safe else None
    if signature is None:
        report.add(fmt.SIGNATURE, _("The package has no manifest signature."))
    else:
        _check_seal(manifest_bytes, signature, manifest, anchors, report)
    if manifest is None:
        return
    transcript_files, others = _listing(archive, manifest, report)
    files = {entry.path: entry for entry in manifest.files}

    def read(path: str) -> bytes | None:
        if path not in safe:
            return None
        data = _read(archive, path, limits, report)
        if data is not None:
            _check_digest(path, data, files[path], report)
        return data

    for path in sorted(others):
        read(path)
    for entry in manifest.transcripts:  # one transcript's files in memory at a time
        xml_path, pdf_path = entry.paths
        hocba = None
        xml = read(xml_path) if xml_path in transcript_files else None
        if xml is not None:
            hocba = _check_xml(xml_path, xml, entry, manifest, anchor_paths, report)
        pdf = read(pdf_path) if pdf_path in transcript_files else None
        if pdf is not None:
            _check_pdf(pdf_path, pdf, entry, hocba, anchors, report)
        report.transcripts_checked += 1
