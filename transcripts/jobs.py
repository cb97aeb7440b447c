"""Batch jobs over transcripts: confirm (homeroom teacher), sign (homeroom teacher, principal)
and seal, run by a background worker through Django's Tasks API with a progress record.

:func:`start_job` checks everything that can be checked at once (the steps are the actor's,
the certificate password opens the certificate and the certificate may sign), records a
:class:`~transcripts.models.TranscriptJob` and enqueues :func:`transcripts.tasks.run_transcript_job`
after the transaction commits. :func:`run_job` is the worker's side: it picks the job up once
(a second delivery of the same job does nothing), wipes the handed-over secrets, and runs the
steps over each transcript, writing progress and per-student failures as it goes. Every step is
idempotent (see :mod:`transcripts.pipeline`), so a retry or a re-run never double-signs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import ExitStack
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.access import SIGNING_ROLES, school_roles
from accounts.models import Role, User
from schools.models import ClassGroup, School, SchoolYear
from transcripts import background, pipeline
from transcripts.models import (
    JobStep,
    SigningCredential,
    Transcript,
    TranscriptJob,
)
from transcripts.signing.certificates import SigningRefused
from transcripts.signing.signers import Signer, SigningError
from transcripts.workflow import TranscriptRefused

logger = logging.getLogger(__name__)

SIGNING_STEPS = (JobStep.HOMEROOM, JobStep.PRINCIPAL, JobStep.SEAL)


class JobRefused(Exception):
    """A job that cannot be started; ``message`` is translated for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- credentials and signers ---------------------------------------------------------------------


def credential_for(*, school: School, user: User, step: str) -> SigningCredential:
    """The active credential that signs ``step``: the school's seal (no user) for the seal,
    otherwise the user's own at this school."""
    credentials = SigningCredential.objects.filter(school=school, is_active=True)
    if step == JobStep.SEAL:
        credential = credentials.filter(user__isnull=True).order_by("-created_at").first()
        if credential is None:
            raise JobRefused(_("The school has no organisational certificate (seal) registered."))
    else:
        credential = credentials.filter(user=user).order_by("-created_at").first()
        if credential is None:
            raise JobRefused(
                _(
                    "You have no signing certificate registered at this school; ask the school "
                    "admin."
                )
            )
    return credential


def open_signers(
    *, school: School, user: User, steps: Iterable[str], secrets: dict[str, str], stack: ExitStack
) -> dict[str, Signer]:
    """step → an open Signer (closed by ``stack``), each certificate checked against its role.
    Raises JobRefused with a message the user can act on (wrong password, certificate refused)."""
    signers: dict[str, Signer] = {}
    for step in steps:
        if step not in SIGNING_STEPS:
            continue
        credential = credential_for(school=school, user=user, step=step)
        try:
            signer = pipeline.signer_for(credential=credential, secret=secrets.get(step, ""))
        except SigningError as exc:
            raise JobRefused(
                _("The certificate could not be opened: %(reason)s")
                % {"reason": pipeline.failure_message(exc)}
            ) from exc
        stack.callback(signer.close)
        try:
            pipeline.check_certificate_for(actor=user, school=school, role=step, signer=signer)
        except SigningRefused as exc:
            raise JobRefused(str(exc)) from exc
        signers[step] = signer
    return signers


# --- starting a job ------------------------------------------------------------------------------


def _check_steps(*, actor: User, school: School, steps: list[str], class_group: ClassGroup | None):
    if not steps or len(set(steps)) != len(steps) or not set(steps) <= set(JobStep.values):
        raise JobRefused(_("Choose what the job should do."))
    roles = school_roles(actor).get(school.pk, frozenset())
    for step in steps:
        if step in (JobStep.CONFIRM, JobStep.HOMEROOM):
            if class_group is None or class_group.homeroom_teacher_id != actor.pk:
                raise JobRefused(_("Only the class's homeroom teacher does this."))
        elif step == JobStep.PRINCIPAL and not roles & SIGNING_ROLES:
            raise JobRefused(_("Only the principal or a vice principal signs as principal."))
        elif step == JobStep.SEAL and Role.PRINCIPAL not in roles:
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
) -> TranscriptJob:
    """Check and record a job, and enqueue it once the transaction commits."""
    ids = [t.pk for t in transcripts if t.school_id == school.pk and t.year_id == year.pk]
    if not ids:
        raise JobRefused(_("No transcripts selected."))
    _check_steps(actor=actor, school=school, steps=steps, class_group=class_group)
    secrets = {step: (secrets or {}).get(step, "") for step in steps if step in SIGNING_STEPS}
    with ExitStack() as stack:  # fail now, not in the worker, on a wrong password
        open_signers(school=school, user=actor, steps=steps, secrets=secrets, stack=stack)
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
        transaction.on_commit(partial(enqueue, job.pk))
    return job


def enqueue(job_id: int) -> None:
    """Hand the job to the task backend (called after commit)."""
    from transcripts.tasks import run_transcript_job

    background.enqueue(run_transcript_job, TranscriptJob, job_id)


# --- running a job -------------------------------------------------------------------------------


def _steps_for(job: TranscriptJob, transcript: Transcript, signers: dict[str, Signer]) -> str:
    """Run the job's steps on one transcript; 'done' if any step did something, else 'skipped'."""
    outcome = "skipped"
    for step in job.steps:
        if step == JobStep.CONFIRM:
            skipped = pipeline.confirm_one(actor=job.created_by, transcript=transcript)
        else:
            skipped = pipeline.sign_one(
                actor=job.created_by, transcript=transcript, role=step, signer=signers[step]
            )
        if skipped is None:
            outcome = "done"
    return outcome


def run_job(job_id: int) -> dict[str, int | str]:
    """The worker's side of a job; returns a summary (the task's result)."""
    picked = background.pick_up(
        TranscriptJob.objects.select_related("school", "created_by", "class_group"), job_id
    )
    if picked is None:
        return {"job": job_id, "status": "not run"}
    job, secrets = picked
    failures: list[dict[str, str | int]] = []
    with ExitStack() as stack:
        try:
            signers = open_signers(
                school=job.school,
                user=job.created_by,
                steps=job.steps,
                secrets=secrets,
                stack=stack,
            )
        except JobRefused as exc:
            background.finish(job, message=exc.message, failed=True)
            return {"job": job_id, "status": "failed"}
        del secrets
        transcripts = (
            Transcript.objects.filter(pk__in=job.transcript_ids, school=job.school, year=job.year)
            .select_related("student", "class_group", "school")
            .order_by("class_group__name", "pk")
        )
        for transcript in transcripts:
            counter = "done"
            try:
                counter = _steps_for(job, transcript, signers)
            except Exception as exc:
                if not isinstance(exc, TranscriptRefused | SigningError):
                    logger.exception("transcript %s failed in job %s", transcript.pk, job.pk)
                counter = None
                failures.append(
                    {
                        "transcript_id": transcript.pk,
                        "student": transcript.student.full_name,
                        "class_name": transcript.class_group.name,
                        "message": pipeline.failure_message(exc),
                    }
                )
            update = {"processed": F("processed") + 1}
            if counter is None:
                update["failures"] = failures
            else:
                update[counter] = F(counter) + 1
            TranscriptJob.objects.filter(pk=job.pk).update(**update)
    background.finish(job)
    job.refresh_from_db()
    return {"job": job_id, "status": job.status, "done": job.done, "failed": len(failures)}


def retry_ids(job: TranscriptJob) -> list[int]:
    """The transcripts that failed in ``job`` (what a retry runs again)."""
    return [int(item["transcript_id"]) for item in job.failures]
