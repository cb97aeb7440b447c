"""A batch job's page: a progress bar polled with htmx while the worker runs, then the outcome
with every failed student and why, and a retry of just those (which asks for the certificate
password and a two-factor code again: they are never kept). A job whose worker died (no
heartbeat for JOB_HEARTBEAT_STALE_SECONDS) shows as interrupted, and its starter resumes it:
the same job, a new run of what is left, with the password and a code asked again.

While a signing step waits for its signer the page says for whom and how long; the starter can
cancel. For a USB token on the signer's own computer the page is where the signature happens:
``static/js/companion.js`` reads the batch's digests (:func:`job_digests`), has the signing
companion sign them after the signer types the PIN there, and posts the values back
(:func:`job_values`)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools.access import SchoolAccess, get_school
from transcripts import background, jobs
from transcripts.access import get_job
from transcripts.models import JobStatus, SigningBatch, Transcript, TranscriptJob
from transcripts.views.review import confirm_and_start
from transcripts.views.waiting import (
    companion_batch,
    digests_response,
    values_response,
    waiting_context,
)


def _context(request: AuthenticatedRequest, access: SchoolAccess, the_job: TranscriptJob) -> dict:
    """The job and, while it waits for its signer, the waiting batch and the time left (an
    overdue batch is ended first, so an expired request shows at once; a running job whose
    worker stopped beating is marked interrupted first)."""
    if the_job.status == JobStatus.RUNNING and background.interrupt_stale(
        TranscriptJob.objects.filter(pk=the_job.pk)
    ):
        the_job.refresh_from_db()
    if the_job.status == JobStatus.WAITING:
        jobs.expire_if_overdue(the_job)
        the_job.refresh_from_db()
    waiting = jobs.waiting_batch(the_job) if the_job.status == JobStatus.WAITING else None
    return {
        "access": access,
        "job": the_job,
        "is_starter": the_job.created_by_id == request.user.pk,
        **waiting_context(request, waiting),
    }


@require_safe
def job(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = get_school(request, code)
    the_job = get_job(access, pk)
    context = _context(request, access, the_job) | {"back": _back(the_job)}
    return render(request, "transcripts/job.html", context)


@require_safe
def job_progress(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The progress fragment htmx polls (it stops polling once the job is over)."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    return render(request, "transcripts/_job_progress.html", _context(request, access, the_job))


def _companion_batch(request: AuthenticatedRequest, code: str, pk: int) -> SigningBatch:
    the_job = get_job(get_school(request, code), pk)
    return companion_batch(request, jobs.waiting_batch(the_job))


@require_safe
def job_digests(request: AuthenticatedRequest, code: str, pk: int) -> JsonResponse:
    """What the signing companion signs for the job's waiting batch."""
    return digests_response(_companion_batch(request, code, pk))


@require_POST
def job_values(request: AuthenticatedRequest, code: str, pk: int) -> JsonResponse:
    """The companion's values for the job's waiting batch; then the job goes on."""
    return values_response(request, _companion_batch(request, code, pk), jobs.after_batch)


@require_POST
def job_cancel(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The starter withdraws a request waiting for the signer: nothing is signed."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    if the_job.created_by_id != request.user.pk:
        raise Http404
    jobs.cancel(job=the_job, actor=request.user)
    return redirect("hocba:job", access.school.code, the_job.pk)


@require_POST
def job_resume(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Resume an interrupted job (its worker died): the confirmation page, then a new run of the
    same job over what is left — the steps' passwords and a fresh two-factor code asked again,
    as at the start. Only its starter resumes it."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    if the_job.created_by_id != request.user.pk:
        raise Http404
    background.interrupt_stale(TranscriptJob.objects.filter(pk=the_job.pk))
    the_job.refresh_from_db()
    if the_job.status != JobStatus.INTERRUPTED:
        raise Http404
    return _confirm_resume(request, access, the_job, "hocba:job_resume")


def _confirm_resume(
    request: AuthenticatedRequest, access: SchoolAccess, the_job: TranscriptJob, action: str
) -> HttpResponse:
    ids = jobs.resume_ids(the_job)
    return confirm_and_start(
        request,
        access,
        year=the_job.year,
        steps=jobs.resume_steps(the_job),
        steps_key="",
        selected_count=len(ids),
        transcripts=Transcript.objects.filter(pk__in=ids, school=access.school),
        action=reverse(action, args=[access.school.code, the_job.pk]),
        back=reverse("hocba:job", args=[access.school.code, the_job.pk]),
        class_group=the_job.class_group,
        start_now=jobs.resume_steps(the_job) == ["confirm"],
        resume=the_job,
    )


@require_POST
def job_retry(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Run the failed transcripts of a finished job again, as the same person and steps; an
    interrupted job is resumed instead (the same job, so that two runs never overlap)."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    if the_job.created_by_id == request.user.pk and the_job.status in (
        JobStatus.RUNNING,
        JobStatus.INTERRUPTED,
    ):
        background.interrupt_stale(TranscriptJob.objects.filter(pk=the_job.pk))
        the_job.refresh_from_db()
        if the_job.status == JobStatus.INTERRUPTED:
            return _confirm_resume(request, access, the_job, "hocba:job_retry")
    if the_job.created_by_id != request.user.pk or the_job.status not in (
        JobStatus.FINISHED,
        JobStatus.FAILED,
    ):
        raise Http404
    ids = jobs.retry_ids(the_job) or the_job.transcript_ids
    transcripts = Transcript.objects.filter(pk__in=ids, school=access.school, year=the_job.year)
    return confirm_and_start(
        request,
        access,
        year=the_job.year,
        steps=the_job.steps,
        steps_key="",
        selected_count=len(ids),
        transcripts=transcripts,
        action=reverse("hocba:job_retry", args=[access.school.code, the_job.pk]),
        back=reverse("hocba:job", args=[access.school.code, the_job.pk]),
        class_group=the_job.class_group,
        retry_of=the_job,
        start_now=the_job.steps == ["confirm"],
    )


def _back(the_job: TranscriptJob) -> str:
    code = the_job.school.code
    class_group = the_job.class_group
    if class_group is not None and the_job.created_by_id == class_group.homeroom_teacher_id:
        return reverse("hocba:class", args=[code, the_job.class_group_id])
    return reverse("hocba:queue", args=[code])
