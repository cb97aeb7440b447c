"""Correction requests: a teacher files one for a locked cell, the leadership decides, and the
teacher, the class's homeroom teacher and the leadership see the list."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedRequest
from config.numbers import whole_number
from gradebook import corrections
from gradebook.columns import Column
from gradebook.forms import CorrectionDecisionForm, CorrectionRequestForm
from gradebook.models import CorrectionRequest, CorrectionStatus, Mark
from gradebook.services import GradebookError, cell_lock
from schools.access import (
    LEADERSHIP_ROLES,
    SchoolAccess,
    get_homeroom_book,
    get_school,
    get_school_object,
    get_subject_gradebook,
)
from schools.models import ClassGroup, Student, Subject


@dataclass(frozen=True)
class Cell:
    """The cell a correction form is about, from the query string."""

    class_group: ClassGroup
    subject: Subject | None
    student: Student
    column: Column

    def mark(self) -> Mark | None:
        return Mark.objects.filter(
            student=self.student,
            year_id=self.class_group.year_id,
            term=self.column.term,
            subject=self.subject,
            kind=self.column.kind,
            slot=self.column.slot,
        ).first()


def _pk(text: str | None) -> int:
    number = whole_number(text)
    if number is None:
        raise Http404
    return number


def _cell(request: AuthenticatedRequest, access: SchoolAccess) -> Cell:
    """?class=<pk>&subject=<pk or empty for the homeroom book>&student=<pk>&column=<key>.
    404 outside the school or for a cell the book does not have; 403 unless the user writes
    this book (assigned teacher, or homeroom teacher for the homeroom book)."""
    params = request.GET
    class_pk, subject_text = _pk(params.get("class")), params.get("subject", "")
    if subject_text:
        book = get_subject_gradebook(access, class_pk, _pk(subject_text), write=True)
        class_group, subject = book.class_group, book.entry.subject
    else:
        class_group, subject = get_homeroom_book(access, class_pk, write=True), None
    student = get_object_or_404(
        Student, pk=_pk(params.get("student")), enrollments__class_group=class_group
    )
    subject_id = subject.pk if subject is not None else None
    column = corrections.find_column(class_group, subject_id, params.get("column", ""))
    if column is None:
        raise Http404
    return Cell(class_group=class_group, subject=subject, student=student, column=column)


@require_http_methods(["GET", "HEAD", "POST"])
def correction_new(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Ask to correct one locked cell: shows its current value and files the request."""
    access = get_school(request, code)
    cell = _cell(request, access)
    form = CorrectionRequestForm(
        request.POST if request.method == "POST" else None,
        multiline=cell.column.value_type == "text",
    )
    if form.is_valid():
        try:
            corrections.request_correction(
                actor=request.user,
                class_group=cell.class_group,
                student=cell.student,
                column=cell.column,
                new_text=form.cleaned_data["new_value"],
                reason=form.cleaned_data["reason"],
            )
        except GradebookError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your correction request was sent for approval."))
            return redirect("gradebook:corrections", code=code)
    mark = cell.mark()
    context = {
        "access": access,
        "cell": cell,
        "form": form,
        "current": mark.value if mark else "",
        "lock": cell_lock(class_group=cell.class_group, column=cell.column),
        "pending": mark.corrections.filter(status=CorrectionStatus.PENDING).first()
        if mark
        else None,
        "history": mark.corrections.select_related("requested_by", "decided_by")[:10]
        if mark
        else [],
    }
    return render(request, "gradebook/correction_form.html", context)


def visible_corrections(access: SchoolAccess) -> QuerySet[CorrectionRequest]:
    """The leadership and the admin see every request of the school; a teacher sees the
    requests they filed and those of the classes they are homeroom teacher of."""
    rows = CorrectionRequest.objects.filter(school=access.school)
    if not access.sees_whole_school:
        rows = rows.filter(
            Q(requested_by=access.user) | Q(class_group__homeroom_teacher=access.user)
        )
    return rows


@require_safe
def correction_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Pending requests first, then the decided ones, newest first; ?status= filters."""
    access = get_school(request, code)
    rows = visible_corrections(access)
    status = request.GET.get("status", "")
    if status in CorrectionStatus.values:
        rows = rows.filter(status=status)
    rows = (
        rows.select_related(
            "mark__student", "mark__subject", "class_group", "requested_by", "decided_by", "event"
        )
        .annotate(
            waiting=Case(
                When(status=CorrectionStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-requested_at", "-pk")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {
        "access": access,
        "page": page,
        "status": status,
        "statuses": CorrectionStatus.choices,
        "can_decide": access.is_leader,
    }
    return render(request, "gradebook/corrections.html", context)


@require_POST
def correction_decide(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The leadership approves (the mark changes, recorded as a correction) or rejects."""
    access = get_school(request, code, roles=LEADERSHIP_ROLES)
    correction = get_school_object(
        access, CorrectionRequest.objects.all(), pk, school_path="school"
    )
    form = CorrectionDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise GradebookError(_("Choose whether to approve or reject the request."))
        note = form.cleaned_data["note"]
        if form.cleaned_data["decision"] == "approve":
            corrections.approve_correction(
                actor=request.user,
                request=correction,
                note=note,
                client_ip=request.META.get("REMOTE_ADDR"),
            )
            messages.success(request, _("Correction approved and applied to the gradebook."))
        else:
            corrections.reject_correction(actor=request.user, request=correction, note=note)
            messages.success(request, _("Correction rejected."))
    except GradebookError as error:
        messages.error(request, error.message)
    return redirect(reverse("gradebook:corrections", args=[code]) + f"#correction-{pk}")
