"""Issue 6: exporting packages — what a full, incremental and single package holds, the refusal
when transcripts are not final, determinism, failures named per transcript and the retry."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.transcripts.conftest import complete_year, export_now, finalise, stored
from transcripts.models import (
    EntryStatus,
    JobStatus,
    PackageKind,
    TranscriptSignature,
    UploadStatus,
)
from transcripts.packages import format as fmt
from transcripts.packages.exports import ExportRefused, retry_export, run_export
from transcripts.packages.verify import verify_package
from transcripts.workflow import reopen, transcript_for

pytestmark = pytest.mark.usefixtures("english")


def members(package) -> dict[str, bytes]:
    with package.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def manifest_of(package) -> fmt.Manifest:
    return fmt.parse_manifest(members(package)[fmt.MANIFEST])


def test_full_package_holds_every_final_transcript_and_verifies(final_class, admin, school_a, pki):
    package = export_now(admin, school_a)
    assert package.status == JobStatus.FINISHED, package.message
    codes = sorted(t.student.student_code for t in final_class)
    assert list(members(package)) == [
        "schema/goi-hocba-v1.xsd",
        "schema/hocba-v1.xsd",
        "schema/hocbaso-v1.xsd",
        *[f"transcripts/{code}/1.{ext}" for code in codes for ext in ("xml", "pdf")],
        "manifest.xml",
        "manifest.p7s",
    ]
    manifest = manifest_of(package)
    assert (manifest.kind, manifest.school_code, manifest.department_code) == (
        "full",
        "SCHOOLA",
        "01",
    )
    assert manifest.school_year == "2025-2026"
    assert [t.student_code for t in manifest.transcripts] == codes
    assert {t.transcript_id for t in manifest.transcripts} == {
        str(t.public_id) for t in final_class
    }
    assert all(t.signatures == 3 for t in manifest.transcripts)
    assert str(package.package_id) == manifest.package_id
    assert (package.final_count, package.withdrawn_count, package.left_out_count) == (3, 0, 0)
    assert package.entries.filter(status=EntryStatus.FINAL).count() == 3
    report = verify_package(package.file.path, anchor_paths=[pki.ca_pem])
    assert report.ok, report.problems
    assert (report.transcripts_checked, report.files_checked) == (3, 9)
    assert report.sealed_by == "Trường THCS Ánh Dương"


def test_export_copies_the_stored_signed_files_and_signs_nothing_else(final_class, admin, school_a):
    signatures = TranscriptSignature.objects.count()
    package = export_now(admin, school_a)
    files = members(package)
    for transcript in final_class:
        version = transcript.current_version
        xml_path, pdf_path = fmt.transcript_paths(transcript.student.student_code, 1)
        assert files[pdf_path] == stored(version.pdf_file)
        assert files[xml_path] == stored(version.xml_file)
    assert TranscriptSignature.objects.count() == signatures


def test_the_same_versions_give_the_same_zip_but_for_the_time_and_the_signature(
    final_class, admin, school_a
):
    first, second = export_now(admin, school_a), export_now(admin, school_a)
    a, b = members(first), members(second)
    assert a.keys() == b.keys()
    assert all(a[name] == b[name] for name in a if name not in (fmt.MANIFEST, fmt.SIGNATURE))

    def timeless(manifest: bytes) -> bytes:
        return re.sub(rb"<thoiDiemTao>[^<]*</thoiDiemTao>", b"", manifest)

    assert timeless(a[fmt.MANIFEST]) == timeless(b[fmt.MANIFEST])
    assert first.package_id == second.package_id
    # Byte for byte, the ZIPs are the same up to the manifest's entry.
    raw_a, raw_b = stored(first.file), stored(second.file)
    with zipfile.ZipFile(io.BytesIO(raw_a)) as archive:
        offset = archive.getinfo(fmt.MANIFEST).header_offset
    assert raw_a[:offset] == raw_b[:offset]


def test_export_refuses_while_a_transcript_is_not_final_and_lists_it(
    signing_setup, credentials, class_a, homeroom, principal, role_signers, admin, school_a
):
    students = [e.student for e in class_a.enrollments.order_by("roll_number")]
    for student in students[:2]:
        complete_year(class_a, student)
        finalise(transcript_for(student=student, class_group=class_a), homeroom, principal,
                 role_signers)  # fmt: skip
    with pytest.raises(ExportRefused) as refused:
        export_now(admin, school_a)
    assert "1 student's transcript is not final yet" in refused.value.message
    assert [(row.student, row.class_name, row.state) for row in refused.value.not_final] == [
        (students[2].full_name, "6A1", "no transcript yet")
    ]
    package = export_now(admin, school_a, only_final=True)
    manifest = manifest_of(package)
    assert len(manifest.transcripts) == 2
    assert manifest.scope == fmt.Scope(students=3, left_out=1, only_final=True)
    assert package.left_out_count == 1


def test_incremental_sends_what_changed_since_the_last_accepted_upload(
    final_class, admin, principal, homeroom, role_signers, school_a, pki
):
    full = export_now(admin, school_a)
    full.upload_status = UploadStatus.ACCEPTED
    full.save()
    with pytest.raises(ExportRefused, match="already in an accepted upload"):
        export_now(admin, school_a, kind=PackageKind.INCREMENTAL)
    changed = final_class[1]
    reopen(actor=principal, transcript=changed, reason="Phúc khảo môn Toán")
    finalise(changed, homeroom, principal, role_signers)
    incremental = export_now(admin, school_a, kind=PackageKind.INCREMENTAL)
    manifest = manifest_of(incremental)
    code = changed.student.student_code
    assert [(t.student_code, t.version) for t in manifest.transcripts] == [(code, 2)]
    assert [(w.student_code, w.version, w.reason) for w in manifest.withdrawals] == [
        (code, 1, "Phúc khảo môn Toán")
    ]
    assert [name for name in members(incremental) if name.startswith("transcripts/")] == [
        f"transcripts/{code}/2.xml",
        f"transcripts/{code}/2.pdf",
    ]
    assert verify_package(incremental.file.path, anchor_paths=[pki.ca_pem]).ok
    incremental.upload_status = UploadStatus.ACCEPTED
    incremental.save()
    with pytest.raises(ExportRefused, match="Nothing to send"):
        export_now(admin, school_a, kind=PackageKind.INCREMENTAL)
    assert len(manifest_of(export_now(admin, school_a)).withdrawals) == 0


def test_single_package_holds_one_student(final_class, admin, school_a, pki):
    student = final_class[2].student
    package = export_now(admin, school_a, kind=PackageKind.SINGLE, student=student)
    manifest = manifest_of(package)
    assert [t.student_code for t in manifest.transcripts] == [student.student_code]
    assert manifest.scope.students == 1
    assert verify_package(package.file.path, anchor_paths=[pki.ca_pem]).ok


def test_a_changed_stored_file_fails_the_export_naming_the_student_and_a_retry_finishes(
    final_class, admin, school_a
):
    broken = final_class[0]
    pdf = broken.current_version.pdf_file
    original = stored(pdf)
    with open(pdf.path, "r+b") as handle:
        handle.seek(500)
        handle.write(b"X")
    package = export_now(admin, school_a)
    assert package.status == JobStatus.FAILED
    assert not package.file
    assert package.message == "1 transcript could not be packaged; nothing was exported."
    assert [(f["student"], f["class_name"]) for f in package.failures] == [
        (broken.student.full_name, "6A1")
    ]
    assert (
        "The stored PDF is not the one recorded when it was signed"
        in (package.failures[0]["message"])
    )
    with open(pdf.path, "wb") as handle:
        handle.write(original)
    again = retry_export(actor=admin, package=package, secret="mat-khau-ky-so", enqueue=False)
    run_export(again.pk)
    again.refresh_from_db()
    assert (again.pk, again.status, again.attempts, again.failures) == (
        package.pk, JobStatus.FINISHED, 2, []
    )  # fmt: skip
    assert again.entries.count() == 3


def test_a_wrong_seal_password_starts_nothing(final_class, admin, school_a):
    from transcripts.models import TranscriptPackage
    from transcripts.packages.exports import start_export

    with pytest.raises(ExportRefused, match="Cannot open the certificate file: wrong password"):
        start_export(
            actor=admin, school=school_a, year=school_a.current_year(), kind="full", secret="no"
        )
    assert not TranscriptPackage.objects.exists()


def test_a_teacher_may_not_export(final_class, teacher, school_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_now(teacher, school_a)


def test_the_export_reads_the_database_a_constant_number_of_times(
    signing_setup, credentials, class_a, homeroom, principal, role_signers, admin, school_a
):
    from transcripts.packages.exports import start_export

    def queries_of_one_export() -> int:
        package = start_export(actor=admin, school=school_a, year=school_a.current_year(),
                               kind="full", secret="mat-khau-ky-so", only_final=True,
                               enqueue=False)  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            run_export(package.pk)
        return len(queries)

    students = [e.student for e in class_a.enrollments.order_by("roll_number")]
    for student in students:
        complete_year(class_a, student)
    finalise(transcript_for(student=students[0], class_group=class_a), homeroom, principal,
             role_signers)  # fmt: skip
    one = queries_of_one_export()
    for student in students[1:]:
        finalise(transcript_for(student=student, class_group=class_a), homeroom, principal,
                 role_signers)  # fmt: skip
    assert queries_of_one_export() == one


def test_the_manifest_lists_who_signed_each_transcript(final_class, admin, school_a):
    manifest = manifest_of(export_now(admin, school_a))
    for entry in manifest.transcripts:
        assert [(s.role, s.name) for s in entry.signers] == [
            ("homeroom", "homeroom"),
            ("principal", "principal"),
            ("seal", "principal"),  # the seal: who applied it; the certificate is the school's
        ]
        subjects = [s.certificate_subject for s in entry.signers]
        assert all("CN=" in subject for subject in subjects)
        recorded = TranscriptSignature.objects.filter(
            version__transcript__public_id=entry.transcript_id
        ).order_by("signed_at", "pk")
        assert subjects == [row.certificate_subject for row in recorded]


def test_a_manifest_made_before_signers_were_listed_still_reads(final_class, admin, school_a):
    data = members(export_now(admin, school_a))[fmt.MANIFEST]
    old = re.sub(rb"\s*<nguoiKy [^>]*/>", b"", data)
    old = re.sub(rb"(<hocBa [^>]*)>\s*</hocBa>", rb"\1/>", old)
    assert b"nguoiKy" not in old
    manifest = fmt.parse_manifest(old)
    assert [entry.signers for entry in manifest.transcripts] == [(), (), ()]


def test_a_package_carries_the_schools_ledger_checkpoint(
    final_class, admin, teacher, class_a2, school_a, pki
):
    """Issue 18, finding 3: every package carries a signed checkpoint of the school's marks
    ledger, sealed with the manifest; verify_ledger checks the database against it."""
    from gradebook.checkpoints import read_document
    from gradebook.ledger import verify

    def verify_ledger_kinds(school, document):
        return {p.kind for p in verify(school, external=[read_document(document)]).problems}

    from gradebook.columns import subject_columns
    from gradebook.models import LedgerCheckpoint, LedgerHead
    from gradebook.services import save_mark

    entry = class_a2.year.curriculum.get(grade=class_a2.grade, subject__code="TOAN")
    column = subject_columns(entry, 1)[0]
    student = class_a2.enrollments.get().student  # a class whose transcripts are not final
    save_mark(actor=teacher, class_group=class_a2, student=student, column=column, text="9",
              base_version=None)  # fmt: skip
    package = export_now(admin, school_a, only_final=True)
    files = members(package)
    assert fmt.LEDGER_CHECKPOINT in files
    listed = manifest_of(package).file(fmt.LEDGER_CHECKPOINT)
    assert listed is not None and listed.size == len(files[fmt.LEDGER_CHECKPOINT])
    head = LedgerHead.objects.get(school=school_a)
    checkpoint = LedgerCheckpoint.objects.get(school=school_a)
    assert (checkpoint.seq, checkpoint.hash, checkpoint.reason) == (head.seq, head.hash, "package")
    assert f'"hash": "{head.hash}"' in files[fmt.LEDGER_CHECKPOINT].decode()
    report = verify_package(package.file.path, anchor_paths=[pki.ca_pem])
    assert report.ok, report.problems
    # The copy the Department keeps vouches for the school's chain. (The fixture's marks were
    # written straight into the table, so the ledger's accounting of them is left out here.)
    external = [read_document(files[fmt.LEDGER_CHECKPOINT])]
    ledger = verify(school_a, external=external)
    assert {p.kind for p in ledger.problems} == {"untracked_value"}
    assert ledger.anchored_up_to.seq == head.seq and len(ledger.anchors) == 2
    # Another school's database does not match it; a forged copy is refused.
    forged = files[fmt.LEDGER_CHECKPOINT].replace(head.hash.encode(), b"0" * 64)
    assert verify_ledger_kinds(school_a, forged) >= {"checkpoint_signature"}
