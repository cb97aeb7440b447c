"""Issue 6: uploading packages to the provincial endpoint — against the test receiving server
over a real socket, which verifies what it receives and can fail, stall or hang up on demand."""

from __future__ import annotations

import hashlib

import pytest

from tests.transcripts.conftest import export_now, stored
from tests.transcripts.test_package_verify import member, rewrite
from transcripts.models import PackageKind, UploadAttempt, UploadStatus
from transcripts.packages import format as fmt
from transcripts.packages.exports import ExportRefused
from transcripts.packages.receiver import ProvinceReceiver
from transcripts.packages.uploads import UploadRefused, run_upload, save_endpoint, start_upload

pytestmark = pytest.mark.usefixtures("english")
TOKEN = "sesame-token"


@pytest.fixture
def receiver(tmp_path, pki):
    server = ProvinceReceiver(
        token=TOKEN, anchor_paths=[pki.ca_pem], directory=tmp_path / "province"
    ).start()
    yield server
    server.stop()


@pytest.fixture
def province(settings, receiver):
    settings.PROVINCE_UPLOAD_URL = receiver.url
    settings.PROVINCE_UPLOAD_TOKEN = TOKEN
    settings.PROVINCE_UPLOAD_TIMEOUT = 2
    settings.PROVINCE_UPLOAD_ATTEMPTS = 4
    settings.PROVINCE_UPLOAD_BACKOFF = 0
    settings.PROVINCE_UPLOAD_CHUNK_BYTES = 64 * 1024
    return receiver


@pytest.fixture
def package(final_class, admin, school_a):
    return export_now(admin, school_a)


def upload_now(package, actor):
    start_upload(actor=actor, package=package, enqueue=False)
    run_upload(package.pk)
    package.refresh_from_db()
    return package


def attempts(package) -> list[tuple[int, str, int | None]]:
    return [(a.number, a.outcome, a.http_status) for a in package.upload_attempts.all()]


def received(receiver) -> bytes:
    (upload,) = receiver.uploads.values()
    return upload.path.read_bytes()


def test_an_upload_is_verified_by_the_province_and_its_receipt_recorded(province, package, admin):
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.ACCEPTED, package.upload_message
    assert (
        package.receipt_id.startswith("SO-")
        and package.receipt_id == (package.receipt["receiptId"])
    )
    assert package.receipt["packageId"] == str(package.package_id)
    assert package.receipt["transcripts"] == 3
    assert attempts(package) == [(1, "accepted", 200)]
    assert received(province) == stored(package.file)
    patches = [entry for entry in province.log if entry[0] == "PATCH"]
    assert len(patches) == -(-package.size // (64 * 1024))  # in 64 KiB chunks


def test_a_connection_dropped_mid_upload_resumes_where_the_server_stopped(province, package, admin):
    province.faults.drop_next, province.faults.drop_after = 1, 1000
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.ACCEPTED, package.upload_message
    first, second = package.upload_attempts.all()
    assert (first.outcome, second.outcome) == ("error", "accepted")
    assert "connection" in first.message.lower()
    assert (second.offset, second.bytes_sent) == (1000, package.size - 1000)
    assert hashlib.sha256(received(province)).hexdigest() == package.sha256


def test_server_errors_are_retried(province, package, admin):
    province.faults.fail_next = 2
    upload_now(package, admin)
    assert attempts(package) == [(1, "error", 503), (2, "error", 503), (3, "accepted", 200)]
    assert package.upload_status == UploadStatus.ACCEPTED


def test_a_stalled_request_times_out_and_is_retried(settings, province, package, admin):
    settings.PROVINCE_UPLOAD_TIMEOUT = 1
    province.faults.timeout_next, province.faults.delay = 1, 2.5
    upload_now(package, admin)
    first = package.upload_attempts.first()
    assert (first.outcome, "timed out" in first.message) == ("error", True)
    assert package.upload_status == UploadStatus.ACCEPTED


def test_a_refusal_stops_at_once_with_the_servers_message(settings, province, package, admin):
    settings.PROVINCE_UPLOAD_TOKEN = "wrong"
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.REJECTED
    assert package.upload_message == "invalid credentials"
    assert attempts(package) == [(1, "rejected", 401)]


def test_the_province_refuses_a_package_that_does_not_verify(province, package, admin):
    data = stored(package.file)
    names = [path for path in fmt.parse_manifest(member(data, fmt.MANIFEST)).files]
    pdfs = [entry.path for entry in names if entry.path.endswith(".pdf")]
    tampered = rewrite(data, change={pdfs[0]: member(data, pdfs[1])})
    with open(package.file.path, "wb") as handle:
        handle.write(tampered)
    package.size, package.sha256 = len(tampered), hashlib.sha256(tampered).hexdigest()
    package.save()
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.REJECTED
    assert package.upload_message.startswith("the package does not verify (")
    assert f"{pdfs[0]}: The file's size or SHA-256 differs from the manifest." in (
        package.upload_message
    )


def test_it_gives_up_after_the_configured_attempts(settings, province, package, admin):
    settings.PROVINCE_UPLOAD_ATTEMPTS = 3
    province.faults.fail_next = 10
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.FAILED
    assert package.upload_message.startswith("Gave up after 3 attempts")
    assert len(attempts(package)) == 3


def test_uploading_again_after_a_failure_resumes_the_same_session(
    settings, province, package, admin
):
    settings.PROVINCE_UPLOAD_ATTEMPTS = 1
    province.faults.drop_next, province.faults.drop_after = 1, 5000
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.FAILED
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.ACCEPTED
    assert [(a.number, a.offset) for a in package.upload_attempts.all()] == [(1, 0), (2, 5000)]
    assert attempts(package)[0] == (1, "error", None)  # the dropped chunk had no answer
    assert len(province.uploads) == 1  # one session: the Idempotency-Key is the package's


def test_an_accepted_package_counts_for_the_next_incremental_and_is_not_sent_twice(
    province, package, admin, school_a
):
    upload_now(package, admin)
    with pytest.raises(UploadRefused, match="already accepted"):
        start_upload(actor=admin, package=package, enqueue=False)
    with pytest.raises(ExportRefused, match="already in an accepted upload"):
        export_now(admin, school_a, kind=PackageKind.INCREMENTAL)


def test_without_an_endpoint_nothing_is_queued(settings, package, admin):
    settings.PROVINCE_UPLOAD_URL = ""
    with pytest.raises(UploadRefused, match="No address"):
        start_upload(actor=admin, package=package, enqueue=False)
    assert not UploadAttempt.objects.exists()


def test_the_schools_own_endpoint_takes_precedence(settings, receiver, package, admin, school_a):
    settings.PROVINCE_UPLOAD_URL = "http://127.0.0.1:9/nowhere"
    settings.PROVINCE_UPLOAD_BACKOFF = 0
    save_endpoint(actor=admin, school=school_a, url=receiver.url, token=TOKEN)
    upload_now(package, admin)
    assert package.upload_status == UploadStatus.ACCEPTED
    save_endpoint(actor=admin, school=school_a, url=receiver.url, token=None)  # keeps the token
    assert school_a.provincial_endpoint.token_encrypted != b""
    assert TOKEN.encode() not in bytes(school_a.provincial_endpoint.token_encrypted)
