"""Write a package ZIP from stored, signed transcript versions.

Nothing is rendered or signed again: each final version's stored XML and PDF are copied into
the ZIP as they are, after checking them against what was recorded when they were signed
(the SHA-256 of each file, the XML's identity and schema, the number of signatures). Only the
manifest is signed, with the school's seal. Files are read one at a time, the PDFs streamed
from the storage into the ZIP in pieces, so memory grows neither with the school's size nor
with a file's. A transcript that fails a check is reported with the reason and
the build goes on to report every other one; the caller discards a ZIP with failures.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from django.utils.translation import gettext as _
from lxml import etree

from config.storage import StorageUnavailable
from gradebook.checkpoints import document as checkpoint_document
from gradebook.checkpoints import make_checkpoint
from gradebook.models import CheckpointReason
from gradebook.transfers import year_marks
from schools.models import Enrollment, School, SchoolYear, Student, Term
from transcripts.models import PackageKind, TranscriptSignature, TranscriptVersion
from transcripts.packages import format as fmt
from transcripts.packages.marks import MarksDocument, marks_json
from transcripts.signing.formats import DS_NS, finish_cms, prepare_cms
from transcripts.signing.ltv import LtvSettings
from transcripts.signing.signers import Signer
from transcripts.xml import InvalidTranscriptXML, data_element, validate_xml

if TYPE_CHECKING:
    from transcripts.packages.scope import FinalVersion


@dataclasses.dataclass(frozen=True)
class Failure:
    version_id: int
    transcript_id: int
    student: str
    class_name: str
    message: str

    def as_json(self) -> dict[str, str | int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BuildResult:
    manifest: fmt.Manifest | None
    failures: list[Failure]
    #: The manifest as written into the package: what the seal signs.
    manifest_bytes: bytes = b""

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.failures


class _Refused(Exception):
    pass


#: Stored files are copied into the ZIP in pieces of this size: never held whole in memory.
COPY_BYTES = 1024 * 1024


@contextmanager
def _opened(field, what: str) -> Iterator[BinaryIO]:
    """The stored file, open to read. A file that is not there (or unreadable) refuses this
    transcript; a store that cannot be reached (StorageUnavailable) stops the whole build, so
    the export can be resumed once it is back."""
    if not field:
        raise _Refused(_("The signed %(file)s is missing.") % {"file": what})
    try:
        with field.open("rb") as handle:
            yield handle
    except StorageUnavailable:
        raise
    except OSError as exc:
        raise _Refused(
            _("The signed %(file)s cannot be read (%(error)s).")
            % {"file": what, "error": exc.strerror or type(exc).__name__}
        ) from exc


def _read(field, what: str) -> bytes:
    """A small stored file whole (the XML, read to check its identity and schema)."""
    with _opened(field, what) as handle:
        return handle.read()


def _copy(field, what: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, str]:
    """Stream the stored file into the ZIP member ``info`` piece by piece; its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    with _opened(field, what) as source, archive.open(info, "w") as target:
        while chunk := source.read(COPY_BYTES):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mismatch(what: str) -> str:
    return _(
        "The stored %(file)s is not the one recorded when it was signed (its SHA-256 differs)."
    ) % {"file": what}


def _check_digest(data: bytes, recorded: str, what: str) -> str:
    digest = _sha256(data)
    if digest != recorded:
        raise _Refused(_mismatch(what))
    return digest


def _check_xml(data: bytes, version: FinalVersion, school: School, year: SchoolYear) -> None:
    try:
        validate_xml(data)
    except InvalidTranscriptXML as exc:
        raise _Refused(_("The XML is not valid: %(error)s") % {"error": exc.errors[0]}) from exc
    document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    hocba = data_element(document)
    ns = {"h": hocba.nsmap[None]}
    found = (
        hocba.get("maHocBa"),
        hocba.get("phienBan"),
        hocba.findtext("h:hocSinh/h:maHocSinh", namespaces=ns),
        hocba.findtext("h:truong/h:maTruong", namespaces=ns),
        hocba.findtext("h:namHoc", namespaces=ns),
    )
    transcript = version.transcript
    expected = (
        str(transcript.public_id),
        str(version.number),
        transcript.student.student_code,
        school.code,
        year.name,
    )
    if found != expected:
        raise _Refused(_("The XML belongs to another transcript or version."))
    signatures = len(document.findall(f"{{{DS_NS}}}Signature"))
    if signatures != version.signature_count:
        raise _Refused(
            _("The XML carries %(found)s signatures; %(recorded)s were recorded.")
            % {"found": signatures, "recorded": version.signature_count}
        )


def _entry(version: FinalVersion, signers: tuple[fmt.SignerEntry, ...] = ()) -> fmt.TranscriptEntry:
    transcript = version.transcript
    return fmt.TranscriptEntry(
        transcript_id=str(transcript.public_id),
        student_code=transcript.student.student_code,
        version=version.number,
        verification_code=version.verification_code,
        class_name=transcript.class_group.name,
        signatures=version.signature_count,
        signers=signers,
    )


def _signers(school: School, year: SchoolYear) -> dict[int, tuple[fmt.SignerEntry, ...]]:
    """Version id → its recorded signatures in signing order, for every current version of the
    school year: one query, whatever the number of transcripts."""
    rows = (
        TranscriptSignature.objects.filter(
            version__transcript__school=school,
            version__transcript__year=year,
            version__superseded_at__isnull=True,
        )
        .select_related("signed_by")
        .order_by("version_id", "signed_at", "pk")
    )
    found: dict[int, list[fmt.SignerEntry]] = {}
    for row in rows:
        found.setdefault(row.version_id, []).append(
            fmt.SignerEntry(row.role, row.signed_by.display_name, row.certificate_subject)
        )
    return {version: tuple(signers) for version, signers in found.items()}


def _withdrawal(version: TranscriptVersion) -> fmt.Withdrawal:
    transcript = version.transcript
    assert version.superseded_at is not None  # only superseded versions are withdrawn
    return fmt.Withdrawal(
        transcript_id=str(transcript.public_id),
        student_code=transcript.student.student_code,
        version=version.number,
        verification_code=version.verification_code,
        withdrawn_at=version.superseded_at,
        reason=version.superseded_reason or _("superseded"),
    )


def write_package(
    out: BinaryIO,
    *,
    school: School,
    year: SchoolYear,
    kind: str,
    scope: fmt.Scope,
    finals: Sequence[FinalVersion],
    withdrawals: Sequence[TranscriptVersion],
    seal: Signer,
    created_at: datetime.datetime,
    progress: Callable[[int], None] = lambda done: None,
) -> BuildResult:
    """Write the whole package to ``out``, the manifest sealed at once by ``seal`` (a key the
    server holds); see :func:`write_unsealed` and :func:`add_seal`."""
    result = write_unsealed(
        out, school=school, year=year, kind=kind, scope=scope, finals=finals,
        withdrawals=withdrawals, created_at=created_at, progress=progress,
    )  # fmt: skip
    if result.ok:
        ltv = LtvSettings.from_settings()
        prepared = prepare_cms(result.manifest_bytes, seal)
        signature = finish_cms(
            prepared,
            seal,
            seal.sign_digest(prepared.digest),
            timestamp_url=ltv.timestamp_url if ltv.timestamped else None,
            timeout=ltv.timeout,
        )
        add_seal(out, signature)
    return result


def write_unsealed(
    out: BinaryIO,
    *,
    school: School,
    year: SchoolYear,
    kind: str,
    scope: fmt.Scope,
    finals: Sequence[FinalVersion],
    withdrawals: Sequence[TranscriptVersion],
    created_at: datetime.datetime,
    progress: Callable[[int], None] = lambda done: None,
) -> BuildResult:
    """Write the package to ``out`` (a seekable binary file) but for the seal's signature over
    the manifest (:func:`add_seal` adds it, now or once the seal's holder has signed).
    ``finals`` need their transcript, student and class loaded and ``signature_count``
    annotated (see :func:`transcripts.packages.scope.current_finals`). ``progress`` is called
    with the number of transcripts handled so far."""
    files: list[fmt.FileEntry] = []
    failures: list[Failure] = []
    entries: list[fmt.TranscriptEntry] = []
    with zipfile.ZipFile(out, "w", compresslevel=fmt.ZIP_COMPRESSLEVEL) as archive:

        def add(path: str, data: bytes, *, compress: bool) -> None:
            archive.writestr(fmt.zip_info(path, compress=compress), data)
            files.append(fmt.FileEntry(path, len(data), _sha256(data)))

        for name in fmt.SCHEMA_FILES:
            add(f"schema/{name}", (fmt.SCHEMA_DIR / name).read_bytes(), compress=True)
        signers = _signers(school, year)
        for done, version in enumerate(finals, 1):
            entry = _entry(version, signers.get(version.pk, ()))
            xml_path, pdf_path = entry.paths
            try:
                xml = _read(version.xml_file, "XML")
                _check_digest(xml, version.xml_sha256, "XML")
                _check_xml(xml, version, school, year)
                if not version.pdf_file:
                    raise _Refused(_("The signed %(file)s is missing.") % {"file": "PDF"})
                add(xml_path, xml, compress=True)
                # Streamed, then checked: a PDF that differs fails the build, whose ZIP is
                # discarded. PDF streams are compressed already.
                info = fmt.zip_info(pdf_path, compress=False)
                size, digest = _copy(version.pdf_file, "PDF", archive, info)
                if digest != version.pdf_sha256:
                    raise _Refused(_mismatch("PDF"))
                files.append(fmt.FileEntry(pdf_path, size, digest))
            except _Refused as exc:
                failures.append(_failure(version, str(exc)))
            else:
                entries.append(entry)
            progress(done)
        if failures:
            return BuildResult(None, failures)
        if kind == PackageKind.SINGLE and entries:
            student = finals[0].transcript.student
            if (marks := _leaver_marks(school, year, student)) is not None:
                add(fmt.marks_path(student.student_code), marks, compress=True)
        if (checkpoint := _ledger_checkpoint(school)) is not None:
            add(fmt.LEDGER_CHECKPOINT, checkpoint, compress=True)
        manifest = fmt.Manifest(
            kind=kind,
            school_code=school.code,
            department_code=school.department_code,
            school_name=school.name,
            school_year=year.name,
            scope=scope,
            transcripts=tuple(entries),
            withdrawals=tuple(_withdrawal(version) for version in withdrawals),
            files=tuple(files),
        ).with_identity(created_at=created_at)
        manifest_bytes = fmt.manifest_xml(manifest)
        archive.writestr(fmt.zip_info(fmt.MANIFEST, compress=True), manifest_bytes)
    return BuildResult(manifest, [], manifest_bytes)


def _leaver_marks(school: School, year: SchoolYear, student: Student) -> bytes | None:
    """The marks member of a student who left the school before the year's last term ended
    (transcripts/packages/marks.py): the individual marks of the year so far, for the new
    school's gradebook. None for a student still at the school (moved to another class
    counts), who left after the year, or who has no mark."""
    enrollments = Enrollment.objects.filter(student=student, class_group__year=year)
    if enrollments.filter(left_on__isnull=True).exists():
        return None
    left = enrollments.select_related("class_group").order_by("-left_on").first()
    last_day = Term.objects.filter(year=year).order_by("-ends_on").values_list("ends_on", flat=True)
    ends_on = last_day.first()
    if left is None or left.left_on is None or ends_on is None or left.left_on >= ends_on:
        return None
    marks = year_marks(school=school, year=year, student=student)
    if not marks:
        return None
    return marks_json(
        MarksDocument(
            school_code=school.code,
            school_year=year.name,
            student_code=student.student_code,
            class_name=left.class_group.name,
            grade=left.class_group.grade,
            left_on=left.left_on,
            marks=tuple(marks),
        )
    )


def _ledger_checkpoint(school: School) -> bytes | None:
    """The school's ledger checkpoint at this moment, signed (gradebook/checkpoints.py), for
    the package to carry: a copy of the marks' chain head kept outside the school's database.
    None when the school has no ledger events yet."""
    checkpoint = make_checkpoint(school, reason=CheckpointReason.PACKAGE)
    return None if checkpoint is None else checkpoint_document(checkpoint, school)


def add_seal(out: BinaryIO, signature: bytes) -> None:
    """Append the seal's detached CMS signature over the manifest, the package's last member,
    to a package written by :func:`write_unsealed` (the members before it are not rewritten)."""
    out.seek(0)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(fmt.zip_info(fmt.SIGNATURE, compress=False), signature)


def _failure(version: TranscriptVersion, message: str) -> Failure:
    transcript = version.transcript
    return Failure(
        version_id=version.pk,
        transcript_id=transcript.pk,
        student=transcript.student.full_name,
        class_name=transcript.class_group.name,
        message=message,
    )
