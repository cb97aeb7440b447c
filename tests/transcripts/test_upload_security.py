"""Issue 18, finding 1: a school's packages and the Department's token go only to the
Department's hosts (PROVINCE_UPLOAD_HOSTS) and only with a fresh two-factor code; a new address
drops the stored token; the settings page shows who changed the address and when."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.transcripts.conftest import export_now
from tests.transcripts.test_jobs import code
from tests.transcripts.test_package_upload import TOKEN
from transcripts.models import EndpointChange, ProvincialEndpoint, UploadStatus
from transcripts.packages.receiver import ProvinceReceiver
from transcripts.packages.uploads import UploadRefused, run_upload, save_endpoint, start_upload

pytestmark = pytest.mark.usefixtures("english")
DEPARTMENT = "https://hocba.sgddt.example.gov.vn/api/v1"


@pytest.fixture
def department_only(settings):
    settings.PROVINCE_UPLOAD_HOSTS = ["hocba.sgddt.example.gov.vn"]


@pytest.fixture
def receiver(settings, tmp_path, pki):
    settings.PROVINCE_UPLOAD_TIMEOUT, settings.PROVINCE_UPLOAD_BACKOFF = 2, 0
    server = ProvinceReceiver(token=TOKEN, anchor_paths=[pki.ca_pem], directory=tmp_path / "p")
    yield server.start()
    server.stop()


@pytest.fixture
def package(final_class, admin, school_a):
    return export_now(admin, school_a)


def settings_url(school) -> str:
    return reverse("hocba:province_settings", args=[school.code])


def upload_url(package) -> str:
    return reverse("hocba:package_upload", args=[package.school.code, package.pk])


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example/api/v1",
        "https://hocba.sgddt.example.gov.vn@attacker.example/api/v1",
        "https://hocba.sgddt.example.gov.vn.attacker.example/api/v1",
        "http://127.0.0.1:8765/api/v1",
    ],
)
def test_an_address_outside_the_allow_list_is_refused(
    english, department_only, admin, school_a, url
):
    english.force_login(admin)
    response = code(english, admin, settings_url(school_a), {"url": url, "token": "t"})
    assert response.status_code == 400
    assert "is not one of the Department&#x27;s servers" in response.content.decode()
    assert not ProvincialEndpoint.objects.exists()


def test_the_departments_address_is_accepted(english, department_only, admin, school_a):
    english.force_login(admin)
    response = code(english, admin, settings_url(school_a), {"url": DEPARTMENT, "token": "t"})
    assert response.status_code == 302
    assert ProvincialEndpoint.objects.get().url == DEPARTMENT


def test_an_empty_allow_list_allows_no_address(english, settings, admin, school_a):
    settings.PROVINCE_UPLOAD_HOSTS = []
    english.force_login(admin)
    response = code(english, admin, settings_url(school_a), {"url": DEPARTMENT, "token": "t"})
    assert "This server allows no upload address yet" in response.content.decode()
    assert not ProvincialEndpoint.objects.exists()


def test_the_deployments_address_outside_the_allow_list_gets_nothing(
    settings, department_only, package, admin
):
    settings.PROVINCE_UPLOAD_URL = "http://127.0.0.1:9/api/v1"
    with pytest.raises(UploadRefused, match="not one of the Department's servers"):
        start_upload(actor=admin, package=package, enqueue=False)
    package.refresh_from_db()
    assert package.upload_status == ""


def test_an_upload_queued_before_the_allow_list_changed_sends_nothing(
    settings, receiver, package, admin
):
    settings.PROVINCE_UPLOAD_URL, settings.PROVINCE_UPLOAD_TOKEN = receiver.url, TOKEN
    start_upload(actor=admin, package=package, enqueue=False)
    settings.PROVINCE_UPLOAD_HOSTS = ["hocba.sgddt.example.gov.vn"]
    run_upload(package.pk)
    package.refresh_from_db()
    assert package.upload_status == UploadStatus.REJECTED
    assert receiver.log == []


@pytest.mark.parametrize("otp", ["", "000000"])
def test_the_upload_settings_need_a_fresh_code(english, admin, school_a, otp):
    english.force_login(admin)
    data = {"url": "http://127.0.0.1:8765/api/v1", "token": "t", "otp": otp}
    assert english.post(settings_url(school_a), data).status_code == 400
    assert not ProvincialEndpoint.objects.exists()


def test_moving_the_address_sends_neither_the_token_nor_the_package(
    english, tmp_path, pki, receiver, package, admin, school_a
):
    save_endpoint(actor=admin, school=school_a, url=receiver.url, token=TOKEN)
    listener = ProvinceReceiver(token=TOKEN, anchor_paths=[pki.ca_pem], directory=tmp_path / "l")
    listener.start()
    try:
        english.force_login(admin)
        moved = code(english, admin, settings_url(school_a), {"url": listener.url})
        assert moved.status_code == 302
        start_upload(actor=admin, package=package, enqueue=False)
        run_upload(package.pk)
    finally:
        listener.stop()
    assert bytes(ProvincialEndpoint.objects.get().token_encrypted) == b""
    package.refresh_from_db()
    assert (package.upload_status, package.receipt_id) == (UploadStatus.REJECTED, "")
    assert listener.uploads == {} and {status for *_, status in listener.log} == {401}


def test_a_new_address_keeps_the_token_given_with_it(receiver, admin, school_a):
    save_endpoint(actor=admin, school=school_a, url="http://localhost:1/api/v1", token="old")
    save_endpoint(actor=admin, school=school_a, url=receiver.url, token=TOKEN)
    endpoint = ProvincialEndpoint.objects.get()
    assert endpoint.url == receiver.url and bytes(endpoint.token_encrypted) != b""


@pytest.mark.parametrize("before", ["", UploadStatus.FAILED])
def test_every_upload_needs_a_fresh_code(english, settings, receiver, package, admin, before):
    settings.PROVINCE_UPLOAD_URL, settings.PROVINCE_UPLOAD_TOKEN = receiver.url, TOKEN
    package.upload_status = before
    package.save(update_fields=["upload_status"])
    english.force_login(admin)
    for otp in ("", "000000"):
        refused = english.post(upload_url(package), {"otp": otp})
        assert refused.status_code == 400 and 'id="upload-form"' in refused.content.decode()
    package.refresh_from_db()
    assert package.upload_status == before
    response = code(english, admin, upload_url(package), {})
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.upload_status == UploadStatus.QUEUED


def test_the_settings_page_shows_who_changed_the_address(english, admin, principal, school_a):
    first, second = "http://127.0.0.1:8765/api/v1", "http://localhost:8765/api/v1"
    save_endpoint(actor=admin, school=school_a, url=first, token="t")
    save_endpoint(actor=principal, school=school_a, url=second, token=None)
    assert list(
        EndpointChange.objects.values_list("changed_by__username", "old_url", "new_url", "token")
    ) == [("principal", first, second, "cleared"), ("admin", "", first, "set")]
    english.force_login(admin)
    page = english.get(settings_url(school_a)).content.decode()
    table = page[page.index('id="endpoint-changes"') :]
    assert f"{first} → {second}" in table and "token removed" in table
    assert table.index(principal.display_name) < table.index(admin.display_name)
