"""Issue 6: the Packages page — export with a progress bar through a real task backend, download,
upload to the test receiver, the refusal listing what is not final, retry, the school's upload
settings — and package checks on the public verification page."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from tests.conftest import make_user
from tests.transcripts.conftest import P12_PASSWORD, complete_year, export_now, finalise, stored
from tests.transcripts.test_jobs import code
from tests.transcripts.test_package_upload import TOKEN
from tests.transcripts.test_package_verify import member, rewrite
from transcripts.models import (
    JobStatus,
    ProvincialEndpoint,
    TranscriptPackage,
    UploadStatus,
    VerificationLookup,
)
from transcripts.packages.receiver import ProvinceReceiver
from transcripts.packages.verify import verify_package
from transcripts.workflow import transcript_for

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def exporter(admin):
    """The school admin, with the two-factor authentication that exporting needs."""
    return admin


def start(client, exporter, school, **data):
    return code(
        client,
        exporter,
        reverse("hocba:package_start", args=[school.code]),
        {"kind": "full", "seal_password": P12_PASSWORD, **data},
    )


def test_the_admin_exports_watches_the_progress_downloads_and_uploads(
    english, backend, django_capture_on_commit_callbacks, settings, tmp_path, pki,
    final_class, exporter, school_a,
):  # fmt: skip
    client = english
    client.force_login(exporter)
    page = client.get(reverse("hocba:packages", args=[school_a.code]))
    assert "3</strong> / 3 students have a final transcript" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, exporter, school_a)
    package = TranscriptPackage.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("hocba:package", args=[school_a.code, package.pk])
    progress = reverse("hocba:package_progress", args=[school_a.code, package.pk])
    waiting = client.get(progress).content.decode()
    assert "hx-get" in waiting and "Waiting for a worker" in waiting
    backend()
    done = client.get(progress).content.decode()
    assert "hx-get" not in done and "100%" in done and "3 final, 0 withdrawn" in done
    download = client.get(reverse("hocba:package_download", args=[school_a.code, package.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="hocba-SCHOOLA-')
    archive = tmp_path / "download.zip"
    archive.write_bytes(b"".join(download.streaming_content))
    assert verify_package(archive, anchor_paths=[pki.ca_pem]).ok
    receiver = ProvinceReceiver(token=TOKEN, anchor_paths=[pki.ca_pem], directory=tmp_path / "p")
    receiver.start()
    try:
        settings.PROVINCE_UPLOAD_URL, settings.PROVINCE_UPLOAD_TOKEN = receiver.url, TOKEN
        settings.PROVINCE_UPLOAD_BACKOFF = 0
        receiver.faults.fail_next = 1
        upload = reverse("hocba:package_upload", args=[school_a.code, package.pk])
        with django_capture_on_commit_callbacks(execute=True):
            code(client, exporter, upload, {})
        assert "Waiting to upload" in client.get(progress).content.decode()
        backend()
    finally:
        receiver.stop()
    package.refresh_from_db()
    assert package.upload_status == UploadStatus.ACCEPTED
    shown = client.get(reverse("hocba:package", args=[school_a.code, package.pk])).content.decode()
    assert package.receipt_id in shown and "Network or server error (retried)" in shown
    history = client.get(reverse("hocba:packages", args=[school_a.code])).content.decode()
    assert "Accepted by the Department" in history and package.receipt_id in history


def test_the_page_refuses_while_transcripts_are_not_final_and_lists_them(
    english, signing_setup, credentials, class_a, homeroom, principal, role_signers, exporter,
    school_a,
):  # fmt: skip
    students = [e.student for e in class_a.enrollments.order_by("roll_number")]
    complete_year(class_a, students[0])
    finalise(transcript_for(student=students[0], class_group=class_a), homeroom, principal,
             role_signers)  # fmt: skip
    english.force_login(exporter)
    response = start(english, exporter, school_a)
    page = response.content.decode()
    assert response.status_code == 400
    assert "2 students&#x27; transcripts are not final yet" in page
    assert students[1].full_name in page and students[2].full_name in page
    assert not TranscriptPackage.objects.exists()
    assert start(english, exporter, school_a, only_final="on").status_code == 302


def test_a_wrong_code_or_seal_password_starts_nothing(english, final_class, exporter, school_a):
    english.force_login(exporter)
    path = reverse("hocba:package_start", args=[school_a.code])
    wrong_code = english.post(
        path, {"kind": "full", "seal_password": P12_PASSWORD, "otp": "000000"}
    )
    assert "That code is not valid" in wrong_code.content.decode()
    wrong_password = start(english, exporter, school_a, seal_password="nope")
    assert "Cannot open the certificate file: wrong password" in wrong_password.content.decode()
    assert not TranscriptPackage.objects.exists()


def test_an_admin_without_two_factor_authentication_cannot_export(english, final_class, school_a):
    english.force_login(make_user("newadmin", school_a, Role.ADMIN))
    response = english.post(
        reverse("hocba:package_start", args=[school_a.code]),
        {"kind": "full", "seal_password": P12_PASSWORD, "otp": "123456"},
    )
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")
    assert not TranscriptPackage.objects.exists()


def test_one_student_needs_a_known_student_code(english, final_class, exporter, school_a):
    english.force_login(exporter)
    response = start(english, exporter, school_a, kind="single", student_code="NOPE")
    assert "No student of this school has the code “NOPE”." in response.content.decode()


def test_a_failed_export_is_started_again_from_its_page(english, final_class, exporter, school_a):
    pdf = final_class[0].current_version.pdf_file
    original = stored(pdf)
    with open(pdf.path, "wb") as handle:
        handle.write(b"gone")
    package = export_now(exporter, school_a)
    english.force_login(exporter)
    page = english.get(reverse("hocba:package", args=[school_a.code, package.pk])).content.decode()
    assert final_class[0].student.full_name in page and 'id="retry-form"' in page
    with open(pdf.path, "wb") as handle:
        handle.write(original)
    response = code(english, exporter, reverse("hocba:package_retry", args=[school_a.code,
                    package.pk]), {"seal_password": P12_PASSWORD})  # fmt: skip
    assert response.status_code == 302
    package.refresh_from_db()
    assert (package.status, package.failures) == (JobStatus.QUEUED, [])


def test_the_upload_settings_keep_the_token_secret(english, settings, exporter, school_a):
    settings.PROVINCE_UPLOAD_HOSTS = ["so.example"]
    english.force_login(exporter)
    path = reverse("hocba:province_settings", args=[school_a.code])
    code(english, exporter, path, {"url": "https://so.example/api/v1", "token": "bi-mat-123"})
    endpoint = ProvincialEndpoint.objects.get(school=school_a)
    assert endpoint.url == "https://so.example/api/v1"
    page = english.get(path).content.decode()
    assert "bi-mat-123" not in page and "an access token is stored" in page
    code(english, exporter, path, {"url": "https://so.example/api/v1"})
    endpoint.refresh_from_db()
    assert endpoint.url == "https://so.example/api/v1" and endpoint.token_encrypted
    code(english, exporter, path, {"url": "https://so.example/api/v1", "clear_token": "on"})
    endpoint.refresh_from_db()
    assert bytes(endpoint.token_encrypted) == b""


def test_the_public_page_checks_a_package(english, settings, final_class, admin, school_a, pki):
    settings.SIGNING_TRUST_ANCHORS = [str(pki.ca_pem)]
    data = stored(export_now(admin, school_a).file)
    good = english.post("/verify/", {"file": SimpleUploadedFile("goi.zip", data)})
    assert 'data-outcome="package-valid"' in good.content.decode()
    first_xml = next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".xml")
                     and n.startswith("transcripts/"))  # fmt: skip
    tampered = rewrite(data, change={first_xml: member(data, first_xml) + b" "})
    bad = english.post("/verify/", {"file": SimpleUploadedFile("goi.zip", tampered)})
    page = bad.content.decode()
    assert 'data-outcome="package-invalid"' in page
    assert f"{first_xml}</span>: The file&#x27;s size or SHA-256 differs from the manifest." in page
    assert list(VerificationLookup.objects.values_list("method", "outcome")) == [
        ("package", "invalid"),
        ("package", "genuine"),
    ]
    settings.VERIFY_PACKAGE_MAX_BYTES = 1024
    too_big = english.post("/verify/", {"file": SimpleUploadedFile("goi.zip", data)})
    assert too_big.status_code == 413
