"""Transfers in and the multi-year học bạ: the student's record of the level's years (this
school's signed transcripts and those received from other schools), its gathered reading copy
as a PDF, a received year's signed files, and the admin's upload of a transfer package
(verified before anything is stored; :mod:`transcripts.transfers`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts.http import AuthenticatedRequest
from config.storage import StorageUnavailable
from schools.access import SETUP_ROLES, get_school, get_student
from transcripts.models import ReceivedDocument, ReceivedPackage
from transcripts.records import record_pdf, student_record
from transcripts.transfer_marks import CarryRefused, carries_marks, carry_received_marks
from transcripts.transfers import TransferRefused, receive_package
from transcripts.views.stored import stored_file_response, unavailable_response


class ReceiveForm(forms.Form):
    package = forms.FileField(
        label=gettext_lazy("Transfer package (ZIP)"),
        help_text=gettext_lazy(
            "The single-student package the previous school exported. It is checked with the "
            "package verifier (seal, signatures, digests) before anything is stored."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


@require_safe
def record(request: AuthenticatedRequest, code: str, student_pk: int) -> HttpResponse:
    access = get_school(request, code)
    student = get_student(access, student_pk)
    years = student_record(school=access.school, student=student)
    return render(
        request,
        "transcripts/record.html",
        {
            "access": access,
            "student": student,
            "years": years,
            "packages": ReceivedPackage.objects.filter(school=access.school, student=student)
            .select_related("received_by")
            .order_by("-verified_at"),
        },
    )


@require_safe
def record_download(request: AuthenticatedRequest, code: str, student_pk: int) -> HttpResponse:
    """The gathered reading copy (a cover with the learning history, then every signed year)."""
    access = get_school(request, code)
    student = get_student(access, student_pk)
    years = student_record(school=access.school, student=student)
    try:
        pdf = record_pdf(school=access.school, student=student, years=years)
    except FileNotFoundError:
        return unavailable_response(request, missing=True)
    except StorageUnavailable:
        return unavailable_response(request, missing=False)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"hocba-{student.student_code}-cac-nam.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@require_safe
def received_download(
    request: AuthenticatedRequest, code: str, student_pk: int, pk: int, kind: str
) -> HttpResponseBase:
    """A received year's signed file exactly as the sending school signed it (streamed from the
    storage; a missing object or an unreachable store is the "file not available" page)."""
    access = get_school(request, code)
    student = get_student(access, student_pk)
    document = get_object_or_404(ReceivedDocument, pk=pk, school=access.school, student=student)
    field = {"pdf": document.pdf_file, "xml": document.xml_file}.get(kind)
    if field is None or not field:
        raise Http404
    name = f"hocba-{student.student_code}-{document.year_label}-v{document.version}.{kind}"
    return stored_file_response(request, field, filename=name, as_attachment=kind == "xml")


@require_http_methods(["GET", "POST"])
def receive(request: AuthenticatedRequest, code: str, student_pk: int) -> HttpResponse:
    """The school admin uploads the transfer package of a student who arrived."""
    access = get_school(request, code, roles=SETUP_ROLES)
    student = get_student(access, student_pk)
    form = ReceiveForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            package = receive_package(
                actor=request.user,
                school=access.school,
                student=student,
                upload=form.cleaned_data["package"],
            )
        except TransferRefused as exc:
            form.add_error("package", exc.message)
            problems = exc.problems
        else:
            messages.success(
                request,
                _("Received and verified: %(n)s year(s) from %(school)s.")
                % {"n": package.documents.count(), "school": package.source_school_name},
            )
            if carries_marks(package):  # the year so far: offer to carry its marks at once
                return redirect("hocba:received_marks", access.school.code, student.pk, package.pk)
            return redirect("hocba:record", access.school.code, student.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "transcripts/receive.html",
        {"access": access, "student": student, "form": form, "problems": problems},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def received_marks(
    request: AuthenticatedRequest, code: str, student_pk: int, pk: int
) -> HttpResponse:
    """The marks of the year so far that a received package carries: what carrying them into
    the student's class gradebook would do (GET), and the carry itself (POST; the school
    admin, like receiving)."""
    access = get_school(request, code, roles=SETUP_ROLES)
    student = get_student(access, student_pk)
    package = get_object_or_404(ReceivedPackage, pk=pk, school=access.school, student=student)
    apply = request.method == "POST"
    context: dict[str, object] = {"access": access, "student": student, "package": package}
    try:
        class_group, report = carry_received_marks(
            actor=request.user,
            package=package,
            client_ip=request.META.get("REMOTE_ADDR"),
            apply=apply,
        )
    except CarryRefused as exc:
        context["refusal"] = exc.message
        return render(
            request, "transcripts/received_marks.html", context, status=400 if apply else 200
        )
    if apply:
        messages.success(
            request,
            ngettext(
                "%(n)s mark carried into the gradebook of class %(class)s.",
                "%(n)s marks carried into the gradebook of class %(class)s.",
                report.carried,
            )
            % {"n": report.carried, "class": class_group.name},
        )
    context.update({"class_group": class_group, "report": report})
    return render(request, "transcripts/received_marks.html", context)
