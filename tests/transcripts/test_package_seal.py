"""A package's manifest sealed where the school seal really is: the USB token at the school
(through the signing companion: the page hands the manifest's digest to it and posts the value
back) or a remote service that asks its holder on the phone. The export waits, written but
unsealed, and is finished by a worker once the seal has signed; a refusal or expiry leaves no
package and no unsealed file."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from tests.transcripts.conftest import P12_PASSWORD
from transcripts import tasks
from transcripts.credentials import register_credential
from transcripts.models import (
    BatchStatus,
    CredentialKind,
    JobStatus,
    SignerRole,
    SigningBatch,
    TranscriptPackage,
)
from transcripts.packages.exports import run_export, start_export
from transcripts.packages.verify import verify_package
from transcripts.signing.demo_services import ConfirmServer

pytestmark = pytest.mark.usefixtures("english")


def seal_key_and_chain(role_p12):
    key, cert, chain = pkcs12.load_key_and_certificates(
        role_p12[SignerRole.SEAL], P12_PASSWORD.encode()
    )
    return key, [cert, *chain]


def export_waiting(admin, school_a) -> TranscriptPackage:
    package = start_export(
        actor=admin, school=school_a, year=school_a.current_year(), kind="full", secret="",
        enqueue=False,
    )  # fmt: skip
    assert run_export(package.pk)["status"] == "waiting"
    package.refresh_from_db()
    return package


@pytest.fixture
def seal_token(final_class, role_p12, school_a, admin):
    """The school seal becomes a USB token (the server knows its certificate only)."""
    key, chain = seal_key_and_chain(role_p12)
    register_credential(
        school=school_a, user=None, kind=CredentialKind.COMPANION, created_by=admin,
        certificates=chain,
    )  # fmt: skip
    return key


def test_the_usb_token_seals_a_waiting_package(
    client, seal_token, admin, principal, school_a, final_class, pki,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    package = export_waiting(admin, school_a)
    assert package.status == JobStatus.WAITING and package.unsealed_file and not package.file
    assert package.final_count == 3
    client.force_login(admin)
    code = school_a.code
    page = client.get(reverse("hocba:package", args=[code, package.pk])).content.decode()
    assert "data-companion-sign" in page and "the package&#x27;s manifest (3 transcripts)" in page
    answer = client.get(reverse("hocba:package_digests", args=[code, package.pk])).json()
    [digest] = answer["digests"]
    value = seal_token.sign(
        base64.b64decode(digest), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
    )
    unsealed = package.unsealed_file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hocba:package_values", args=[code, package.pk]),
            json.dumps({"values": [base64.b64encode(value).decode()]}),
            content_type="application/json",
        )
    assert response.json() == {"ok": True}
    package.refresh_from_db()
    assert package.status == JobStatus.QUEUED
    assert run_export(package.pk)["status"] == "finished"
    package.refresh_from_db()
    assert package.status == JobStatus.FINISHED and not package.unsealed_file
    assert not default_storage.exists(unsealed)
    with package.file.open("rb") as handle:
        report = verify_package(handle, anchor_paths=[pki.ca_pem])
    assert report.problems == [], report.problems
    client.force_login(principal)  # sees the package, did not start it: no digest for them
    assert client.get(reverse("hocba:package_digests", args=[code, package.pk])).status_code == 404


def test_the_export_page_asks_no_seal_password_for_a_usb_token(client, seal_token, admin, school_a):
    client.force_login(admin)
    page = client.get(reverse("hocba:packages", args=[school_a.code])).content.decode()
    assert 'name="seal_password"' not in page and 'id="seal-method"' in page


@pytest.fixture
def seal_phone(settings, final_class, role_p12, school_a, admin):
    key, chain = seal_key_and_chain(role_p12)
    with ConfirmServer({"truong": (key, chain)}, api_key="khoa") as server:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": server.base_url, "api_key": "khoa"}
        }
        register_credential(
            school=school_a, user=None, kind=CredentialKind.REMOTE, created_by=admin,
            certificates=chain, config={"service": "phone", "user_id": "truong"},
        )  # fmt: skip
        yield server


def test_a_seal_confirmed_on_the_phone_finishes_the_package(
    seal_phone, admin, school_a, pki, django_capture_on_commit_callbacks
):
    package = export_waiting(admin, school_a)
    batch = SigningBatch.objects.get(package=package)
    [request] = seal_phone.pending("truong")
    assert len(request.hashes) == 1 and batch.authorisations == 1
    seal_phone.confirm(request.id)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_signing_batch.call(batch.pk) == BatchStatus.SIGNED
    assert run_export(package.pk)["status"] == "finished"
    package.refresh_from_db()
    with package.file.open("rb") as handle:
        assert verify_package(handle, anchor_paths=[pki.ca_pem]).problems == []


@pytest.mark.parametrize("ending", ["reject", "expire", "cancel"])
def test_a_seal_that_never_comes_leaves_no_package(
    client, seal_phone, admin, school_a, ending, django_capture_on_commit_callbacks
):
    package = export_waiting(admin, school_a)
    batch = SigningBatch.objects.get(package=package)
    unsealed = package.unsealed_file.name
    with django_capture_on_commit_callbacks(execute=True):
        if ending == "reject":
            seal_phone.reject(seal_phone.pending("truong")[0].id)
            tasks.poll_signing_batch.call(batch.pk)
        elif ending == "expire":
            SigningBatch.objects.filter(pk=batch.pk).update(
                expires_at=timezone.now() - datetime.timedelta(seconds=1)
            )
            tasks.poll_signing_batch.call(batch.pk)
        else:
            client.force_login(admin)
            client.post(reverse("hocba:package_cancel", args=[school_a.code, package.pk]))
    package.refresh_from_db()
    assert package.status == JobStatus.FAILED and package.message
    assert not package.file and not package.unsealed_file
    assert not default_storage.exists(unsealed)
    client.force_login(admin)
    page = client.get(reverse("hocba:package", args=[school_a.code, package.pk])).content.decode()
    assert 'id="package-retry"' in page  # start again: a new request
