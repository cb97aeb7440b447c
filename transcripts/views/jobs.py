"""A batch job's page: a progress bar polled with htmx while the worker runs, then the outcome
with every failed student and why, and a retry of just those (which asks for the certificate
password and a two-factor code again: they are never kept)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts.access import get_school
from transcripts import jobs
from transcripts.access import get_job
from transcripts.models import JobStatus, Transcript
from transcripts.views.review import confirm_and_start


@require_safe
def job(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = get_school(request, code)
    the_job = get_job(access, pk)
    return render(
        request, "transcripts/job.html", {"access": access, "job": the_job, "back": _back(the_job)}
    )


@require_safe
def job_progress(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The progress fragment htmx polls (it stops polling once the job is over)."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    return render(request, "transcripts/_job_progress.html", {"access": access, "job": the_job})


@require_POST
def job_retry(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Run the failed transcripts of a finished job again, as the same person and steps."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
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


def _back(the_job) -> str:
    code = the_job.school.code
    if the_job.class_group_id and the_job.created_by_id == the_job.class_group.homeroom_teacher_id:
        return reverse("hocba:class", args=[code, the_job.class_group_id])
    return reverse("hocba:queue", args=[code])
