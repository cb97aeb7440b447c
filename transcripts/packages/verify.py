"""Verify a transcript package offline: everything a province checks before accepting it.

1. The ZIP itself, from its central directory alone: readable, no absolute or ``..`` paths,
   no symbolic links, no encrypted members, no duplicates, no archive inside, no members that
   overlap, bounded declared sizes (each member, the total) and compression ratios (each
   member, the whole package).
2. ``manifest.xml`` is bounded in size and elements (a pull parser stops at the limit) and
   valid against this program's own copy of goi-hocba-v1.xsd, and
   ``manifest.p7s`` is a detached CMS signature over its exact bytes, by a certificate that
   chains to a trust anchor and belongs to the school the manifest names.
3. Every member is listed in the manifest, every listed file is present, and each one's size
   and SHA-256 match, the bytes actually inflated counted against the limits (whatever the
   headers say).
4. Every transcript XML is valid against the XSDs, carries the number of XML signatures the
   manifest states, each valid and trusted, and is the transcript the manifest says (id,
   version, student code, school, year).
5. Every PDF carries that many signatures, each intact, valid and trusted, and the XML embedded
   in it holds exactly the same ``hocBa`` data as the package's XML.

Steps 1–3 are cheap and stop at the first that fails: nothing of a transcript is read before the
seal holds and nothing is verified before every digest does. Step 4–5 (the signatures, the
costly part) stop at :attr:`Limits.max_seconds`. The public page runs them under the settings'
limits (:meth:`Limits.public`), for more than a few transcripts in a background job
(:mod:`transcripts.packages.verify_jobs`).

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
import re
import stat
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from lxml import etree

from gradebook.checkpoints import document_problem
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

#: How much of a member is inflated at a time: the bytes are counted as they come.
CHUNK = 64 * 1024
#: A package holds no archive (each would be another bomb's fuse): by name, and by first bytes.
ARCHIVE_SUFFIXES = (
    ".zip", ".jar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".zst", ".cab", ".lz",
    ".lzma",
)  # fmt: skip
ARCHIVE_MAGIC = (
    b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x28\xb5\x2f\xfd", b"MSCF",
)  # fmt: skip
#: A member smaller than this cannot be a bomb: its ratio is not judged (the total still is).
RATIO_FLOOR = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds that protect the verifier from hostile ZIPs (sizes are uncompressed). The defaults
    are the command line's (a whole school's package, a trusted operator); the public page and
    its job take the settings' (:meth:`public`)."""

    max_members: int = 100_000
    max_member_bytes: int = 64 * 1024 * 1024
    #: Declared, and actually inflated in each pass over the members.
    max_total_bytes: int = 8 * 1024 * 1024 * 1024
    #: A member's uncompressed size over its compressed size (members over RATIO_FLOOR).
    max_ratio: int = 200
    #: Every member's uncompressed size over all their compressed sizes.
    max_overall_ratio: int = 50
    max_manifest_bytes: int = 64 * 1024 * 1024
    max_manifest_elements: int = 2_000_000
    max_signature_bytes: int = 1024 * 1024
    #: Elements of a transcript XML (the package's, or the one a PDF carries).
    max_xml_elements: int = 1_000_000
    #: How deep any XML read may nest.
    max_depth: int = 64
    max_transcripts: int = 100_000
    #: What the PDF streams of one transcript may decode to (checked before pyHanko reads it).
    max_pdf_decoded_bytes: int = 1024 * 1024 * 1024
    #: Seconds the transcripts' signatures may take in all; None: no limit.
    max_seconds: float | None = None

    @classmethod
    def public(cls) -> Limits:
        """The public page's and its job's limits (settings.VERIFY_PACKAGE_*)."""
        from django.conf import settings

        transcripts = settings.VERIFY_PACKAGE_MAX_TRANSCRIPTS
        member = settings.VERIFY_PACKAGE_MAX_MEMBER_BYTES
        return cls(
            max_members=2 * transcripts + len(fmt.SCHEMA_FILES) + 2,
            max_member_bytes=member,
            max_total_bytes=settings.VERIFY_PACKAGE_MAX_UNPACKED_BYTES,
            max_ratio=settings.VERIFY_PACKAGE_MAX_RATIO,
            max_overall_ratio=settings.VERIFY_PACKAGE_MAX_OVERALL_RATIO,
            max_manifest_bytes=settings.VERIFY_PACKAGE_MANIFEST_MAX_BYTES,
            max_manifest_elements=settings.VERIFY_PACKAGE_MANIFEST_MAX_ELEMENTS,
            max_signature_bytes=256 * 1024,
            max_xml_elements=settings.VERIFY_PACKAGE_XML_MAX_ELEMENTS,
            max_depth=32,
            max_transcripts=transcripts,
            max_pdf_decoded_bytes=4 * member,
            max_seconds=settings.VERIFY_PACKAGE_JOB_SECONDS,
        )


class Inflation:
    """The bytes inflated out of the ZIP in one pass over its members, against a budget: what
    was read, never what the headers say."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, count: int) -> bool:
        self.spent += count
        return self.spent <= self.limit


@dataclasses.dataclass(frozen=True)
class Problem:
    member: str  # "" for the package as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.member}: {self.message}" if self.member else self.message


@dataclasses.dataclass(frozen=True)
class Summary:
    """What a report says of the package (never a student's name: members are named by the
    student code in their path)."""

    school_name: str
    school_code: str
    school_year: str
    transcripts: int
    withdrawn: int


@dataclasses.dataclass
class PackageReport:
    problems: list[Problem] = dataclasses.field(default_factory=list)
    manifest: fmt.Manifest | None = None
    summary: Summary | None = None
    #: The cheap checks (ZIP, manifest, seal, every digest) passed.
    files_verified: bool = False
    #: Every transcript's signatures were checked (the time limit did not stop the check).
    transcripts_verified: bool = False
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

    def as_json(self) -> dict[str, object]:
        """The report as kept for a background job's result page (the manifest left out)."""
        return {
            "problems": [[p.member, p.message] for p in self.problems],
            "notes": [[p.member, p.message] for p in self.notes],
            "summary": dataclasses.asdict(self.summary) if self.summary else None,
            "files_verified": self.files_verified,
            "transcripts_verified": self.transcripts_verified,
            "sealed_by": self.sealed_by,
            "sealed_at": self.sealed_at.isoformat() if self.sealed_at else None,
            "files_checked": self.files_checked,
            "transcripts_checked": self.transcripts_checked,
            "timestamped_signatures": self.timestamped_signatures,
            "pdf_signatures": self.pdf_signatures,
        }

    @classmethod
    def from_json(cls, data: dict) -> PackageReport:
        sealed_at = data.get("sealed_at")
        return cls(
            problems=[Problem(*p) for p in data.get("problems", [])],
            notes=[Problem(*p) for p in data.get("notes", [])],
            summary=Summary(**data["summary"]) if data.get("summary") else None,
            files_verified=bool(data.get("files_verified")),
            transcripts_verified=bool(data.get("transcripts_verified")),
            sealed_by=data.get("sealed_by", ""),
            sealed_at=datetime.datetime.fromisoformat(sealed_at) if sealed_at else None,
            files_checked=data.get("files_checked", 0),
            transcripts_checked=data.get("transcripts_checked", 0),
            timestamped_signatures=data.get("timestamped_signatures", 0),
            pdf_signatures=data.get("pdf_signatures", 0),
        )


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


def _structure(archive: zipfile.ZipFile, report: PackageReport, limits: Limits) -> bool:
    """Judge the ZIP by its central directory alone (nothing is inflated): whether every member
    is safe to read and the whole within the limits; each problem reported."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        report.add("", _("The package has more than %(n)s members.") % {"n": limits.max_members})
        return False
    seen: set[str] = set()
    total = compressed = 0
    for info in infos:
        name = info.filename
        total += info.file_size
        compressed += info.compress_size
        if name in seen:
            report.add(name, _("This member appears twice in the ZIP."))
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
        elif name.lower().endswith(ARCHIVE_SUFFIXES):
            report.add(name, _("An archive inside the package is not allowed."))
        elif info.file_size > limits.max_member_bytes:
            report.add(
                name, _("The member is too large (%(size)s bytes).") % {"size": info.file_size}
            )
        elif info.file_size > RATIO_FLOOR and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            report.add(name, _("The member is compressed suspiciously well (a ZIP bomb?)."))
    if total > limits.max_total_bytes:
        report.add("", _("The package unpacks to more than the allowed size."))
    elif total > limits.max_overall_ratio * max(compressed, RATIO_FLOOR):
        report.add("", _("The package is compressed suspiciously well (a ZIP bomb?)."))
    elif report.ok and _overlapping(archive, infos):
        report.add("", _("Members of the ZIP overlap one another (a ZIP bomb?)."))
    return report.ok


def _overlapping(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    """Whether a member's data runs into the next member or the central directory (the
    "overlapping files" bomb): each needs at least its local header, its name and its data."""
    ends = sorted(infos, key=lambda info: info.header_offset)
    limit = getattr(archive, "start_dir", None)
    for info, following in zip(ends, [*ends[1:], None], strict=True):
        name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
        end = info.header_offset + 30 + len(name) + info.compress_size
        boundary = following.header_offset if following is not None else limit
        if boundary is not None and end > boundary:
            return True
    return False


def _stream(
    archive: zipfile.ZipFile,
    name: str,
    *,
    limit: int,
    budget: Inflation,
    report: PackageReport,
    sink: Callable[[bytes], object],
) -> bool:
    """Inflate member ``name`` a chunk at a time into ``sink``, counting the bytes against the
    member's ``limit``, its header and the pass's ``budget``; False (reported) when it fails."""
    info = archive.getinfo(name)
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                if size == 0 and chunk.startswith(ARCHIVE_MAGIC):
                    report.add(name, _("An archive inside the package is not allowed."))
                    return False
                size += len(chunk)
                if not budget.spend(len(chunk)):
                    report.add("", _("The package unpacks to more than the allowed size."))
                    return False
                if size > limit or size > info.file_size:
                    report.add(name, _("The member is larger than its header says."))
                    return False
                sink(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        report.add(name, _("The member is damaged: %(error)s") % {"error": exc})
        return False
    except NotImplementedError:
        report.add(name, _("The member uses an unsupported compression method."))
        return False
    return True


def read_member(
    archive: zipfile.ZipFile,
    name: str,
    *,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
    limit: int | None = None,
) -> bytes | None:
    """Member ``name``'s bytes (at most ``limit``, default the member limit), or None with the
    problem reported."""
    chunks: list[bytes] = []
    limit = limits.max_member_bytes if limit is None else limit
    if not _stream(archive, name, limit=limit, budget=budget, report=report, sink=chunks.append):
        return None
    return b"".join(chunks)


def xml_too_large(data: bytes, *, max_elements: int, max_depth: int) -> str | None:
    """Why ``data`` is more XML than may be built into a tree (too many elements, too deep), or
    None: read by a pull parser (no entities, no network, no DTD, no huge trees) that stops at
    the limit. Malformed XML is left to the parse proper to report."""
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    elements = depth = 0
    try:
        for at in range(0, len(data), CHUNK):
            parser.feed(data[at : at + CHUNK])
            for event, element in parser.read_events():
                if event == "end":
                    depth -= 1
                    element.clear(keep_tail=True)
                    continue
                elements += 1
                depth += 1
                if elements > max_elements:
                    return _("The XML has more than %(n)s elements.") % {"n": max_elements}
                if depth > max_depth:
                    return _("The XML is nested more than %(n)s levels deep.") % {"n": max_depth}
    except etree.XMLSyntaxError:
        return None
    return None


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


def _check_digest(
    archive: zipfile.ZipFile,
    entry: fmt.FileEntry,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
) -> None:
    """Hash member ``entry.path`` as it is inflated (nothing kept) against the manifest."""
    if archive.getinfo(entry.path).file_size != entry.size:
        report.add(entry.path, _("The file's size or SHA-256 differs from the manifest."))
        return
    digest = hashlib.sha256()
    limit = min(entry.size, limits.max_member_bytes)
    if _stream(archive, entry.path, limit=limit, budget=budget, report=report, sink=digest.update):
        report.files_checked += 1
        if digest.hexdigest() != entry.sha256:
            report.add(entry.path, _("The file's size or SHA-256 differs from the manifest."))


def _read_checked(
    archive: zipfile.ZipFile,
    entry: fmt.FileEntry,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
) -> bytes | None:
    """A member read again for its signatures, its digest checked again on the bytes used."""
    data = read_member(archive, entry.path, limits=limits, budget=budget, report=report)
    if data is not None and hashlib.sha256(data).hexdigest() != entry.sha256:
        report.add(entry.path, _("The file's size or SHA-256 differs from the manifest."))
        return None
    return data


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
    for path in sorted(listed - schema - transcript_files - {fmt.LEDGER_CHECKPOINT}):
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
    limits: Limits,
    report: PackageReport,
) -> etree._Element | None:
    """Check one transcript XML; return its data element when it could be read."""
    too_large = xml_too_large(
        data, max_elements=limits.max_xml_elements, max_depth=limits.max_depth
    )
    if too_large:
        report.add(path, too_large)
        return None
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


def _decoded(stream, max_bytes: int) -> bytes:
    """A stream's data, decoded only when that is bounded (none or one FlateDecode filter
    without parameters, which is how an attachment is written); b"" when it is not."""
    raw = stream.encoded_data
    filters = stream.get("/Filter")
    if isinstance(filters, list) and len(filters) == 1:
        filters = filters[0]
    if filters is None:
        return raw if len(raw) <= max_bytes else b""
    if filters != "/FlateDecode" or "/DecodeParms" in stream:
        return b""
    data = zlib.decompressobj().decompress(raw, max_bytes + 1)
    return data if len(data) <= max_bytes else b""


def embedded_files(pdf: bytes, *, max_bytes: int | None = None) -> dict[str, bytes]:
    """The files attached to a PDF (its EmbeddedFiles name tree), by name; with ``max_bytes``,
    an attachment that would decode to more (or is encoded otherwise) is read as empty."""
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
            found[str(names[i])] = stream.data if max_bytes is None else _decoded(stream, max_bytes)

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
    limits: Limits,
    report: PackageReport,
) -> None:
    if _pdf_decodes_to_more_than(data, limits.max_pdf_decoded_bytes):
        report.add(path, _("The PDF's streams decode to more than the allowed size."))
        return
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
        attached = embedded_files(data, max_bytes=limits.max_member_bytes)
    except Exception:  # a PDF that pdf_signatures could read but with a broken name tree
        attached = {}
    embedded = attached.get("hocba.xml")
    if embedded is None:
        report.add(path, _("The PDF carries no embedded transcript XML (hocba.xml)."))
        return
    too_large = xml_too_large(
        embedded, max_elements=limits.max_xml_elements, max_depth=limits.max_depth
    )
    try:
        embedded_data = None if too_large else parse_xml(embedded).find(DATA_TAG)
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


_STREAM = re.compile(rb"(?<!end)stream\r?\n")
#: A chain of two Flate filters: the second would inflate the first's output again.
_FLATE_TWICE = re.compile(rb"/Filter\s*\[[^\]]*/FlateDecode[^\]]*/FlateDecode")
_PDF_FEED = 4096


def _pdf_decodes_to_more_than(pdf: bytes, limit: int) -> bool:
    """Whether the PDF's zlib streams (object and cross-reference streams among them, which a
    PDF reader decodes whole) inflate to more than ``limit`` bytes in all, or a stream is
    inflated twice: inflated a little at a time, nothing kept, stopping at the limit."""
    if _FLATE_TWICE.search(pdf):
        return True
    view = memoryview(pdf)
    total = 0
    for match in _STREAM.finditer(pdf):
        inflater = zlib.decompressobj()
        position = match.end()
        try:
            while position < len(pdf) and not inflater.eof:
                piece = inflater.decompress(view[position : position + _PDF_FEED], CHUNK)
                position += _PDF_FEED
                while True:
                    total += len(piece)
                    if total > limit:
                        return True
                    if not inflater.unconsumed_tail:
                        break
                    piece = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        except zlib.error:
            continue  # not a zlib stream (or not a stream): pyHanko judges the file
    return False


def verify_package(
    source: str | Path | BinaryIO,
    *,
    anchor_paths: Sequence[str | Path] | None = None,
    limits: Limits | None = None,
    transcripts: bool | Callable[[fmt.Manifest], bool] = True,
    progress: Callable[[int, int], object] | None = None,
) -> PackageReport:
    """Check a package (a path or a seekable binary file) against ``anchor_paths`` (PEM files;
    default ``settings.SIGNING_TRUST_ANCHORS``). ``transcripts``: whether to go on to the
    transcripts' signatures once the cheap checks pass (or a function of the manifest that
    says); ``progress(checked, total)`` is called after each transcript."""
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
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        report.add("", _("The file is not a ZIP package."))
        return report
    with archive:
        manifest = _screen(archive, anchors, limits, report)
        if manifest is not None and (
            transcripts(manifest) if callable(transcripts) else transcripts
        ):
            _verify_transcripts(archive, manifest, anchors, anchor_paths, limits, report, progress)
    return report


def _screen(
    archive: zipfile.ZipFile,
    anchors: Sequence[x509.Certificate],
    limits: Limits,
    report: PackageReport,
) -> fmt.Manifest | None:
    """The cheap checks, in order, each stopping the check when it fails: the central
    directory, the manifest (bounded), its seal, the list of members, every member's digest.
    The manifest once they all pass."""
    if not _structure(archive, report, limits):
        return None
    budget = Inflation(limits.max_total_bytes)
    manifest_bytes = _manifest_bytes(archive, limits, budget, report)
    manifest = _parse_manifest(manifest_bytes, limits, report) if manifest_bytes else None
    if manifest_bytes is None or manifest is None:
        return None
    signature = None
    if fmt.SIGNATURE in archive.NameToInfo:
        signature = read_member(archive, fmt.SIGNATURE, limits=limits, budget=budget,
                                report=report, limit=limits.max_signature_bytes)  # fmt: skip
    if signature is None:
        report.add(fmt.SIGNATURE, _("The package has no manifest signature."))
        return None
    _check_seal(manifest_bytes, signature, manifest, anchors, report)
    if not report.ok:
        return None
    _listing(archive, manifest, report)
    if not report.ok:
        return None
    for entry in manifest.files:
        _check_digest(archive, entry, limits, budget, report)
        if budget.spent > budget.limit:
            break
    if not report.ok:
        return None
    _check_ledger_checkpoint(archive, manifest, limits, budget, report)
    if not report.ok:
        return None
    report.files_verified = True
    return manifest


#: A checkpoint document is well under 1 KiB.
LEDGER_CHECKPOINT_MAX_BYTES = 16 * 1024


def _check_ledger_checkpoint(
    archive: zipfile.ZipFile,
    manifest: fmt.Manifest,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
) -> None:
    """The school's ledger checkpoint, when the package carries one: of this school, and
    signed by the key it names (gradebook/checkpoints.py)."""
    if manifest.file(fmt.LEDGER_CHECKPOINT) is None:
        return
    data = read_member(archive, fmt.LEDGER_CHECKPOINT, limits=limits, budget=budget,
                       report=report, limit=LEDGER_CHECKPOINT_MAX_BYTES)  # fmt: skip
    if data is None:
        return
    problem = document_problem(data, school_code=manifest.school_code)
    if problem == "school":
        report.add(fmt.LEDGER_CHECKPOINT, _("The ledger checkpoint is another school's."))
    elif problem is not None:
        report.add(
            fmt.LEDGER_CHECKPOINT,
            _("The ledger checkpoint cannot be read or its signature does not verify."),
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


def _verify_transcripts(
    archive: zipfile.ZipFile,
    manifest: fmt.Manifest,
    anchors: Sequence[x509.Certificate],
    anchor_paths: Sequence[str | Path],
    limits: Limits,
    report: PackageReport,
    progress: Callable[[int, int], object] | None,
) -> None:
    """The costly part: every transcript's XML and PDF and their signatures, one transcript's
    files in memory at a time, until done or ``limits.max_seconds`` have passed."""
    files = {entry.path: entry for entry in manifest.files}
    budget = Inflation(limits.max_total_bytes)
    started = time.monotonic()
    total = len(manifest.transcripts)
    for entry in manifest.transcripts:
        if limits.max_seconds is not None and time.monotonic() - started >= limits.max_seconds:
            report.add(
                "",
                _(
                    "The check was stopped after %(seconds)s seconds: %(done)s of %(total)s "
                    "transcripts were checked."
                )
                % {
                    "seconds": int(limits.max_seconds),
                    "done": report.transcripts_checked,
                    "total": total,
                },
            )
            return
        xml_path, pdf_path = entry.paths
        hocba = None
        xml = _read_checked(archive, files[xml_path], limits, budget, report)
        if xml is not None:
            hocba = _check_xml(xml_path, xml, entry, manifest, anchor_paths, limits, report)
        pdf = _read_checked(archive, files[pdf_path], limits, budget, report)
        if pdf is not None:
            _check_pdf(pdf_path, pdf, entry, hocba, anchors, limits, report)
        report.transcripts_checked += 1
        if progress is not None:
            progress(report.transcripts_checked, total)
        if budget.spent > budget.limit:
            return
    report.transcripts_verified = True
