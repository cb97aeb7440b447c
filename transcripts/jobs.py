"""Batch jobs over transcripts: confirm (homeroom teacher), sign (homeroom teacher, principal)
and seal, run by a background worker through Django's Tasks API with a progress record.

:func:`start_job` checks everything that can be checked at once (the steps are the actor's,
the certificate password opens the certificate and the certificate may sign), records a
:class:`~transcripts.models.TranscriptJob` and enqueues the task
``transcripts.tasks.run_transcript_job`` (by its name) after the transaction commits.
:func:`run_job` is the worker's side: it picks the job up once (a second delivery of the same
job does nothing), wipes the handed-over secrets, and runs the steps over each transcript,
writing progress, per-student failures and its heartbeat as it goes. Every step is idempotent
(see :mod:`transcripts.pipeline`), so a retry or a re-run never double-signs: a job whose worker
died is interrupted (:func:`transcripts.background.interrupt_stale`) and :func:`resume_job`
queues it again on the same row, from the step it stopped in, with the signers' secrets asked
again (they were wiped at the first pick-up).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from schools.access import school_access
from schools.models import ClassGroup, School, SchoolYear
from transcripts import background, batches, pipeline
from transcripts.background import JobRefused
from transcripts.models import (
    BATCH_ENDED,
    BatchStatus,
    CredentialKind,
    JobStatus,
    JobStep,
    SigningBatch,
    Transcript,
    TranscriptJob,
)
from transcripts.workflow import TranscriptRefused

logger = logging.getLogger(__name__)

SIGNING_STEPS = (JobStep.HOMEROOM, JobStep.PRINCIPAL, JobStep.SEAL)


# --- signature sources ---------------------------------------------------------------------------


def check_sources(
    *, school: School, user: User, steps: Iterable[str], secrets: dict[str, str]
) -> None:
    """Open and close every signing step's source: a wrong password or a refused certificate
    fails now, on the confirmation page, not in the worker."""
    for step in steps:
        if step in SIGNING_STEPS:
            _credential, source = batches.open_source(
                school=school, user=user, step=step, secret=secrets.get(step, "")
            )
            source.close()


# --- starting a job ------------------------------------------------------------------------------


def _check_steps(*, actor: User, school: School, steps: list[str], class_group: ClassGroup | None):
    if not steps or len(set(steps)) != len(steps) or not set(steps) <= set(JobStep.values):
        raise JobRefused(_("Choose what the job should do."))
    access = school_access(actor, school)
    for step in steps:
        if step in (JobStep.CONFIRM, JobStep.HOMEROOM):
            if class_group is None or class_group.homeroom_teacher_id != actor.pk:
                raise JobRefused(_("Only the class's homeroom teacher does this."))
        elif step == JobStep.PRINCIPAL and not access.is_leader:
            raise JobRefused(_("Only the principal or a vice principal signs as principal."))
        elif step == JobStep.SEAL and not access.is_principal:
            raise JobRefused(_("Only the principal applies the school seal."))


def start_job(
    *,
    actor: User,
    school: School,
    year: SchoolYear,
    transcripts: Iterable[Transcript],
    steps: list[str],
    secrets: dict[str, str] | None = None,
    class_group: ClassGroup | None = None,
    retry_of: TranscriptJob | None = None,
    in_background: bool = True,
) -> TranscriptJob:
    """Check and record a job, and enqueue it once the transaction commits (unless the caller
    runs it itself: ``manage.py sign_transcripts``)."""
    ids = [t.pk for t in transcripts if t.school_id == school.pk and t.year_id == year.pk]
    if not ids:
        raise JobRefused(_("No transcripts selected."))
    _check_steps(actor=actor, school=school, steps=steps, class_group=class_group)
    secrets = {step: (secrets or {}).get(step, "") for step in steps if step in SIGNING_STEPS}
    check_sources(school=school, user=actor, steps=steps, secrets=secrets)
    secrets = {step: secret for step, secret in secrets.items() if secret}
    with transaction.atomic():
        job = TranscriptJob.objects.create(
            school=school,
            year=year,
            class_group=class_group,
            created_by=actor,
            steps=list(steps),
            transcript_ids=ids,
            total=len(ids),
            retry_of=retry_of,
            sealed_secrets=background.seal_secrets(secrets),
        )
        if in_background:
            transaction.on_commit(partial(enqueue, job.pk))
    return job


def enqueue(job_id: int) -> None:
    """Hand the job to the task backend (called after commit)."""
    background.enqueue("transcripts.tasks.run_transcript_job", TranscriptJob, job_id)


# --- running a job -------------------------------------------------------------------------------


class _Progress:
    """Writes one step's progress to the job row as transcripts are reported, each write the
    run's heartbeat too (:func:`transcripts.background.beat`: Superseded once the row is no
    longer this run's); failures are kept across the steps (a transcript that failed is not
    tried by the later steps)."""

    def __init__(self, job: TranscriptJob) -> None:
        self.job = job
        self.failures: list[dict[str, str | int]] = list(job.failures or [])
        self.failed_ids = {int(f["transcript_id"]) for f in self.failures}

    def report(self, transcript: Transcript, outcome: str, message: str = "") -> None:
        update: dict = {"processed": F("processed") + 1}
        if outcome == "failed":
            if transcript.pk not in self.failed_ids:
                self.failed_ids.add(transcript.pk)
                self.failures.append(
                    {
                        "transcript_id": transcript.pk,
                        "student": transcript.student.full_name,
                        "class_name": transcript.class_group.name,
                        "message": message,
                    }
                )
            update["failures"] = self.failures
        else:
            update[outcome] = F(outcome) + 1
        background.beat(self.job, **update)

    def beat(self) -> None:
        """The heartbeat alone (an item that reports nothing yet: being prepared)."""
        background.beat(self.job)

    def remaining(self, transcripts: list[Transcript]) -> list[Transcript]:
        """The transcripts a step works on; those failed earlier count as processed."""
        left = [t for t in transcripts if t.pk not in self.failed_ids]
        skipped = len(transcripts) - len(left)
        background.beat(self.job, **({"processed": F("processed") + skipped} if skipped else {}))
        return left


def _transcripts(job: TranscriptJob) -> list[Transcript]:
    return list(
        Transcript.objects.filter(pk__in=job.transcript_ids, school=job.school, year=job.year)
        .select_related("student", "class_group", "school")
        .order_by("class_group__name", "pk")
    )


def _confirm_step(job: TranscriptJob, progress: _Progress) -> None:
    for transcript in progress.remaining(_transcripts(job)):
        try:
            skipped = pipeline.confirm_one(actor=job.created_by, transcript=transcript)
        except Exception as exc:
            if not isinstance(exc, TranscriptRefused):
                logger.exception("transcript %s failed in job %s", transcript.pk, job.pk)
            progress.report(transcript, "failed", pipeline.failure_message(exc))
        else:
            progress.report(transcript, "skipped" if skipped else "done", skipped or "")


def _signing_step(
    job: TranscriptJob, step: str, secrets: dict[str, str], progress: _Progress
) -> SigningBatch:
    """Run one signer's batch as far as it goes now: prepare and request (the first time), then
    finish once the values are in. Returns the batch (waiting, done or ended)."""
    batch = job.batches.filter(role=step).first()
    if batch is None:
        credential, source = batches.open_source(
            school=job.school, user=job.created_by, step=step, secret=secrets.get(step, "")
        )
        try:
            batch = batches.prepare_batch(
                job=job,
                role=step,
                credential=credential,
                source=source,
                transcripts=progress.remaining(_transcripts(job)),
                report=progress.report,
                heartbeat=progress.beat,
            )
            progress.beat()
            batches.request_values(batch=batch, source=source)
        finally:
            source.close()
        batch.refresh_from_db()
    if batch.status == BatchStatus.SIGNED:
        batches.finish_batch(batch=batch, actor=job.created_by, report=progress.report)
        batch.refresh_from_db()
    return batch


def _next_step(job: TranscriptJob) -> None:
    job.step_index += 1
    background.beat(job, step_index=job.step_index, processed=0, done=0, skipped=0)


def run_job(job_id: int) -> dict[str, int | str]:
    """The worker's side of a job: its steps in order, each over every transcript; a signing
    step that waits for its signer parks the job (the worker is free) until the values arrive
    (:func:`resume`) or the request ends (:func:`fail_waiting`). Returns a summary."""
    picked = background.pick_up(
        TranscriptJob.objects.select_related("school", "created_by", "class_group", "year"),
        job_id,
    )
    if picked is None:
        return {"job": job_id, "status": "not run"}
    job, secrets = picked
    try:
        return _run(job, secrets)
    except background.Superseded:  # marked interrupted, or resumed by another run: stop here
        logger.warning("job %s: run %s was superseded; it stops", job.pk, job.attempts)
        return {"job": job_id, "status": "superseded"}


def _run(job: TranscriptJob, secrets: dict[str, str]) -> dict[str, int | str]:
    job_id = job.pk
    progress = _Progress(job)
    try:
        while True:
            step = job.steps[job.step_index]
            if step == JobStep.CONFIRM:
                _confirm_step(job, progress)
            else:
                batch = _signing_step(job, step, secrets, progress)
                secrets.pop(step, None)  # used: never kept longer than needed
                if batch.status == BatchStatus.WAITING:
                    _park(job, batch, secrets)
                    return {"job": job_id, "status": JobStatus.WAITING}
                if batch.status != BatchStatus.DONE:
                    raise JobRefused(str(batch.message or BatchStatus(batch.status).label))
            if job.step_index + 1 >= len(job.steps):
                break
            _next_step(job)
    except JobRefused as exc:
        background.finish(job, message=exc.message, failed=True)
        return {"job": job_id, "status": JobStatus.FAILED}
    background.finish(job)
    job.refresh_from_db()
    return {"job": job_id, "status": job.status, "done": job.done, "failed": len(job.failures)}


def _park(job: TranscriptJob, batch: SigningBatch, secrets: dict[str, str]) -> None:
    """The job waits for its signer: the secrets of its later steps are sealed again (usable for
    SIGNING_HANDOFF_SECONDS), and the batch is polled by a task until it ends."""
    if not background.run_rows(job).update(
        status=JobStatus.WAITING, sealed_secrets=background.seal_secrets(secrets)
    ):
        raise background.Superseded(job)
    transaction.on_commit(partial(batches.schedule_poll, batch.pk, batches.poll_interval(batch)))


def resume(job: TranscriptJob) -> None:
    """The values of a waiting job's batch are in: queue the job to finish it (after commit)."""
    with transaction.atomic():
        updated = TranscriptJob.objects.filter(pk=job.pk, status=JobStatus.WAITING).update(
            status=JobStatus.QUEUED
        )
        if updated:
            transaction.on_commit(partial(enqueue, job.pk))


def fail_waiting(job: TranscriptJob, message: str) -> None:
    """A waiting job's request ended without signatures: the job fails, its secrets go."""
    TranscriptJob.objects.filter(pk=job.pk, status=JobStatus.WAITING).update(
        status=JobStatus.FAILED, message=message, sealed_secrets=b"", finished_at=timezone.now()
    )


def after_batch(batch: SigningBatch) -> None:
    """Move the batch's job on once the batch left waiting: values in → resume; ended → fail."""
    batch.refresh_from_db()
    if batch.status == BatchStatus.SIGNED:
        resume(_job_of(batch))
    elif batch.status in BATCH_ENDED:
        fail_waiting(_job_of(batch), str(batch.message or BatchStatus(batch.status).label))


def _job_of(batch: SigningBatch) -> TranscriptJob:
    if batch.job is None:  # a package's batch: exports.after_seal moves it on
        raise ValueError(f"batch {batch.pk} belongs to no job")
    return batch.job


def poll_batch(batch_id: int) -> str:
    """One look at a job's waiting batch (the poll task): expired, signed, refused, or still
    waiting (polled again later); the job moves on accordingly. Returns the batch's status."""
    batch = batches.poll_once(batch_id)
    if batch is None:
        return "gone"
    after_batch(batch)
    if batch.status == BatchStatus.WAITING:
        batches.schedule_poll(batch.pk, batches.poll_interval(batch))
    return batch.status


def cancel(*, job: TranscriptJob, actor: User) -> None:
    """The starter cancels a job that waits for its signer: the request is withdrawn, nothing
    is signed."""
    batch = job.batches.filter(status=BatchStatus.WAITING).select_related("credential").first()
    if batch is not None:
        batches.cancel(batch=batch, actor=actor)
        after_batch(batch)


def expire_if_overdue(job: TranscriptJob) -> None:
    """End the job's waiting batch if its time is up (the job page asks as it polls, so an
    expired request shows at once even where no poll task runs)."""
    batch = job.batches.filter(status=BatchStatus.WAITING).first()
    if batch is not None and batches.is_overdue(batch):
        batches.expire(batch)
        after_batch(batch)


def waiting_batch(job: TranscriptJob) -> SigningBatch | None:
    return job.batches.filter(status=BatchStatus.WAITING).first()


def waiting_text(job: TranscriptJob, batch: SigningBatch) -> str:
    """What a job waiting for its signer waits for, in words (the command line's line)."""
    summary = batch.summary or {}
    until = timezone.localtime(batch.expires_at).strftime("%H:%M") if batch.expires_at else "—"
    if batch.method == CredentialKind.COMPANION:
        url = settings.SITE_URL.rstrip("/") + reverse("hocba:job", args=[job.school.code, job.pk])
        return _(
            "Open %(url)s on the computer with the USB token, with the signing companion "
            "running, and sign %(count)s transcripts there before %(time)s."
        ) % {"url": url, "count": summary.get("transcripts", 0), "time": until}
    return _(
        "Waiting for %(name)s to confirm %(count)s transcripts (%(files)s files) on their "
        "phone, until %(time)s."
    ) % {
        "name": summary.get("signer", ""),
        "count": summary.get("transcripts", 0),
        "files": summary.get("documents", 0),
        "time": until,
    }


def job_items(job: TranscriptJob, transcripts: Iterable[Transcript]) -> list[pipeline.BatchItem]:
    """Each transcript's outcome in a finished job, as the batch services list them."""
    failed = {int(f["transcript_id"]): str(f["message"]) for f in job.failures}
    role = job.steps[-1]
    items = []
    for transcript in transcripts:
        if transcript.pk in failed:
            outcome, message = "failed", failed[transcript.pk]
        else:
            outcome, message = ("done", "") if transcript.is_signed_as(role) else ("skipped", "")
        items.append(pipeline.item_of(transcript, outcome, message))
    return items


def resume_steps(job: TranscriptJob) -> list[str]:
    """The steps a resumed run still has to do: from the one the job stopped in."""
    return list(job.steps[job.step_index :])


def resume_ids(job: TranscriptJob) -> list[int]:
    """The job's transcripts a resumed run still works on (not failed, not through the job's
    last step yet): what its confirmation page counts."""
    failed = {int(f["transcript_id"]) for f in job.failures}
    last = job.steps[-1]
    left = []
    for transcript in _transcripts(job):
        if transcript.pk in failed:
            continue
        if last == JobStep.CONFIRM or not transcript.is_signed_as(last):
            left.append(transcript.pk)
    return left


def resume_job(
    *,
    actor: User,
    job: TranscriptJob,
    secrets: dict[str, str] | None = None,
    in_background: bool = True,
) -> TranscriptJob:
    """Queue an interrupted job again, on the same row: a new run from the step it stopped in,
    which skips what is already done (every step is idempotent, so nothing is signed twice).
    Only its starter resumes it, with the steps' secrets typed again (the first run's were
    wiped when it was picked up), checked now as at the start. A batch the dead run was
    preparing (never answered, nothing signed) is discarded and prepared again."""
    if job.created_by_id != actor.pk:
        raise JobRefused(_("Only the person who started the job can resume it."))
    steps = resume_steps(job)
    _check_steps(actor=actor, school=job.school, steps=steps, class_group=job.class_group)
    secrets = {step: (secrets or {}).get(step, "") for step in steps if step in SIGNING_STEPS}
    check_sources(school=job.school, user=actor, steps=steps, secrets=secrets)
    secrets = {step: secret for step, secret in secrets.items() if secret}
    with transaction.atomic():
        locked = TranscriptJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.status != JobStatus.INTERRUPTED:
            raise JobRefused(_("Only an interrupted job can be resumed."))
        for batch in locked.batches.filter(status=BatchStatus.PREPARING):
            batches.discard(batch)
        TranscriptJob.objects.filter(pk=job.pk).update(
            status=JobStatus.QUEUED,
            sealed_secrets=background.seal_secrets(secrets),
            processed=0,
            done=0,
            skipped=0,
            heartbeat_at=None,
            finished_at=None,
            message="",
        )
        if in_background:
            transaction.on_commit(partial(enqueue, job.pk))
    job.refresh_from_db()
    return job


def retry_ids(job: TranscriptJob) -> list[int]:
    """The transcripts that failed in ``job`` (what a retry runs again)."""
    return [int(item["transcript_id"]) for item in job.failures]
