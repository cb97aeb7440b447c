"""Transfers in: a student's years of học bạ signed by another school, received as that school's
single-student package (docs/exports.md, "Transfers").

The school admin uploads the package the sending school exported. The package verifier
(:func:`transcripts.packages.verify.verify_package`: ZIP, manifest, seal, digests, every
transcript's XML and PDF signatures against the configured trust anchors) runs first, on the
bytes in memory; only a package it accepts in full, that is from another school and holds only
this student's transcripts of this school's level, is stored: the package as it arrived, and per
year its signed PDF and XML unchanged (:class:`ReceivedDocument`). A refusal stores nothing.
Received documents are never re-signed and never edited: there is no service that changes one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from schools.models import School, Student
from transcripts.models import ReceivedDocument, ReceivedPackage
from transcripts.packages import format as fmt
from transcripts.packages.verify import Limits, verify_package
from transcripts.xml import NAMESPACE, data_element

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User


class TransferRefused(Exception):
    """A package that is not stored; ``message`` is translated, ``problems`` the verifier's
    reasons (member: message)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


@dataclasses.dataclass(frozen=True)
class _Year:
    entry: fmt.TranscriptEntry
    year_label: str
    grade: int
    class_name: str
    results: dict[str, str]
    xml: bytes
    pdf: bytes


def _read_upload(upload: UploadedFile) -> bytes:
    limit = settings.VERIFY_PACKAGE_MAX_BYTES
    too_large = TransferRefused(
        _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
    )
    if (upload.size or 0) > limit:  # declared too large: nothing read
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _year(archive: zipfile.ZipFile, entry: fmt.TranscriptEntry) -> _Year:
    """What the learning history needs, from a transcript's XML the verifier accepted."""
    xml_path, pdf_path = entry.paths
    xml = archive.read(xml_path)
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    hocba = data_element(document)
    ns = {"h": NAMESPACE}

    def text(path: str) -> str:
        return (hocba.findtext(path, namespaces=ns) or "").strip()

    results = {
        "learning": text("h:ketQuaTHCSTHPT/h:ketQuaHocTap/h:caNam"),
        "conduct": text("h:ketQuaTHCSTHPT/h:ketQuaRenLuyen/h:caNam"),
        "promotion": text("h:ketQuaTHCSTHPT/h:lenLop"),
    }
    return _Year(
        entry=entry,
        year_label=text("h:namHoc"),
        grade=int(text("h:lop/h:khoi") or 0),
        class_name=text("h:lop/h:tenLop"),
        results={key: value for key, value in results.items() if value},
        xml=xml,
        pdf=archive.read(pdf_path),
    )


def _check_fit(
    *, school: School, student: Student, manifest: fmt.Manifest, years: list[_Year]
) -> None:
    if manifest.school_code == school.code:
        raise TransferRefused(_("This package was exported by this school: nothing to receive."))
    if not years:
        raise TransferRefused(_("The package carries no transcript."))
    others = sorted({y.entry.student_code for y in years} - {student.student_code})
    if others:
        raise TransferRefused(
            _("The package holds the transcripts of student code %(found)s, not %(code)s.")
            % {"found": ", ".join(others), "code": student.student_code}
        )
    outside = sorted({y.grade for y in years if y.grade not in school.grades})
    if outside:
        raise TransferRefused(
            _("The package holds a year of grade %(grades)s, which is not of this school's level.")
            % {"grades": ", ".join(map(str, outside))}
        )
    known = ReceivedDocument.objects.filter(
        student=student,
        transcript_id__in=[y.entry.transcript_id for y in years],
        version__in=[y.entry.version for y in years],
    ).values_list("transcript_id", "version")
    if {(str(t), v) for t, v in known} & {(y.entry.transcript_id, y.entry.version) for y in years}:
        raise TransferRefused(_("These transcripts have already been received."))


def receive_package(
    *, actor: User, school: School, student: Student, upload: UploadedFile
) -> ReceivedPackage:
    """Verify ``upload`` with the package verifier and, only if it is accepted and fits this
    student, store it and its years as received documents (one transaction). Raises
    :class:`TransferRefused` with the reason otherwise; nothing is written then."""
    if student.school_id != school.pk:
        raise ValueError("the student is not of this school")
    data = _read_upload(upload)
    digest = hashlib.sha256(data).hexdigest()
    if ReceivedPackage.objects.filter(student=student, sha256=digest).exists():
        raise TransferRefused(_("This package has already been received."))
    report = verify_package(io.BytesIO(data), limits=Limits.public())
    if not report.ok or report.manifest is None:
        raise TransferRefused(
            _("The package verifier refused the package."),
            problems=[str(problem) for problem in report.problems],
        )
    if not report.transcripts_verified:
        raise TransferRefused(_("Not every signature could be checked in time; nothing stored."))
    manifest = report.manifest
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        years = [_year(archive, entry) for entry in manifest.transcripts]
    _check_fit(school=school, student=student, manifest=manifest, years=years)
    stored_report = report.as_json()
    if manifest.file(marks := fmt.marks_path(student.student_code)) is not None:
        stored_report["marks"] = marks  # the year so far's marks (transcripts/transfer_marks.py)
    return _store(actor, school, student, data, digest, manifest, stored_report, years)


def _store(
    actor: User,
    school: School,
    student: Student,
    data: bytes,
    digest: str,
    manifest: fmt.Manifest,
    report: dict[str, object],
    years: list[_Year],
) -> ReceivedPackage:
    """The rows and files in one go; a file written before a failing row is deleted again."""
    written: list = []
    try:
        with transaction.atomic():
            package = ReceivedPackage(
                school=school,
                student=student,
                source_school_code=manifest.school_code,
                source_school_name=manifest.school_name,
                package_id=manifest.package_id,
                sha256=digest,
                verified_at=timezone.now(),
                report=report,
                received_by=actor,
            )
            package.file.save(f"{manifest.school_code}-{student.student_code}.zip",
                              ContentFile(data), save=False)  # fmt: skip
            written.append(package.file)
            package.save()
            for year in years:
                _document(package, year, written)
    except IntegrityError as exc:
        _delete(written)
        raise TransferRefused(_("These transcripts have already been received.")) from exc
    except BaseException:
        _delete(written)
        raise
    return package


def _document(package: ReceivedPackage, year: _Year, written: list) -> ReceivedDocument:
    entry = year.entry
    document = ReceivedDocument(
        package=package,
        school=package.school,
        student=package.student,
        source_school_code=package.source_school_code,
        source_school_name=package.source_school_name,
        year_label=year.year_label,
        grade=year.grade,
        class_name=year.class_name,
        transcript_id=entry.transcript_id,
        version=entry.version,
        verification_code=entry.verification_code,
        signers=[[s.role, s.name, s.certificate_subject] for s in entry.signers],
        results=year.results,
        pdf_sha256=hashlib.sha256(year.pdf).hexdigest(),
        xml_sha256=hashlib.sha256(year.xml).hexdigest(),
    )
    name = f"{year.year_label}-v{entry.version}"
    document.pdf_file.save(f"{name}.pdf", ContentFile(year.pdf), save=False)
    written.append(document.pdf_file)
    document.xml_file.save(f"{name}.xml", ContentFile(year.xml), save=False)
    written.append(document.xml_file)
    document.save()
    return document


def _delete(files: list) -> None:
    for field in files:
        field.storage.delete(field.name)
