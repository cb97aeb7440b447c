"""Two-phase signing through jobs (transcripts/batches.py, transcripts/jobs.py): one request per
signer per batch, whatever holds the key — a remote service that asks for a confirmation on the
signer's phone (the fake speaks the real protocol over a socket), a CSC service, the USB token
on the signer's own computer (values posted back by the browser) — and every way a request can
end without signatures leaving each transcript exactly as it was."""

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

from schools.models import ClassGroup
from tests.conftest import add_students
from tests.transcripts.conftest import (
    P12_PASSWORD,
    assert_pdf_signatures,
    assert_xml_signatures,
    complete_year,
    stored,
)
from transcripts import jobs
from transcripts.credentials import register_credential
from transcripts.models import (
    BatchStatus,
    CredentialKind,
    JobStatus,
    PreparedSignature,
    SignerRole,
    SigningBatch,
    State,
    Transcript,
    TranscriptJob,
    TranscriptSignature,
)
from transcripts.signing.demo_services import ConfirmServer, CscServer
from transcripts.workflow import confirm_ready, transcript_for

API_KEY = "khoa-api"
pytestmark = pytest.mark.usefixtures("english")  # messages are asserted in English


@pytest.fixture
def ready_class(signing_setup, school_a, homeroom) -> list[Transcript]:
    """Two complete students of class 6A9, confirmed: ready for the homeroom teacher."""
    class_group = ClassGroup.objects.create(
        year=school_a.current_year(), name="6A9", grade=6, homeroom_teacher=homeroom
    )
    transcripts = []
    for student in add_students(class_group, [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M")], 200):
        complete_year(class_group, student)
        transcript = transcript_for(student=student, class_group=class_group)
        confirm_ready(actor=homeroom, transcript=transcript)
        transcripts.append(transcript)
    return transcripts


def key_and_chain(p12: bytes):
    key, cert, chain = pkcs12.load_key_and_certificates(p12, P12_PASSWORD.encode())
    return key, [cert, *chain]


@pytest.fixture
def phone(settings, role_p12, school_a, homeroom):
    """The phone-confirmation service, with the homeroom teacher registered at it."""
    key, chain = key_and_chain(role_p12[SignerRole.HOMEROOM])
    with ConfirmServer({"gvcn": (key, chain)}, api_key=API_KEY) as server:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": server.base_url, "api_key": API_KEY}
        }
        register_credential(
            school=school_a,
            user=homeroom,
            kind=CredentialKind.REMOTE,
            created_by=homeroom,
            certificates=chain,
            config={"service": "phone", "user_id": "gvcn"},
        )
        yield server


def start(homeroom, transcripts, secret: str = "") -> TranscriptJob:
    return jobs.start_job(
        actor=homeroom,
        school=transcripts[0].school,
        year=transcripts[0].year,
        transcripts=transcripts,
        steps=[SignerRole.HOMEROOM],
        secrets={SignerRole.HOMEROOM: secret},
        class_group=transcripts[0].class_group,
        in_background=False,
    )


def states(transcripts) -> list[str]:
    return [Transcript.objects.get(pk=t.pk).state for t in transcripts]


def prepared_files(batch: SigningBatch) -> list[str]:
    return [
        name
        for item in PreparedSignature.objects.filter(batch=batch)
        for name in (item.pdf_file.name, item.xml_file.name)
    ]


def waiting_job(homeroom, ready_class) -> tuple[TranscriptJob, SigningBatch]:
    job = start(homeroom, ready_class)
    assert jobs.run_job(job.pk)["status"] == JobStatus.WAITING
    job.refresh_from_db()
    return job, job.batches.get()


def test_a_class_confirmed_once_on_the_phone_is_signed(
    phone, ready_class, homeroom, pki, pki_nssdb, tmp_path, django_capture_on_commit_callbacks
):
    job, batch = waiting_job(homeroom, ready_class)
    # One request with every digest; nothing signed, nothing changed while it waits.
    assert (job.status, batch.status, batch.authorisations) == (JobStatus.WAITING, "waiting", 1)
    [request] = phone.pending("gvcn")
    assert len(request.hashes) == 4 and "2 học bạ lớp 6A9 (4 tệp)" in request.description
    assert states(ready_class) == [State.READY, State.READY]
    assert not TranscriptSignature.objects.exists()
    assert all(default_storage.exists(name) for name in prepared_files(batch))
    assert jobs.run_job(job.pk) == {"job": job.pk, "status": "not run"}  # a second delivery
    assert jobs.poll_batch(batch.pk) == BatchStatus.WAITING

    phone.confirm(request.id)
    names = prepared_files(batch)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.poll_batch(batch.pk) == BatchStatus.SIGNED
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED  # resumed: a worker finishes it
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    job.refresh_from_db()
    assert (job.done, job.failures, phone.calls["submit"]) == (2, [], 1)
    assert states(ready_class) == [State.SIGNED_HOMEROOM, State.SIGNED_HOMEROOM]
    version = Transcript.objects.get(pk=ready_class[0].pk).current_version
    assert_pdf_signatures(stored(version.pdf_file), 1, pki_nssdb, tmp_path)
    assert_xml_signatures(stored(version.xml_file), 1, pki.ca_pem, tmp_path)
    assert not any(default_storage.exists(name) for name in names)  # prepared files removed


@pytest.mark.parametrize(
    ("ending", "status", "message"),
    [
        ("reject", BatchStatus.REJECTED, "rejected the request"),
        ("expire", BatchStatus.EXPIRED, "did not confirm in time"),
        ("cancel", BatchStatus.CANCELLED, "Cancelled by homeroom"),
    ],
)
def test_a_request_that_ends_unsigned_leaves_every_transcript_as_it_was(
    english, phone, ready_class, homeroom, ending, status, message,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    job, batch = waiting_job(homeroom, ready_class)
    names = prepared_files(batch)
    [request] = phone.pending("gvcn")
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        if ending == "reject":
            phone.reject(request.id)
            jobs.poll_batch(batch.pk)
        elif ending == "expire":  # the deadline passes before anyone confirms
            SigningBatch.objects.filter(pk=batch.pk).update(
                expires_at=timezone.now() - datetime.timedelta(seconds=1)
            )
            jobs.poll_batch(batch.pk)
            assert phone.requests[request.id].status == "cancelled"  # withdrawn at the service
        else:
            jobs.cancel(job=job, actor=homeroom)
    batch.refresh_from_db()
    job.refresh_from_db()
    assert batch.status == status
    assert job.status == JobStatus.FAILED and message in job.message
    assert states(ready_class) == [State.READY, State.READY]
    assert not TranscriptSignature.objects.exists()
    assert not any(default_storage.exists(name) for name in names)
    assert not PreparedSignature.objects.filter(batch=batch).exclude(pdf_file="").exists()
    if ending == "cancel":
        phone.confirm(request.id)  # too late: nothing happens
    assert jobs.poll_batch(batch.pk) == status
    assert states(ready_class) == [State.READY, State.READY]


def test_the_job_page_says_who_must_confirm_and_offers_a_retry_after_a_rejection(
    english, phone, ready_class, homeroom
):
    job, batch = waiting_job(homeroom, ready_class)
    english.force_login(homeroom)
    url = reverse("hocba:job_progress", args=[job.school.code, job.pk])
    page = english.get(url).content.decode()
    assert "Waiting for homeroom to confirm 2 transcripts (4 files) on their phone" in page
    assert "left" in page and 'id="job-cancel"' in page and "every 1s" in page
    phone.reject(phone.pending("gvcn")[0].id)
    jobs.poll_batch(batch.pk)
    page = english.get(url).content.decode()
    assert "rejected the request on their phone" in page
    assert "Start again" in page and "every 1s" not in page


def test_the_job_page_notices_an_expired_request_at_once(english, phone, ready_class, homeroom):
    job, batch = waiting_job(homeroom, ready_class)
    SigningBatch.objects.filter(pk=batch.pk).update(expires_at=timezone.now())
    english.force_login(homeroom)
    page = english.get(reverse("hocba:job", args=[job.school.code, job.pk])).content.decode()
    assert "did not confirm in time: nothing was signed" in page
    assert states(ready_class) == [State.READY, State.READY]


def test_values_that_do_not_match_the_certificate_sign_nothing(
    settings, pki, role_p12, school_a, ready_class, homeroom
):
    """A service that signs with another key than the certificate it declared."""
    _key, chain = key_and_chain(role_p12[SignerRole.HOMEROOM])
    with ConfirmServer({"gvcn": (pki.seal_key, chain)}, api_key=API_KEY) as server:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": server.base_url, "api_key": API_KEY}
        }
        register_credential(
            school=school_a, user=homeroom, kind=CredentialKind.REMOTE, created_by=homeroom,
            certificates=chain, config={"service": "phone", "user_id": "gvcn"},
        )  # fmt: skip
        server.set_behaviour("gvcn", "confirm")
        job, batch = waiting_job(homeroom, ready_class)
        assert jobs.poll_batch(batch.pk) == BatchStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "does not match the certificate" in job.message
    assert states(ready_class) == [State.READY, State.READY]


def test_a_wrong_number_of_values_signs_nothing(phone, ready_class, homeroom):
    job, batch = waiting_job(homeroom, ready_class)
    phone.tamper = "drop"
    phone.confirm(phone.pending("gvcn")[0].id)
    assert jobs.poll_batch(batch.pk) == BatchStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "3 signatures for 4" in job.message
    assert states(ready_class) == [State.READY, State.READY]


def test_a_worker_killed_while_finishing_leaves_whole_transcripts_and_a_rerun_completes(
    phone, ready_class, homeroom, monkeypatch, django_capture_on_commit_callbacks
):
    """The first transcript is finished, then the worker dies: the second is untouched (never
    half signed); the job is picked up again and finishes it, the first is not signed twice."""
    from transcripts import pipeline

    job, batch = waiting_job(homeroom, ready_class)
    phone.confirm(phone.pending("gvcn")[0].id)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.poll_batch(batch.pk)
    real_finish = pipeline.finish_documents
    calls = []

    def dies_on_second(**kwargs):
        calls.append(kwargs["transcript"].pk)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_finish(**kwargs)

    monkeypatch.setattr(pipeline, "finish_documents", dies_on_second)
    with pytest.raises(SystemExit):
        jobs.run_job(job.pk)
    assert states(ready_class) == [State.SIGNED_HOMEROOM, State.READY]
    monkeypatch.setattr(pipeline, "finish_documents", real_finish)
    TranscriptJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)  # picked up again
    assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    assert states(ready_class) == [State.SIGNED_HOMEROOM, State.SIGNED_HOMEROOM]
    assert TranscriptSignature.objects.count() == 2


def test_a_csc_service_authorises_a_whole_class_once(
    settings, role_p12, school_a, ready_class, homeroom, pki, pki_nssdb, tmp_path
):
    key, chain = key_and_chain(role_p12[SignerRole.HOMEROOM])
    with CscServer(key, chain, pin="2468", multisign=100) as csc:
        settings.SIGNING_SERVICES = {
            "csc": {"adapter": "csc", "base_url": csc.base_url, "token": "test-access-token"}
        }
        register_credential(
            school=school_a, user=homeroom, kind=CredentialKind.REMOTE, created_by=homeroom,
            certificates=chain, config={"service": "csc", "credential_id": "cred-1"},
        )  # fmt: skip
        job = start(homeroom, ready_class, secret="2468")
        assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    assert csc.calls["credentials/authorize"] == 1
    assert job.batches.get().authorisations == 1
    assert states(ready_class) == [State.SIGNED_HOMEROOM, State.SIGNED_HOMEROOM]
    version = Transcript.objects.get(pk=ready_class[1].pk).current_version
    assert_pdf_signatures(stored(version.pdf_file), 1, pki_nssdb, tmp_path)


# --- the USB token on the signer's own computer ---------------------------------------------


@pytest.fixture
def token_credential(role_p12, school_a, homeroom):
    """The homeroom teacher signs with a USB token through the signing companion: the server
    has the certificate only; the test plays the companion with the private key."""
    key, chain = key_and_chain(role_p12[SignerRole.HOMEROOM])
    register_credential(
        school=school_a, user=homeroom, kind=CredentialKind.COMPANION, created_by=homeroom,
        certificates=chain,
    )  # fmt: skip
    return key


def companion_signs(key, digests: list[str]) -> list[str]:
    values = [
        key.sign(base64.b64decode(d), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        for d in digests
    ]
    return [base64.b64encode(v).decode() for v in values]


def test_the_token_signs_the_digests_the_page_hands_it(
    client, token_credential, ready_class, homeroom, principal, pki, pki_nssdb, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    job, batch = waiting_job(homeroom, ready_class)
    assert batch.method == CredentialKind.COMPANION and batch.expires_at > timezone.now()
    client.force_login(homeroom)
    code = job.school.code
    page = client.get(reverse("hocba:job", args=[code, job.pk])).content.decode()
    assert "data-companion-sign" in page and "js/companion.js" in page
    answer = client.get(reverse("hocba:job_digests", args=[code, job.pk])).json()
    certificate = token_credential.public_key()
    assert len(answer["digests"]) == 4 and answer["summary"]["transcripts"] == 2
    assert answer["certificate_sha256"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hocba:job_values", args=[code, job.pk]),
            json.dumps({"values": companion_signs(token_credential, answer["digests"])}),
            content_type="application/json",
        )
    assert response.json() == {"ok": True}, response.content
    assert certificate is not None
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    assert states(ready_class) == [State.SIGNED_HOMEROOM, State.SIGNED_HOMEROOM]
    version = Transcript.objects.get(pk=ready_class[0].pk).current_version
    assert_pdf_signatures(stored(version.pdf_file), 1, pki_nssdb, tmp_path)
    # The principal sees the job but does not hold the token: no digests, no values.
    client.force_login(principal)
    assert client.get(reverse("hocba:job_digests", args=[code, job.pk])).status_code == 404


@pytest.mark.parametrize("fault", ["wrong key", "one missing", "not base64"])
def test_bad_values_from_the_token_sign_nothing(
    english, token_credential, pki, ready_class, homeroom, fault
):
    job, batch = waiting_job(homeroom, ready_class)
    english.force_login(homeroom)
    code = job.school.code
    digests = english.get(reverse("hocba:job_digests", args=[code, job.pk])).json()["digests"]
    values = companion_signs(pki.seal_key if fault == "wrong key" else token_credential, digests)
    body = {"wrong key": values, "one missing": values[:-1], "not base64": ["%%%"] * 4}[fault]
    response = english.post(
        reverse("hocba:job_values", args=[code, job.pk]),
        json.dumps({"values": body}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]
    batch.refresh_from_db()
    job.refresh_from_db()
    if fault == "not base64":  # unreadable: the request still waits for a proper answer
        assert (batch.status, job.status) == (BatchStatus.WAITING, JobStatus.WAITING)
    else:
        assert (batch.status, job.status) == (BatchStatus.FAILED, JobStatus.FAILED)
        assert "nothing was signed" in job.message
    assert states(ready_class) == [State.READY, State.READY]


def test_a_token_that_never_answers_expires_the_batch(token_credential, ready_class, homeroom):
    job, batch = waiting_job(homeroom, ready_class)
    SigningBatch.objects.filter(pk=batch.pk).update(expires_at=timezone.now())
    assert jobs.poll_batch(batch.pk) == BatchStatus.EXPIRED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "USB token did not sign in time" in job.message
    assert states(ready_class) == [State.READY, State.READY]


def test_principal_and_seal_are_two_requests_of_one_job(
    settings, role_p12, school_a, ready_class, homeroom, principal, credentials,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """Sign-and-seal: the principal confirms on the phone, the seal's PKCS#12 password waits
    sealed on the job meanwhile (never in clear), then the seal signs at once."""
    from transcripts.pipeline import sign_batch
    from transcripts.signing.signers import Pkcs12Signer

    homeroom_file = Pkcs12Signer.from_bytes(role_p12[SignerRole.HOMEROOM], P12_PASSWORD)
    sign_batch(actor=homeroom, transcripts=ready_class, role="homeroom", signer=homeroom_file)
    key, chain = key_and_chain(role_p12[SignerRole.PRINCIPAL])
    with ConfirmServer({"ht": (key, chain)}, api_key=API_KEY) as server:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": server.base_url, "api_key": API_KEY}
        }
        register_credential(
            school=school_a, user=principal, kind=CredentialKind.REMOTE, created_by=principal,
            certificates=chain, config={"service": "phone", "user_id": "ht"},
        )  # fmt: skip
        job = jobs.start_job(
            actor=principal, school=school_a, year=ready_class[0].year, transcripts=ready_class,
            steps=[SignerRole.PRINCIPAL, SignerRole.SEAL],
            secrets={SignerRole.SEAL: P12_PASSWORD}, in_background=False,
        )  # fmt: skip
        assert jobs.run_job(job.pk)["status"] == JobStatus.WAITING
        job.refresh_from_db()
        sealed = bytes(job.sealed_secrets)
        assert sealed and P12_PASSWORD.encode() not in sealed
        server.confirm(server.pending("ht")[0].id)
        with django_capture_on_commit_callbacks(execute=True):
            jobs.poll_batch(job.batches.get().pk)
        assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    job.refresh_from_db()
    assert (job.done, job.failures, bytes(job.sealed_secrets)) == (2, [], b"")
    assert states(ready_class) == [State.FINAL, State.FINAL]
    assert [b.authorisations for b in job.batches.order_by("pk")] == [1, 1]


def test_a_service_that_fails_signs_nothing(phone, ready_class, homeroom):
    job = start(homeroom, ready_class)  # the service answered when the job was started
    phone.fail_with_status = 503
    assert jobs.run_job(job.pk)["status"] == JobStatus.FAILED
    job.refresh_from_db()
    assert "503" in job.message and not job.batches.exists()
    assert states(ready_class) == [State.READY, State.READY]


def test_a_csc_service_that_fails_the_signature_signs_nothing(
    settings, role_p12, school_a, ready_class, homeroom, django_capture_on_commit_callbacks
):
    key, chain = key_and_chain(role_p12[SignerRole.HOMEROOM])
    with CscServer(key, chain, pin="2468") as csc:
        settings.SIGNING_SERVICES = {
            "csc": {"adapter": "csc", "base_url": csc.base_url, "token": "test-access-token"}
        }
        register_credential(
            school=school_a, user=homeroom, kind=CredentialKind.REMOTE, created_by=homeroom,
            certificates=chain, config={"service": "csc", "credential_id": "cred-1"},
        )  # fmt: skip
        job = start(homeroom, ready_class, secret="2468")
        csc.tamper = "corrupt"  # values that do not verify
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.run_job(job.pk)["status"] == JobStatus.FAILED
    job.refresh_from_db()
    batch = job.batches.get()
    assert batch.status == BatchStatus.FAILED and "does not verify" in job.message
    assert states(ready_class) == [State.READY, State.READY]
    assert not PreparedSignature.objects.filter(batch=batch).exclude(pdf_file="").exists()


def test_a_service_unreachable_while_waiting_is_asked_again_until_the_deadline(
    phone, ready_class, homeroom
):
    _job, batch = waiting_job(homeroom, ready_class)
    phone.fail_with_status = 502
    assert jobs.poll_batch(batch.pk) == BatchStatus.WAITING  # a passing failure: ask again
    phone.fail_with_status = None
    phone.confirm(phone.pending("gvcn")[0].id)
    assert jobs.poll_batch(batch.pk) == BatchStatus.SIGNED
