"""A batch job's page: a progress bar polled with htmx while the worker runs, then the outcome
with every failed student and why, and a retry of just those (which asks for the certificate
password and a two-factor code again: they are never kept).

While a signing step waits for its signer the page says for whom and how long; the starter can
cancel. For a USB token on the signer's own computer the page is where the signature happens:
``static/js/companion.js`` reads the batch's digests (:func:`job_digests`), has the signing
companion sign them after the signer types the PIN there, and posts the values back
(:func:`job_values`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.access import SchoolAccess, get_school
from transcripts import batches, jobs
from transcripts.access import get_job
from transcripts.models import CredentialKind, JobStatus, SigningBatch, Transcript, TranscriptJob
from transcripts.signing.sources import Certificates
from transcripts.views.review import confirm_and_start

#: A companion's answer: at most 2,000 values of at most 1 KB (base64 of RSA-4096 is 684 B).
MAX_VALUES_BODY = 2_000 * 1_100


def _context(request: HttpRequest, access: SchoolAccess, the_job: TranscriptJob) -> dict:
    """The job and, while it waits for its signer, the waiting batch and the time left (an
    overdue batch is ended first, so an expired request shows at once)."""
    if the_job.status == JobStatus.WAITING:
        jobs.expire_if_overdue(the_job)
        the_job.refresh_from_db()
    waiting = jobs.waiting_batch(the_job) if the_job.status == JobStatus.WAITING else None
    seconds_left = 0
    if waiting is not None and waiting.expires_at is not None:
        seconds_left = max(0, int((waiting.expires_at - timezone.now()).total_seconds()))
    return {
        "access": access,
        "job": the_job,
        "waiting": waiting,
        "seconds_left": seconds_left,
        "time_left": f"{seconds_left // 60}:{seconds_left % 60:02d}",
        "is_starter": the_job.created_by_id == request.user.pk,
    }


@require_safe
def job(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = get_school(request, code)
    the_job = get_job(access, pk)
    context = _context(request, access, the_job) | {
        "back": _back(the_job),
        "companion_url": settings.SIGNING_COMPANION_URL,
        "site_origin": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "transcripts/job.html", context)


@require_safe
def job_progress(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The progress fragment htmx polls (it stops polling once the job is over)."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    return render(request, "transcripts/_job_progress.html", _context(request, access, the_job))


def _companion_batch(request: HttpRequest, code: str, pk: int) -> SigningBatch:
    """The job's batch waiting for the starter's USB token; 404 for anyone else or anything
    else (a batch is signed by the person who started the job)."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    if the_job.created_by_id != request.user.pk:
        raise Http404
    batch = jobs.waiting_batch(the_job)
    if batch is None or batch.method != CredentialKind.COMPANION:
        raise Http404
    return batch


@require_safe
def job_digests(request: HttpRequest, code: str, pk: int) -> JsonResponse:
    """What the signing companion signs: every digest of the waiting batch, in order, with the
    certificate it must use and the summary it shows the signer."""
    batch = _companion_batch(request, code, pk)
    certificate = Certificates.from_pem(batch.certificate_pem).certificate
    return JsonResponse(
        {
            "batch": batch.pk,
            "certificate_sha256": hashlib.sha256(
                certificate.public_bytes(Encoding.DER)
            ).hexdigest(),
            "algorithm": "sha256",
            "digests": [base64.b64encode(d).decode() for d in batches.digests(batch)],
            "summary": batch.summary,
            "expires_at": batch.expires_at.isoformat() if batch.expires_at else None,
        }
    )


@require_POST
def job_values(request: HttpRequest, code: str, pk: int) -> JsonResponse:
    """The signature values from the companion, posted by the signer's browser: checked (one per
    digest, each against the certificate), then the job goes on; otherwise nothing is signed."""
    batch = _companion_batch(request, code, pk)
    if len(request.body) > MAX_VALUES_BODY:
        return JsonResponse({"error": _("The answer is too large.")}, status=400)
    try:
        payload = json.loads(request.body)
        values = [base64.b64decode(v, validate=True) for v in payload["values"]]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return JsonResponse(
            {"error": _("The signing companion's answer is not readable.")}, status=400
        )
    try:
        batches.receive_values(batch=batch, values=values)
    except batches.BatchFailed as exc:
        jobs.after_batch(batch)
        return JsonResponse({"error": exc.message}, status=400)
    jobs.after_batch(batch)
    return JsonResponse({"ok": True})


@require_POST
def job_cancel(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The starter withdraws a request waiting for the signer: nothing is signed."""
    access = get_school(request, code)
    the_job = get_job(access, pk)
    if the_job.created_by_id != request.user.pk:
        raise Http404
    jobs.cancel(job=the_job, actor=request.user)
    return redirect("hocba:job", access.school.code, the_job.pk)


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


def _back(the_job: TranscriptJob) -> str:
    code = the_job.school.code
    if the_job.class_group_id and the_job.created_by_id == the_job.class_group.homeroom_teacher_id:
        return reverse("hocba:class", args=[code, the_job.class_group_id])
    return reverse("hocba:queue", args=[code])
