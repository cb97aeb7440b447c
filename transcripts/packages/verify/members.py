"""The members against the manifest: each one listed and each listed file present, every
digest over the bytes actually inflated, the school's ledger checkpoint when there is one, and
a leaver's marks of the year so far when a single package carries them."""

from __future__ import annotations

import hashlib
import zipfile

from django.utils.translation import gettext as _

from gradebook.checkpoints import document_problem
from transcripts.packages import format as fmt
from transcripts.packages.marks import MARKS_MAX_BYTES, MarksError, parse_marks
from transcripts.packages.verify.limits import Inflation, Limits, _stream, read_member
from transcripts.packages.verify.report import PackageReport


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
    allowed = schema | transcript_files | {fmt.LEDGER_CHECKPOINT} | _marks_paths(manifest)
    for path in sorted(listed - allowed):
        report.add(path, _("The format has no place for this file."))
    present = listed & names
    return present & transcript_files, present & schema


def _marks_paths(manifest: fmt.Manifest) -> set[str]:
    """Where a single package may carry its student's marks of the year so far."""
    if manifest.kind != "single":
        return set()
    return {fmt.marks_path(entry.student_code) for entry in manifest.transcripts}


def _check_marks(
    archive: zipfile.ZipFile,
    manifest: fmt.Manifest,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
) -> None:
    """The marks of the year so far, when the package carries them (its digest was checked
    with the others): a document of the format, of the manifest's school, year and student."""
    for path in sorted(_marks_paths(manifest)):
        if manifest.file(path) is None:
            continue
        data = read_member(archive, path, limits=limits, budget=budget, report=report,
                           limit=MARKS_MAX_BYTES)  # fmt: skip
        if data is None:
            continue
        try:
            document = parse_marks(data)
        except MarksError:
            report.add(path, _("The marks of the year cannot be read."))
            continue
        found = (document.school_code, document.school_year, fmt.marks_path(document.student_code))
        if found != (manifest.school_code, manifest.school_year, path):
            report.add(path, _("The marks of the year are of another school, year or student."))


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
