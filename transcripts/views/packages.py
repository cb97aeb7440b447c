"""The school's packages for the provincial system: the history of every export, starting an
export (a background job with a progress bar), downloading, uploading to the Department, and
the school's upload settings. For the school admin and the principal."""

from __future__ import annotations

import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tables2 import RequestConfig

from accounts.http import AuthenticatedRequest
from schools.access import EXPORT_ROLES, SchoolAccess, get_school
from transcripts import background
from transcripts.access import get_package
from transcripts.forms import EndpointForm, ExportForm, SealForm, UploadForm
from transcripts.models import (
    EndpointChange,
    JobStatus,
    PackageKind,
    ProvincialEndpoint,
    SigningBatch,
    TranscriptPackage,
    UploadStatus,
)
from transcripts.packages import exports, uploads
from transcripts.packages.scope import package_scope
from transcripts.views.stored import stored_file_response
from transcripts.views.waiting import (
    companion_batch,
    digests_response,
    values_response,
    waiting_context,
)

STATUS_BADGES: dict[str, str] = {
    JobStatus.QUEUED: "text-bg-secondary",
    JobStatus.RUNNING: "text-bg-info",
    JobStatus.WAITING: "text-bg-warning",
    JobStatus.FINISHED: "text-bg-success",
    JobStatus.FAILED: "text-bg-danger",
    JobStatus.INTERRUPTED: "text-bg-warning",
}
UPLOAD_BADGES: dict[str, str] = {
    UploadStatus.QUEUED: "text-bg-secondary",
    UploadStatus.UPLOADING: "text-bg-info",
    UploadStatus.ACCEPTED: "text-bg-success",
    UploadStatus.REJECTED: "text-bg-danger",
    UploadStatus.FAILED: "text-bg-warning",
    UploadStatus.INTERRUPTED: "text-bg-warning",
}


def _exporter(request: AuthenticatedRequest, code: str) -> SchoolAccess:
    return get_school(request, code, roles=EXPORT_ROLES)


OPEN_BUTTON = """{% load i18n %}<a class="btn btn-sm btn-outline-primary"
 href="{% url 'hocba:package' access.school.code record.pk %}">{% translate "Open" %}</a>"""


class PackageTable(tables.Table):
    created_at = tables.Column(gettext_lazy("Started"))
    kind = tables.Column(gettext_lazy("Kind"))
    year = tables.Column(gettext_lazy("School year"), order_by=("year__start_year",))
    counts = tables.Column(gettext_lazy("Transcripts"), empty_values=(), orderable=False)
    size = tables.Column(gettext_lazy("Size"), attrs={"td": {"class": "text-end"}})
    status = tables.Column(gettext_lazy("Export"))
    upload_status = tables.Column(gettext_lazy("Department"), empty_values=())
    created_by = tables.Column(gettext_lazy("By"), empty_values=())
    open = tables.TemplateColumn(
        OPEN_BUTTON,
        verbose_name="",
        orderable=False,
    )

    class Meta:
        model = TranscriptPackage
        fields = ["created_at", "kind", "year", "counts", "size", "status", "upload_status",
                  "created_by", "open"]  # fmt: skip
        attrs = {"id": "package-table", "class": "table table-sm table-hover align-middle"}
        empty_text = gettext_lazy("No package has been exported yet.")

    def render_created_at(self, value) -> str:
        return date_format(localtime(value), "SHORT_DATETIME_FORMAT")

    def render_kind(self, record: TranscriptPackage) -> str:
        labels: dict[str, str] = {
            PackageKind.FULL: _("Full"),
            PackageKind.INCREMENTAL: _("Incremental"),
            PackageKind.SINGLE: _("One student"),
        }
        label = labels[record.kind]
        if record.student is not None:
            return f"{label}: {record.student.full_name}"
        return str(label)

    def render_year(self, record: TranscriptPackage) -> str:
        return record.year.name

    def render_counts(self, record: TranscriptPackage) -> str:
        if record.status != JobStatus.FINISHED:
            return format_html("{}/{}", record.processed, record.total)
        parts = [_("%(n)s final") % {"n": record.final_count}]
        if record.withdrawn_count:
            parts.append(_("%(n)s withdrawn") % {"n": record.withdrawn_count})
        if record.left_out_count:
            parts.append(_("%(n)s left out") % {"n": record.left_out_count})
        return ", ".join(parts)

    def render_size(self, record: TranscriptPackage) -> str:
        return filesizeformat(record.size) if record.size else "—"

    def render_status(self, record: TranscriptPackage) -> str:
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES[record.status],
            record.get_status_display(),
        )

    def render_upload_status(self, record: TranscriptPackage) -> str:
        if not record.upload_status:
            return "—"
        badge = format_html(
            '<span class="badge {}">{}</span>',
            UPLOAD_BADGES[record.upload_status],
            record.get_upload_status_display(),
        )
        if record.receipt_id:
            return format_html('{} <span class="small font-monospace">{}</span>', badge,
                               record.receipt_id)  # fmt: skip
        return badge

    def render_created_by(self, record: TranscriptPackage) -> str:
        return record.created_by.display_name if record.created_by else _("command line")


def _page(
    request: AuthenticatedRequest,
    access: SchoolAccess,
    form: ExportForm,
    *,
    refused=None,
    status=200,
):
    year = access.year_or_404()
    history = TranscriptPackage.objects.filter(school=access.school).select_related(
        "created_by", "year", "student"
    )
    table = PackageTable(history)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    scope = package_scope(school=access.school, year=year, kind=PackageKind.FULL)
    return render(
        request,
        "transcripts/packages.html",
        {
            "access": access,
            "year": year,
            "form": form,
            "table": table,
            "final_count": len(scope.finals),
            "students": scope.students,
            "not_final": scope.not_final,
            "refused": refused,
            "endpoint": uploads.endpoint_for(access.school),
        },
        status=status,
    )


@require_safe
def packages(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _exporter(request, code)
    return _page(request, access, ExportForm(user=request.user, school=access.school))


@require_POST
def package_start(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _exporter(request, code)
    year = access.year_or_404()
    form = ExportForm(request.POST, user=request.user, school=access.school)
    if not form.is_valid():
        return _page(request, access, form, status=400)
    data = form.cleaned_data
    try:
        # The seal opens first; the two-factor code is spent only then (FreshCodeMixin).
        with transaction.atomic():
            package = exports.start_export(
                actor=request.user,
                school=access.school,
                year=year,
                kind=data["kind"],
                student=form.student,
                only_final=data["only_final"],
                secret=form.seal_secret(),
            )
            spent = form.spend_code()
            transaction.set_rollback(not spent)
    except exports.ExportRefused as exc:
        form.add_error(None, exc.message)
        return _page(request, access, form, refused=exc, status=400)
    if not spent:
        return _page(request, access, form, status=400)
    return redirect("hocba:package", access.school.code, package.pk)


def _context(
    request: AuthenticatedRequest, access: SchoolAccess, package: TranscriptPackage, **extra
) -> dict:
    """The package and, while its seal is awaited, the waiting batch and the time left (an
    overdue request is ended first, so it shows at once); an export or upload whose worker
    stopped beating is marked interrupted first."""
    this = TranscriptPackage.objects.filter(pk=package.pk)
    if (package.status == JobStatus.RUNNING and background.interrupt_stale(this)) or (
        package.upload_status == UploadStatus.UPLOADING and uploads.interrupt_stale(this)
    ):
        package.refresh_from_db()
    waiting = None
    if package.status == JobStatus.WAITING:
        waiting = exports.waiting_seal(package)
        package.refresh_from_db()
    return {
        "access": access,
        "package": package,
        "attempts": package.upload_attempts.all(),
        "endpoint": uploads.endpoint_for(access.school),
        "is_starter": package.created_by_id == request.user.pk,
        "upload_form": UploadForm(user=request.user),
        **waiting_context(request, waiting),
        **extra,
    }


@require_safe
def package(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    form = SealForm(user=request.user, school=access.school)
    context = _context(request, access, the_package, form=form)
    return render(request, "transcripts/package.html", context)


@require_safe
def package_progress(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The fragment htmx polls while the export or its upload runs (it stops when both rest)."""
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    form = SealForm(user=request.user, school=access.school)
    context = _context(request, access, the_package, form=form)
    return render(request, "transcripts/_package_progress.html", context)


@require_POST
def package_retry(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    form = SealForm(request.POST, user=request.user, school=access.school)
    if form.is_valid():
        try:
            with transaction.atomic():  # the code is spent once the seal opened
                exports.retry_export(
                    actor=request.user, package=the_package, secret=form.seal_secret()
                )
                spent = form.spend_code()
                transaction.set_rollback(not spent)
        except exports.ExportRefused as exc:
            form.add_error(None, exc.message)
        else:
            if spent:
                return redirect("hocba:package", access.school.code, the_package.pk)
    return render(
        request,
        "transcripts/package.html",
        _context(request, access, the_package, form=form),
        status=400,
    )


def _companion_batch(request: AuthenticatedRequest, code: str, pk: int) -> SigningBatch:
    the_package = get_package(_exporter(request, code), pk)
    return companion_batch(request, exports.waiting_seal(the_package))


@require_safe
def package_digests(request: AuthenticatedRequest, code: str, pk: int) -> JsonResponse:
    """What the signing companion signs for the package's seal (the manifest's digest)."""
    return digests_response(_companion_batch(request, code, pk))


@require_POST
def package_values(request: AuthenticatedRequest, code: str, pk: int) -> JsonResponse:
    """The seal's value from the companion; then the package is finished."""
    return values_response(request, _companion_batch(request, code, pk), exports.after_seal)


@require_POST
def package_cancel(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The starter withdraws the seal's request of a waiting export: nothing is sealed."""
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    if the_package.created_by_id != request.user.pk:
        raise Http404
    exports.cancel(package=the_package, actor=request.user)
    return redirect("hocba:package", access.school.code, the_package.pk)


@require_safe
def package_download(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponseBase:
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    if the_package.status != JobStatus.FINISHED or not the_package.file:
        raise Http404(_("This package has no file."))
    return stored_file_response(
        request,
        the_package.file,
        as_attachment=True,
        filename=the_package.download_name,
        content_type="application/zip",
    )


@require_POST
def package_upload(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Upload (or upload again) with a fresh two-factor code: the package leaves the school."""
    access = _exporter(request, code)
    the_package = get_package(access, pk)
    form = UploadForm(request.POST, user=request.user)
    if not form.is_valid():
        seal_form = SealForm(user=request.user, school=access.school)
        context = _context(request, access, the_package, form=seal_form, upload_form=form)
        return render(request, "transcripts/package.html", context, status=400)
    try:
        uploads.start_upload(actor=request.user, package=the_package)
    except uploads.UploadRefused as exc:
        messages.error(request, exc.message)
    return redirect("hocba:package", access.school.code, the_package.pk)


@require_http_methods(["GET", "POST"])
def province_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _exporter(request, code)
    own = ProvincialEndpoint.objects.filter(school=access.school).first()
    form = EndpointForm(
        request.POST or None, user=request.user, initial={"url": own.url} if own else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            uploads.save_endpoint(
                actor=request.user,
                school=access.school,
                url=form.cleaned_data["url"],
                token=form.token_change(),
            )
        except uploads.UploadRefused as exc:
            form.add_error("url", exc.message)
        else:
            messages.success(request, _("The upload settings are saved."))
            return redirect("hocba:province_settings", access.school.code)
    changes = EndpointChange.objects.filter(school=access.school).select_related("changed_by")
    return render(
        request,
        "transcripts/province_settings.html",
        {
            "access": access,
            "form": form,
            "own": own,
            "has_token": bool(own and own.token_encrypted),
            "default_url": _default_url(),
            "changes": changes[:50],
        },
        status=400 if request.method == "POST" else 200,
    )


def _default_url() -> str:
    return settings.PROVINCE_UPLOAD_URL or ""
