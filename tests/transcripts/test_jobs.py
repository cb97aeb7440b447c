"""Batch jobs through the screens and a real task backend: the database backend with its
db_worker, and RQ on the Redis server with an RQ worker. Each flow runs once per backend.

The worker runs in this process (db_worker --batch; RQ's SimpleWorker in burst mode), so it
sees the test's transaction; what it executes is the same task code a deployed worker runs.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.totp import current_totp_code
from schools.models import ClassGroup
from tests.conftest import add_students
from tests.transcripts.conftest import (  # noqa: F401
    P12_PASSWORD,
    assert_pdf_signatures,
    assert_xml_signatures,
    complete_year,
    role_p12,
    signing_setup,
    stored,
)
from transcripts import jobs, pipeline
from transcripts.background import JobRefused
from transcripts.models import (
    JobStatus,
    SignerRole,
    State,
    Transcript,
    TranscriptJob,
    TranscriptSignature,
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def tiny_class(signing_setup, school_a, homeroom) -> ClassGroup:  # noqa: F811
    """Two complete students and one whose year is incomplete."""
    class_group = ClassGroup.objects.create(
        year=school_a.current_year(), name="6A9", grade=6, homeroom_teacher=homeroom
    )
    students = add_students(
        class_group, [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M"), ("Hồ Văn Chưa", "M")], 200
    )
    for student in students[:2]:
        complete_year(class_group, student)
    return class_group


def code(client, user, path: str, data: dict) -> object:
    """POST with the user's current two-factor code. A used code is refused until the next
    30-second window (allauth's replay cache); clearing the cache stands for that wait."""
    cache.clear()
    return client.post(path, {**data, "otp": current_totp_code(user)})


def confirm_class(client, capture, school_a, tiny_class, homeroom, work) -> TranscriptJob:
    client.force_login(homeroom)
    url = reverse("hocba:class_job", args=[school_a.code, tiny_class.pk])
    with capture(execute=True):
        response = client.post(url, {"steps": "confirm"})
    job = TranscriptJob.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse(
        "hocba:job", args=[school_a.code, job.pk]
    )
    work()
    job.refresh_from_db()
    return job


def test_the_class_screen_lists_what_blocks_each_student(english, school_a, tiny_class, homeroom):
    english.force_login(homeroom)
    page = english.get(reverse("hocba:class", args=[school_a.code, tiny_class.pk])).content.decode()
    assert "Hồ Văn Chưa" in page
    assert "has no year result" in page and "the year conduct is not set" in page
    assert "1 student's data is incomplete" in page
    assert "Confirm 2 complete transcripts" in page


def test_homeroom_confirms_and_signs_principal_signs_and_seals(
    english,
    backend,
    django_capture_on_commit_callbacks,
    school_a,
    tiny_class,
    homeroom,
    principal,
    credentials,
    pki,
    pki_nssdb,
    tmp_path,
):
    client = english
    job = confirm_class(
        client, django_capture_on_commit_callbacks, school_a, tiny_class, homeroom, backend
    )
    assert (job.status, job.total, job.done, job.failures) == (JobStatus.FINISHED, 2, 2, [])
    assert job.task_id
    assert Transcript.objects.filter(class_group=tiny_class, state=State.READY).count() == 2
    assert not Transcript.objects.filter(student__full_name="Hồ Văn Chưa").exists()  # incomplete

    # The homeroom teacher signs: confirmation page, then password + two-factor code.
    url = reverse("hocba:class_job", args=[school_a.code, tiny_class.pk])
    page = client.post(url, {"steps": "homeroom"}).content.decode()
    assert "2 transcripts will be processed" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = code(
            client, homeroom, url, {"steps": "homeroom", "confirm": "1", "password": P12_PASSWORD}
        )
    assert response.status_code == 302
    backend()
    assert Transcript.objects.filter(state=State.SIGNED_HOMEROOM).count() == 2

    # The principal signs and seals everything waiting, from the queue.
    client.force_login(principal)
    queue = client.get(reverse("hocba:queue", args=[school_a.code])).content.decode()
    assert "Đặng Thu Hà" in queue and "Sign and seal selected" in queue
    sign_url = reverse("hocba:sign", args=[school_a.code])
    page = client.post(sign_url, {"steps": "principal_seal", "all": "1"}).content.decode()
    assert "2 transcripts will be processed" in page
    page = client.post(sign_url, {"steps": "seal", "all": "1"}).content.decode()
    assert "2 selected transcripts are not waiting for this step" in page
    ids = list(Transcript.objects.filter(state=State.SIGNED_HOMEROOM).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = code(
            client,
            principal,
            sign_url,
            {
                "steps": "principal_seal",
                "confirm": "1",
                "ids": ids,
                "password": P12_PASSWORD,
                "seal_password": P12_PASSWORD,
            },
        )
    job = TranscriptJob.objects.latest("pk")
    assert job.sealed_secrets and P12_PASSWORD.encode() not in bytes(job.sealed_secrets)
    progress = client.get(reverse("hocba:job_progress", args=[school_a.code, job.pk]))
    assert 'hx-trigger="every 1s"' in progress.content.decode()  # polls while queued
    backend()
    job.refresh_from_db()
    assert (job.status, job.done, job.failures, bytes(job.sealed_secrets)) == (
        JobStatus.FINISHED,
        2,
        [],
        b"",
    )
    progress = client.get(reverse("hocba:job_progress", args=[school_a.code, job.pk]))
    text = progress.content.decode()
    assert "every 1s" not in text and "100%" in text and "2 of 2 processed: 2 done" in text
    final = Transcript.objects.filter(state=State.FINAL)
    assert final.count() == 2
    version = final.first().current_version
    assert_pdf_signatures(stored(version.pdf_file), 3, pki_nssdb, tmp_path)
    assert_xml_signatures(stored(version.xml_file), 3, pki.ca_pem, tmp_path)


def test_a_wrong_password_or_code_starts_nothing(
    english,
    backend,
    school_a,
    tiny_class,
    homeroom,
    credentials,
    django_capture_on_commit_callbacks,
):
    confirm_class(
        english, django_capture_on_commit_callbacks, school_a, tiny_class, homeroom, backend
    )
    url = reverse("hocba:class_job", args=[school_a.code, tiny_class.pk])
    before = TranscriptJob.objects.count()
    page = code(english, homeroom, url, {"steps": "homeroom", "confirm": "1", "password": "nope"})
    assert "wrong password, or the file is damaged" in page.content.decode()
    page = english.post(
        url, {"steps": "homeroom", "confirm": "1", "password": P12_PASSWORD, "otp": "000000"}
    )
    assert "That code is not valid" in page.content.decode()
    cache.clear()  # the next 30-second window
    used = current_totp_code(homeroom)
    page = english.post(url, {"steps": "homeroom", "confirm": "1", "password": "x", "otp": used})
    assert "wrong password" in page.content.decode()
    page = english.post(url, {"steps": "homeroom", "confirm": "1", "password": "x", "otp": used})
    # the code is spent only once the certificate opens: a retry is told about the password again
    assert "wrong password" in page.content.decode()
    assert "That code is not valid" not in page.content.decode()
    assert TranscriptJob.objects.count() == before
    assert Transcript.objects.filter(state=State.READY).count() == 2


def test_failures_are_listed_per_student_and_a_retry_signs_only_those(
    english,
    backend,
    django_capture_on_commit_callbacks,
    monkeypatch,
    school_a,
    tiny_class,
    homeroom,
    credentials,
):
    confirm_class(
        english, django_capture_on_commit_callbacks, school_a, tiny_class, homeroom, backend
    )
    broken = Transcript.objects.get(student__full_name="Vũ Đức Anh")
    real_sign = pipeline.finish_documents

    def flaky(*, transcript, **kwargs):
        if transcript.pk == broken.pk:
            raise OSError("disk full")
        return real_sign(transcript=transcript, **kwargs)

    monkeypatch.setattr(pipeline, "finish_documents", flaky)
    url = reverse("hocba:class_job", args=[school_a.code, tiny_class.pk])
    form = {"steps": "homeroom", "confirm": "1", "password": P12_PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        code(english, homeroom, url, form)
    backend()
    job = TranscriptJob.objects.latest("pk")
    assert (job.status, job.done, job.processed) == (JobStatus.FINISHED, 1, 2)
    assert job.failures == [
        {
            "transcript_id": broken.pk,
            "student": "Vũ Đức Anh",
            "class_name": "6A9",
            "message": "disk full",
        }
    ]
    page = english.get(reverse("hocba:job", args=[school_a.code, job.pk])).content.decode()
    assert "Vũ Đức Anh" in page and "disk full" in page and "Retry the failed ones" in page

    monkeypatch.setattr(pipeline, "finish_documents", real_sign)
    retry_url = reverse("hocba:job_retry", args=[school_a.code, job.pk])
    page = english.post(retry_url).content.decode()
    assert "1 transcript will be processed" in page
    with django_capture_on_commit_callbacks(execute=True):
        code(english, homeroom, retry_url, {"confirm": "1", "password": P12_PASSWORD})
    backend()
    retry = TranscriptJob.objects.latest("pk")
    assert (retry.retry_of, retry.transcript_ids, retry.done) == (job, [broken.pk], 1)
    assert Transcript.objects.filter(state=State.SIGNED_HOMEROOM).count() == 2
    assert TranscriptSignature.objects.filter(role=SignerRole.HOMEROOM).count() == 2


def test_a_job_runs_once_and_an_expired_handoff_is_not_used(
    backend, settings, school_a, tiny_class, homeroom, credentials
):
    from transcripts.workflow import confirm_ready, transcript_for

    transcripts = []  # confirmed directly through the service

    for enrollment in tiny_class.enrollments.exclude(student__full_name="Hồ Văn Chưa"):
        transcript = transcript_for(student=enrollment.student, class_group=tiny_class)
        confirm_ready(actor=homeroom, transcript=transcript)
        transcripts.append(transcript)
    job = jobs.start_job(
        actor=homeroom,
        school=school_a,
        year=tiny_class.year,
        transcripts=transcripts,
        steps=["homeroom"],
        secrets={"homeroom": P12_PASSWORD},
        class_group=tiny_class,
    )
    assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    assert jobs.run_job(job.pk) == {"job": job.pk, "status": "not run"}  # a second delivery
    assert TranscriptSignature.objects.count() == 2

    stale = jobs.start_job(
        actor=homeroom,
        school=school_a,
        year=tiny_class.year,
        transcripts=transcripts,
        steps=["homeroom"],
        secrets={"homeroom": P12_PASSWORD},
        class_group=tiny_class,
    )
    TranscriptJob.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.SIGNING_HANDOFF_SECONDS + 1)
    )
    jobs.run_job(stale.pk)
    stale.refresh_from_db()
    assert stale.status == JobStatus.FAILED and bytes(stale.sealed_secrets) == b""
    assert "has expired" in stale.message


def test_only_the_right_people_start_jobs(
    school_a, tiny_class, homeroom, principal, teacher, credentials
):
    from transcripts.workflow import transcript_for

    transcript = transcript_for(
        student=tiny_class.enrollments.first().student, class_group=tiny_class
    )
    cases = [
        (teacher, ["confirm"], tiny_class, "Only the class's homeroom teacher"),
        (principal, ["homeroom"], tiny_class, "Only the class's homeroom teacher"),
        (homeroom, ["principal"], None, "Only the principal or a vice principal"),
        (homeroom, ["seal"], None, "Only the principal applies the school seal"),
        (principal, ["principal"], None, "Cannot open the certificate file"),  # no password
    ]
    for actor, steps, class_group, message in cases:
        with pytest.raises(JobRefused, match=message):
            jobs.start_job(
                actor=actor,
                school=school_a,
                year=tiny_class.year,
                transcripts=[transcript],
                steps=steps,
                secrets={},
                class_group=class_group,
            )
    assert not TranscriptJob.objects.exists()
