"""Set-up pages: students."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services, tables
from schools.access import SchoolAccess, get_school_object
from schools.models import (
    Enrollment,
    Student,
)
from schools.setup_views._common import (
    GET_POST,
    _access,
    _data,
    _form_page,
    _page,
    _saved,
    _table,
    _url,
)

# Students ------------------------------------------------------------------------------------


@require_safe
def students(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Every student of the school with their class in the current year (one subquery, so the
    page costs the same queries whatever its size)."""
    access = _access(request, code)
    year = access.year
    filters = forms.StudentFilterForm(request.GET, year=year)
    in_year = Enrollment.objects.current().filter(student=OuterRef("pk"), class_group__year=year)
    current_class = Subquery(in_year.values("class_group__name")[:1])
    rows = Student.objects.filter(school=access.school).annotate(current_class=current_class)
    rows = filters.apply(rows, in_year=in_year)
    table = _table(request, tables.StudentTable(rows, school_code=code))
    context = {"table": table, "filter_form": filters, "year": year}
    return _page(request, "students.html", access, "students", **context)


def _student(access: SchoolAccess, pk: int) -> Student:
    return get_school_object(access, Student.objects.all(), pk, school_path="school")


def _current_enrollment(access: SchoolAccess, student: Student) -> Enrollment | None:
    if access.year is None:
        return None
    enrollments = Enrollment.objects.current().select_related("class_group__year")
    return enrollments.filter(student=student, class_group__year=access.year).first()


@GET_POST
def student_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.StudentForm(_data(request), school=access.school, year=access.year, enroll=True)

    def save() -> str:
        data = form.cleaned_data
        student = setup_services.create_student(
            student=form.instance,
            class_group=data.get("class_group"),
            joined_on=data.get("joined_on"),
        )
        return _("Student %(name)s added.") % {"name": student.full_name}

    if _saved(request, form, save):
        return redirect("schools:setup_students", code=code)
    back_url = _url("setup_students", code)
    return _form_page(request, access, "students", form, _("New student"), back_url)


@GET_POST
def student_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The student's details; their class this year, or a class to join if they have none."""
    access = _access(request, code)
    student = _student(access, pk)
    enrollment = _current_enrollment(access, student)
    title = student.full_name  # before the form changes it
    form = forms.StudentForm(
        _data(request),
        instance=student,
        school=access.school,
        year=access.year,
        enroll=enrollment is None,
    )

    def save() -> str:
        data = form.cleaned_data
        setup_services.update_student(
            student=form.instance,
            class_group=data.get("class_group"),
            joined_on=data.get("joined_on"),
        )
        return _("Student %(name)s saved.") % {"name": student.full_name}

    if _saved(request, form, save):
        return redirect("schools:setup_students", code=code)
    history = student.enrollments.select_related("class_group__year")
    history = history.order_by("-class_group__year__start_year", "joined_on")
    context = {"student": student, "enrollment": enrollment, "history": history}
    back_url = _url("setup_students", code)
    template = "student_form.html"
    return _form_page(request, access, "students", form, title, back_url, template, **context)


def _enrollment_or_redirect(
    request: HttpRequest, access: SchoolAccess, student: Student
) -> Enrollment | HttpResponse:
    enrollment = _current_enrollment(access, student)
    if enrollment is None:
        messages.info(request, _("The student is not in a class this school year."))
        return redirect("schools:setup_student_edit", code=access.school.code, pk=student.pk)
    return enrollment


@GET_POST
def student_transfer(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Transfer out of the school: the current enrollment ends on the given day."""
    access = _access(request, code)
    student = _student(access, pk)
    enrollment = _enrollment_or_redirect(request, access, student)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    form = forms.TransferOutForm(_data(request))

    def save() -> str:
        setup_services.transfer_student_out(enrollment=enrollment, **form.cleaned_data)
        return _("%(name)s transferred out.") % {"name": student.full_name}

    if _saved(request, form, save):
        return redirect("schools:setup_student_edit", code=code, pk=student.pk)
    names = {"name": student.full_name, "class": enrollment.class_group.name}
    title = _("Transfer %(name)s out of %(class)s") % names
    intro = _("The student leaves the school; their marks and records stay.")
    back_url = _url("setup_student_edit", code, student.pk)
    return _form_page(request, access, "students", form, title, back_url, intro=intro)


@GET_POST
def student_move(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Move to another class of the same year from a given day."""
    access = _access(request, code)
    student = _student(access, pk)
    enrollment = _enrollment_or_redirect(request, access, student)
    if isinstance(enrollment, HttpResponse):
        return enrollment
    current = enrollment.class_group
    form = forms.MoveStudentForm(_data(request), year=current.year, current=current)

    def save() -> str:
        moved = setup_services.move_student(enrollment=enrollment, **form.cleaned_data)
        names = {"name": student.full_name, "class": moved.class_group.name}
        return _("%(name)s moved to %(class)s.") % names

    if _saved(request, form, save):
        return redirect("schools:setup_student_edit", code=code, pk=student.pk)
    title = _("Move %(name)s from %(class)s") % {"name": student.full_name, "class": current.name}
    back_url = _url("setup_student_edit", code, student.pk)
    return _form_page(request, access, "students", form, title, back_url)
