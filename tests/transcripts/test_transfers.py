"""Issue 16, items 4-5: a transfer package received by the new school, verified with the package
verifier before anything is stored, and the multi-year record that gathers the level's years.

The package is the single-student package of test_package_verify's module fixture (school
SCHOOLA, student HS000001, grade 6, 2025-2026); the receiving school is SCHOOLB, where the
same student (the national student code) arrived.
"""

# ruff: noqa: F401, F811  (fixtures imported from other modules, used as arguments)

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools.models import ClassGroup, Enrollment, Student
from tests.conftest import add_students
from tests.transcripts.conftest import pki_make_cert
from tests.transcripts.test_package_verify import (
    built,
    flip,
    member,
    middle_of_largest_stream,
    rewrite,
)
from transcripts.models import ReceivedDocument, ReceivedPackage
from transcripts.packages import format as fmt
from transcripts.records import student_record
from transcripts.transfers import TransferRefused, receive_package

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def arrived(school_b, outsider, settings, built, tmp_path):
    """Student HS000001 at school B, in class 7A1 of B's year, and B's settings."""
    settings.SIGNING_TRUST_ANCHORS = [str(built.ca_pem)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    class_group = ClassGroup.objects.create(
        year=school_b.current_year(), name="7A1", grade=7, homeroom_teacher=outsider
    )
    add_students(class_group, [("Nguyễn Văn Bình", "M")], 1)
    return Student.objects.get(school=school_b, student_code="HS000001")


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("package.zip", data, content_type="application/zip")


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "received"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def receive(arrived, outsider, data: bytes):
    return receive_package(
        actor=outsider, school=arrived.school, student=arrived, upload=upload(data)
    )


def assert_nothing_stored(settings) -> None:
    assert ReceivedPackage.objects.count() == 0
    assert ReceivedDocument.objects.count() == 0
    assert stored_files(settings) == []


def test_a_verified_package_is_stored_as_received_years(arrived, outsider, built, settings):
    package = receive(arrived, outsider, built.single)
    document = package.documents.get()
    assert (document.source_school_code, document.year_label, document.grade) == (
        "SCHOOLA",
        "2025-2026",
        6,
    )
    xml_path, pdf_path = fmt.transcript_paths("HS000001", document.version)
    with document.pdf_file.open("rb") as handle:
        assert handle.read() == member(built.single, pdf_path)  # unchanged, still signed
    with document.xml_file.open("rb") as handle:
        assert handle.read() == member(built.single, xml_path)
    assert [s[0] for s in document.signers] == ["homeroom", "principal", "seal"]
    assert package.report["transcripts_verified"] is True
    assert len(stored_files(settings)) == 3  # the package, the PDF, the XML


def test_a_tampered_package_is_refused_with_the_reason_and_nothing_stored(
    arrived, outsider, built, settings
):
    _xml, pdf_path = fmt.transcript_paths("HS000001", 1)
    pdf = member(built.single, pdf_path)
    tampered = rewrite(built.single, change={pdf_path: flip(pdf, middle_of_largest_stream(pdf))})
    with pytest.raises(TransferRefused) as refused:
        receive(arrived, outsider, tampered)
    assert any(pdf_path in problem and "SHA-256" in problem for problem in refused.value.problems)
    assert_nothing_stored(settings)


def test_a_package_of_a_foreign_trust_is_refused(arrived, outsider, built, settings, tmp_path):
    _key, other_ca = pki_make_cert(common_name="Another CA", ca=True)
    other = tmp_path / "other-ca.pem"
    other.write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    settings.SIGNING_TRUST_ANCHORS = [str(other)]
    with pytest.raises(TransferRefused) as refused:
        receive(arrived, outsider, built.single)
    assert any("manifest" in p.lower() for p in refused.value.problems), refused.value.problems
    assert_nothing_stored(settings)


def test_a_forged_file_is_refused(arrived, outsider, settings):
    with pytest.raises(TransferRefused) as refused:
        receive(arrived, outsider, b"PK\x03\x04 not really a package")
    assert refused.value.problems == ["The file is not a ZIP package."]
    assert_nothing_stored(settings)


def test_another_students_package_is_refused(arrived, outsider, built, settings):
    arrived.student_code = "HS000777"
    arrived.save()
    with pytest.raises(TransferRefused, match="HS000001, not HS000777"):
        receive(arrived, outsider, built.single)
    assert_nothing_stored(settings)


def test_the_same_package_twice_is_refused_the_second_time(arrived, outsider, built, settings):
    receive(arrived, outsider, built.single)
    with pytest.raises(TransferRefused, match="already been received"):
        receive(arrived, outsider, built.single)
    assert ReceivedDocument.objects.count() == 1


def test_the_record_lists_received_and_own_years_in_order(arrived, outsider, built):
    receive(arrived, outsider, built.single)
    years = student_record(school=arrived.school, student=arrived)
    assert [(y.year_label, y.grade, y.is_received) for y in years] == [("2025-2026", 6, True)]
    assert years[0].learning  # filled from the received XML
    assert years[0].verification_code


# --- pages -----------------------------------------------------------------------------------


def test_the_admin_uploads_and_the_record_shows_the_received_year(client, arrived, outsider, built):
    client.force_login(outsider)
    code = arrived.school.code
    url = reverse("hocba:receive", args=[code, arrived.pk])
    response = client.post(url, {"package": upload(built.single)})
    assert response.status_code == 302
    page = client.get(reverse("hocba:record", args=[code, arrived.pk]))
    assert "Trường THCS Ánh Dương" in page.content.decode()
    assert page.content.decode().count('class="record-year received"') == 1
    pdf = client.get(reverse("hocba:record_pdf", args=[code, arrived.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content.count(b"/Type /Page") - pdf.content.count(b"/Type /Pages") >= 3


def test_the_upload_page_shows_the_verifiers_refusal(client, arrived, outsider, built, settings):
    client.force_login(outsider)
    data = rewrite(built.single, change={fmt.SIGNATURE: None})
    url = reverse("hocba:receive", args=[arrived.school.code, arrived.pk])
    response = client.post(url, {"package": upload(data)})
    assert response.status_code == 400
    assert "The package has no manifest signature." in response.content.decode()
    assert_nothing_stored(settings)


def test_a_teacher_without_the_student_cannot_see_the_record(client, arrived, school_b):
    from accounts.models import Role
    from tests.conftest import make_user

    stranger = make_user("stranger", school_b, Role.TEACHER)
    client.force_login(stranger)
    response = client.get(reverse("hocba:record", args=[school_b.code, arrived.pk]))
    assert response.status_code == 403
    assert Enrollment.objects.filter(student=arrived).exists()


def test_a_received_years_signed_file_downloads_unchanged(client, arrived, outsider, built):
    package = receive(arrived, outsider, built.single)
    document = package.documents.get()
    client.force_login(outsider)
    url = reverse(
        "hocba:received_download", args=[arrived.school.code, arrived.pk, document.pk, "pdf"]
    )
    response = client.get(url)
    _xml, pdf_path = fmt.transcript_paths("HS000001", document.version)
    assert b"".join(response.streaming_content) == member(built.single, pdf_path)


def test_the_record_page_queries_do_not_grow_with_the_years(client, arrived, outsider, built):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    package = receive(arrived, outsider, built.single)
    client.force_login(outsider)
    url = reverse("hocba:record", args=[arrived.school.code, arrived.pk])
    client.get(url)  # the session's first request does its own bookkeeping
    with CaptureQueriesContext(connection) as one_year:
        assert client.get(url).status_code == 200
    document = package.documents.get()
    document.pk, document.transcript_id, document.year_label = None, uuid.uuid4(), "2024-2025"
    document.save()
    with CaptureQueriesContext(connection) as two_years:
        page = client.get(url)
    assert page.content.decode().count('class="record-year received"') == 2
    assert len(two_years) == len(one_year)


def test_a_received_file_missing_from_the_store_is_the_file_not_available_page(
    client, arrived, outsider, built
):
    package = receive(arrived, outsider, built.single)
    document = package.documents.get()
    document.pdf_file.storage.delete(document.pdf_file.name)  # lost from the store
    client.force_login(outsider)
    args = [arrived.school.code, arrived.pk]
    download = client.get(reverse("hocba:received_download", args=[*args, document.pk, "pdf"]))
    reading_copy = client.get(reverse("hocba:record_pdf", args=args))
    assert (download.status_code, reading_copy.status_code) == (404, 404)
    assert "transcripts/stored_unavailable.html" in [t.name for t in reading_copy.templates]
