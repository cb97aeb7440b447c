"""Issue 18, finding 9: a worker killed mid-job. The worker writes a heartbeat on the job row; a
running job whose heartbeat is older than JOB_HEARTBEAT_STALE_SECONDS is marked interrupted (on
its page, its progress fragment, and by ``manage.py interrupt_stale_jobs``) and is resumed from
its page on the same row, by a new run; a worker thought dead that is still alive cannot touch
the resumed run. Packages (export and upload) are interrupted and started again the same way.

A kill is simulated by an exception no step catches (as ``kill -9`` stops the worker between
two statements): what was committed stays, the row is left as the dead worker left it.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.transcripts.conftest import P12_PASSWORD, export_now
from tests.transcripts.test_jobs import code, tiny_class  # noqa: F401
from transcripts import background, batches, jobs, pipeline
from transcripts.models import (
    BatchStatus,
    JobStatus,
    SignerRole,
    State,
    Transcript,
    TranscriptJob,
    TranscriptPackage,
    TranscriptSignature,
    TranscriptVersion,
    UploadStatus,
)
from transcripts.packages import exports, uploads
from transcripts.workflow import confirm_ready, transcript_for

pytestmark = pytest.mark.usefixtures("english")


class WorkerKilled(BaseException):
    """Stands for the signal that kills the worker process: nothing in the job catches it."""


def confirmed(tiny_class, homeroom) -> list[Transcript]:  # noqa: F811
    transcripts = []
    for enrollment in tiny_class.enrollments.exclude(student__full_name="Hồ Văn Chưa"):
        transcript = transcript_for(student=enrollment.student, class_group=tiny_class)
        confirm_ready(actor=homeroom, transcript=transcript)
        transcripts.append(transcript)
    return transcripts


def homeroom_job(school_a, tiny_class, homeroom, transcripts=None) -> TranscriptJob:  # noqa: F811
    return jobs.start_job(
        actor=homeroom,
        school=school_a,
        year=tiny_class.year,
        transcripts=transcripts or confirmed(tiny_class, homeroom),
        steps=["homeroom"],
        secrets={"homeroom": P12_PASSWORD},
        class_group=tiny_class,
        in_background=False,
    )


def killed_at_the_second(monkeypatch, name: str, run) -> None:
    """Run ``run`` with ``pipeline.<name>`` killing the worker on its second call."""
    real = getattr(pipeline, name)
    calls: list[int] = []

    def dying(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise WorkerKilled
        return real(**kwargs)

    monkeypatch.setattr(pipeline, name, dying)
    try:
        with pytest.raises(WorkerKilled):
            run()
    finally:
        monkeypatch.setattr(pipeline, name, real)


def go_stale(model, pk: int, settings, field: str = "heartbeat_at") -> None:
    """The last heartbeat is now older than the stale limit (time moved on)."""
    past = timezone.now() - datetime.timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS + 1)
    model.objects.filter(pk=pk).update(**{field: past})


def homeroom_signatures() -> list[int]:
    return sorted(
        TranscriptSignature.objects.filter(role=SignerRole.HOMEROOM).values_list(
            "version__transcript_id", flat=True
        )
    )


@pytest.mark.parametrize("dies_in", ["finish_documents", "prepare_documents"])
def test_a_job_whose_worker_died_is_interrupted_and_resumes_without_signing_twice(
    english,
    backend,
    django_capture_on_commit_callbacks,
    monkeypatch,
    settings,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
    dies_in,
):
    job = homeroom_job(school_a, tiny_class, homeroom)
    killed_at_the_second(monkeypatch, dies_in, lambda: jobs.run_job(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.heartbeat_at is not None
    signed_before = homeroom_signatures()
    assert len(signed_before) == (1 if dies_in == "finish_documents" else 0)
    versions = TranscriptVersion.objects.count()

    english.force_login(homeroom)
    page_url = reverse("hocba:job", args=[school_a.code, job.pk])
    progress_url = reverse("hocba:job_progress", args=[school_a.code, job.pk])
    assert 'data-status="running"' in english.get(progress_url).content.decode()  # still fresh
    go_stale(TranscriptJob, job.pk, settings)
    progress = english.get(progress_url).content.decode()
    assert 'data-status="interrupted"' in progress and "every 1s" not in progress
    page = english.get(page_url).content.decode()
    assert "Interrupted" in page and 'id="job-resume"' in page
    job.refresh_from_db()
    assert job.status == JobStatus.INTERRUPTED and not job.is_active

    resume_url = reverse("hocba:job_resume", args=[school_a.code, job.pk])
    page = english.post(resume_url).content.decode()
    left = {"finish_documents": "1 transcript", "prepare_documents": "2 transcripts"}[dies_in]
    assert f"{left} will be processed" in page and 'name="password"' in page  # asked again
    with django_capture_on_commit_callbacks(execute=True):
        response = code(english, homeroom, resume_url, {"confirm": "1", "password": P12_PASSWORD})
    assert response.status_code == 302 and response.url == page_url
    assert TranscriptJob.objects.count() == 1  # the same job, a new run
    backend()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.failures, bytes(job.sealed_secrets)) == (
        JobStatus.FINISHED,
        2,
        [],
        b"",
    )
    assert homeroom_signatures() == sorted(job.transcript_ids)  # each signed once
    assert TranscriptVersion.objects.count() == versions
    assert Transcript.objects.filter(state=State.SIGNED_HOMEROOM).count() == 2
    assert not job.batches.exclude(status=BatchStatus.DONE).exists()


def test_retry_of_an_interrupted_job_is_not_a_404(
    english,
    settings,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
):
    job = homeroom_job(school_a, tiny_class, homeroom)
    assert background.pick_up(TranscriptJob.objects.all(), job.pk) is not None  # then it died
    go_stale(TranscriptJob, job.pk, settings)
    english.force_login(homeroom)
    response = english.post(reverse("hocba:job_retry", args=[school_a.code, job.pk]))
    assert response.status_code == 200
    assert "2 transcripts will be processed" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.INTERRUPTED


def test_a_late_heartbeat_from_the_old_run_does_not_touch_the_resumed_run(
    settings,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
):
    job = homeroom_job(school_a, tiny_class, homeroom)
    old_run, _secrets = background.pick_up(TranscriptJob.objects.all(), job.pk)
    go_stale(TranscriptJob, job.pk, settings)
    assert background.interrupt_stale(TranscriptJob.objects.all()) == 1
    with pytest.raises(background.Superseded):  # the old worker, still alive, stops here
        background.beat(old_run)
    jobs.resume_job(
        actor=homeroom, job=job, secrets={"homeroom": P12_PASSWORD}, in_background=False
    )
    new_run, _secrets = background.pick_up(TranscriptJob.objects.all(), job.pk)
    assert (new_run.attempts, old_run.attempts) == (2, 1)
    before = TranscriptJob.objects.values().get(pk=job.pk)

    with pytest.raises(background.Superseded):
        background.beat(old_run)
    with pytest.raises(background.Superseded):
        jobs._Progress(old_run).report(Transcript.objects.get(pk=job.transcript_ids[0]), "done")
    with pytest.raises(background.Superseded):
        background.finish(old_run)
    assert TranscriptJob.objects.values().get(pk=job.pk) == before

    background.beat(new_run)  # the resumed run's own heartbeat goes through
    assert TranscriptJob.objects.get(pk=job.pk).heartbeat_at > before["heartbeat_at"]


def test_a_job_is_not_picked_up_twice_and_a_resumed_job_only_once(
    settings,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
):
    job = homeroom_job(school_a, tiny_class, homeroom)
    assert background.pick_up(TranscriptJob.objects.all(), job.pk) is not None
    assert background.pick_up(TranscriptJob.objects.all(), job.pk) is None
    go_stale(TranscriptJob, job.pk, settings)
    call_command("interrupt_stale_jobs", verbosity=0)
    jobs.resume_job(actor=homeroom, job=job, secrets={"homeroom": P12_PASSWORD},
                    in_background=False)  # fmt: skip
    assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    assert jobs.run_job(job.pk) == {"job": job.pk, "status": "not run"}
    assert homeroom_signatures() == sorted(job.transcript_ids)


def test_the_sweep_interrupts_only_stale_runs(
    settings,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
    final_class,
    admin,
):
    stale = homeroom_job(school_a, tiny_class, homeroom)
    fresh = homeroom_job(school_a, tiny_class, homeroom, Transcript.objects.filter(
        pk__in=stale.transcript_ids))  # fmt: skip
    for job in (stale, fresh):
        background.pick_up(TranscriptJob.objects.all(), job.pk)
    go_stale(TranscriptJob, stale.pk, settings)
    package = exports.start_export(actor=admin, school=school_a, year=school_a.current_year(),
                                   kind="full", secret=P12_PASSWORD, enqueue=False,
                                   only_final=True)  # fmt: skip
    background.pick_up(TranscriptPackage.objects.all(), package.pk)
    go_stale(TranscriptPackage, package.pk, settings)
    call_command("interrupt_stale_jobs", verbosity=0)
    statuses = dict(TranscriptJob.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: JobStatus.INTERRUPTED, fresh.pk: JobStatus.RUNNING}
    assert TranscriptPackage.objects.get().status == JobStatus.INTERRUPTED


def test_an_interrupted_export_is_shown_and_started_again(
    english, settings, final_class, admin, school_a
):
    package = exports.start_export(actor=admin, school=school_a, year=school_a.current_year(),
                                   kind="full", secret=P12_PASSWORD, enqueue=False)  # fmt: skip
    picked, _secrets = background.pick_up(TranscriptPackage.objects.all(), package.pk)
    go_stale(TranscriptPackage, package.pk, settings)
    english.force_login(admin)
    progress = english.get(reverse("hocba:package_progress", args=[school_a.code, package.pk]))
    text = progress.content.decode()
    assert 'data-status="interrupted"' in text and 'id="retry-form"' in text
    assert "every 1s" not in text
    response = code(english, admin, reverse("hocba:package_retry", args=[school_a.code,
                    package.pk]), {"seal_password": P12_PASSWORD})  # fmt: skip
    assert response.status_code == 302
    exports.run_export(package.pk)
    package.refresh_from_db()
    assert (package.status, package.attempts) == (JobStatus.FINISHED, 2)
    with pytest.raises(background.Superseded):  # the first run, had it lived
        background.beat(picked)


def test_an_interrupted_upload_is_shown_and_uploaded_again(
    english, monkeypatch, settings, final_class, admin, school_a
):
    package = export_now(admin, school_a)
    settings.PROVINCE_UPLOAD_URL = "http://127.0.0.1:9/"
    settings.PROVINCE_UPLOAD_HOSTS = ["127.0.0.1"]
    uploads.start_upload(actor=admin, package=package, enqueue=False)

    def killed(**kwargs):
        raise WorkerKilled

    monkeypatch.setattr(uploads.client, "upload", killed)
    with pytest.raises(WorkerKilled):
        uploads.run_upload(package.pk)
    package.refresh_from_db()
    assert package.upload_status == UploadStatus.UPLOADING and package.heartbeat_at is not None
    english.force_login(admin)
    page_url = reverse("hocba:package", args=[school_a.code, package.pk])
    assert 'data-upload="uploading"' in english.get(page_url).content.decode()  # still fresh
    go_stale(TranscriptPackage, package.pk, settings)
    text = english.get(page_url).content.decode()
    assert 'data-upload="interrupted"' in text and 'id="upload-form"' in text
    uploads.start_upload(actor=admin, package=package, enqueue=False)
    package.refresh_from_db()
    assert (package.upload_status, package.upload_runs) == (UploadStatus.QUEUED, 1)


def test_the_heartbeat_is_written_for_every_transcript(
    monkeypatch,
    school_a,
    tiny_class,  # noqa: F811
    homeroom,
    credentials,
):
    job = homeroom_job(school_a, tiny_class, homeroom)
    beats: list[datetime.datetime] = []
    real = batches.pipeline.prepare_documents

    def watched(**kwargs):
        beats.append(TranscriptJob.objects.get(pk=job.pk).heartbeat_at)
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "prepare_documents", watched)
    jobs.run_job(job.pk)
    assert len(beats) == 2 and None not in beats and beats[0] < beats[1]
