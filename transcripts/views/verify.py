"""The public verification page (no login): by the code on the transcript (the QR target), by
uploading the signed PDF or XML, or by uploading a whole package (ZIP) for the offline checks of
``verify_package``. Rate-limited per client address; every lookup is logged.

A package's cheap checks (ZIP, manifest, seal, digests) run at once under the settings' limits;
its transcripts' signatures too when there are few, otherwise in a background job whose result
page (:func:`package_job`) is reached by a random token (no login)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from transcripts.background import JobRefused
from transcripts.models import VerificationLookup
from transcripts.packages import format as fmt
from transcripts.packages import verify_jobs
from transcripts.packages.verify import Limits, PackageReport, verify_package
from transcripts.verification import (
    INVALID,
    MAX_UPLOAD_BYTES,
    Verdict,
    normalise_code,
    verify_by_code,
    verify_file,
)

#: (lookups, seconds) per client address; override with settings.VERIFY_RATE_LIMIT.
DEFAULT_RATE_LIMIT = (30, 600)
RATE_LIMITED = "rate_limited"


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR only: behind a reverse proxy, the proxy must pass the real address through
    (X-Forwarded-For is not trusted here, as any client can send it)."""
    return request.META.get("REMOTE_ADDR") or None


def _over_limit(ip: str | None) -> bool:
    limit, window = getattr(settings, "VERIFY_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    key = f"verify-rate:{ip or '-'}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _log(request: HttpRequest, *, method: str, outcome: str, code: str = "", version_id=None):
    VerificationLookup.objects.create(
        code=code[:32],
        method=method[:10],
        outcome=outcome[:20],
        version_id=version_id,
        client_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def _refused(request: HttpRequest, method: str, code: str = "") -> HttpResponse:
    _log(request, method=method, outcome=RATE_LIMITED, code=code)
    return render(
        request,
        "transcripts/verify.html",
        {"error": _("Too many lookups from your address. Please try again in a few minutes.")},
        status=429,
    )


def _result(request: HttpRequest, verdict: Verdict, *, code: str = "") -> HttpResponse:
    _log(
        request,
        method=verdict.method,
        outcome=verdict.outcome,
        code=code,
        version_id=verdict.version_id,
    )
    return render(request, "transcripts/verify.html", {"verdict": verdict, "code": code})


@login_not_required
@require_http_methods(["GET", "POST"])
def verify_home(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        code = normalise_code(request.GET.get("code", ""))
        if code:
            return redirect("transcripts:verify_code", code=code)
        return render(request, "transcripts/verify.html", {})
    if _over_limit(client_ip(request)):
        return _refused(request, "file")
    upload = request.FILES.get("file")
    if upload is None:
        return render(
            request,
            "transcripts/verify.html",
            {"error": _("Choose a PDF or XML file to check.")},
            status=400,
        )
    head = upload.read(4)
    upload.seek(0)
    if head == b"PK\x03\x04":
        return _package(request, upload)
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        verdict = Verdict(
            outcome=INVALID, method="file", reason=_("The file is larger than 10 MB.")
        )
        return _result(request, verdict)
    return _result(request, verify_file(upload.read()))


def _package(request: HttpRequest, upload) -> HttpResponse:
    """A transcript package (ZIP): the offline checks of ``verify_package``, against the
    configured trust anchors. The report names members (student codes), never a student."""
    limit = settings.VERIFY_PACKAGE_MAX_BYTES
    if upload.size > limit:
        return render(
            request,
            "transcripts/verify.html",
            {
                "error": _(
                    "The package is larger than %(size)s: check it with `manage.py "
                    "verify_package` or the standard tools (docs/package-format.md)."
                )
                % {"size": filesizeformat(limit)}
            },
            status=413,
        )
    inline = settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS

    def here(manifest: fmt.Manifest) -> bool:
        return len(manifest.transcripts) <= inline

    report = verify_package(upload.file, limits=Limits.public(), transcripts=here)
    if report.ok and not report.transcripts_verified:
        return _start_job(request, upload, report)
    _log(request, method="package", outcome="genuine" if report.ok else INVALID)
    return render(request, "transcripts/verify.html", {"report": report})


def _start_job(request: HttpRequest, upload, report: PackageReport) -> HttpResponse:
    """Hand the transcripts' signatures to a worker; the page of its result."""
    upload.seek(0)
    try:
        job = verify_jobs.start_verification(
            chunks=upload.chunks(), report=report, client_ip=client_ip(request)
        )
    except JobRefused as refused:
        _log(request, method="package", outcome=RATE_LIMITED)
        return render(request, "transcripts/verify.html", {"error": refused.message}, status=429)
    _log(request, method="package", outcome="queued")
    return redirect("transcripts:verify_package_job", token=job.token)


def _job_context(token: str) -> dict[str, object]:
    job = verify_jobs.get_verification(token)
    if job is None:
        raise Http404
    return {"job": job, "report": PackageReport.from_json(job.report)}


@login_not_required
@require_safe
def package_job(request: HttpRequest, token: str) -> HttpResponse:
    """A package check's progress, then its result (polled while the worker runs)."""
    return render(request, "transcripts/verify_package_job.html", _job_context(token))


@login_not_required
@require_safe
def package_job_progress(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "transcripts/_verify_package_progress.html", _job_context(token))


@login_not_required
@require_http_methods(["GET"])
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    code = normalise_code(code)
    if _over_limit(client_ip(request)):
        return _refused(request, "code", code)
    return _result(request, verify_by_code(code), code=code)
