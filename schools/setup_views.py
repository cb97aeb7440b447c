"""The school admin's set-up pages: years, classes, subjects and curriculum, staff, teaching
assignments and students. Every view: access getter (SETUP_ROLES) → form → service → redirect
with a message."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tables2 import RequestConfig, Table

from accounts.access import SETUP_ROLES, SchoolAccess, get_school, get_school_object
from accounts.models import Membership, User
from schools import forms, setup_services, tables
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    SchoolYear,
    Student,
    TeachingAssignment,
)
from schools.services import load_default_curriculum, renumber_class

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


# Helpers -------------------------------------------------------------------------------------


def _access(request: HttpRequest, code: str) -> SchoolAccess:
    return get_school(request, code, roles=SETUP_ROLES)


def _page(
    request: HttpRequest, template: str, access: SchoolAccess, section: str, **context: object
) -> HttpResponse:
    context = {"access": access, "section": section, **context}
    return render(request, f"schools/setup/{template}", context)


def _form_page(
    request: HttpRequest,
    access: SchoolAccess,
    section: str,
    form: Form,
    title: str,
    back_url: str,
    template: str = "form.html",
    **context: object,
) -> HttpResponse:
    context = {"form": form, "title": title, "back_url": back_url, **context}
    return _page(request, template, access, section, **context)


def _data(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _saved(request: HttpRequest, form: Form, save: Callable[[], str]) -> bool:
    """If the form is valid, run `save` (a service call returning the success message). The
    service's ValidationError lands on the form fields it names, the rest above the form."""
    if not form.is_valid():
        return False
    try:
        message = save()
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
        for field, errors in getattr(error, "error_dict", {}).items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, message)
    return True


def _table(request: HttpRequest, table: Table) -> Table:
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return table


def _url(name: str, code: str, *args: object, query: str = "") -> str:
    url = reverse(f"schools:{name}", args=[code, *args])
    return f"{url}?{query}" if query else url


def _year(access: SchoolAccess, pk: int) -> SchoolYear:
    return get_school_object(access, SchoolYear.objects.all(), pk, school_path="school")


def _chosen_year(request: HttpRequest, access: SchoolAccess) -> SchoolYear | None:
    """The year in ?year= (404 if another school's), else the current one."""
    pk = request.GET.get("year", "")
    return _year(access, int(pk)) if pk.isdigit() else access.year


def _filter_year(request: HttpRequest, access: SchoolAccess) -> SchoolYear | None:
    """The year chosen in a list's filter (?year=): the current one when absent or not this
    school's (a stale link is not an error)."""
    pk = request.GET.get("year", "")
    year = access.school.years.filter(pk=pk).first() if pk.isdigit() else None
    return year or access.year


def _with_year(request: HttpRequest, year: SchoolYear | None) -> QueryDict:
    """The list's filter data, with the year it shows."""
    data = request.GET.copy()
    if year is not None:
        data["year"] = str(year.pk)
    return data


def _no_year(request: HttpRequest, code: str) -> HttpResponse:
    messages.warning(request, _("Set up a school year first."))
    return redirect("schools:setup_years", code=code)


# Years ---------------------------------------------------------------------------------------


@require_safe
def years(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    term_dates = {
        f"term{n}_{edge}": Min(f"terms__{field}", filter=Q(terms__number=n))
        for n in (1, 2)
        for edge, field in (("start", "starts_on"), ("end", "ends_on"))
    }
    rows = access.school.years.annotate(**term_dates, class_count=Count("classes", distinct=True))
    table = _table(request, tables.YearTable(rows, school_code=code))
    return _page(request, "years.html", access, "years", table=table)


@GET_POST
def year_create(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.SchoolYearForm(_data(request), school=access.school)

    def save() -> str:
        data = form.cleaned_data
        year = setup_services.add_school_year(
            school=access.school,
            start_year=data["start_year"],
            make_current=data["make_current"],
            **form.term_ranges(),
        )
        return _("School year %(name)s created.") % {"name": year.name}

    if _saved(request, form, save):
        return redirect("schools:setup_years", code=code)
    intro = _(
        "The curriculum is copied from the previous year, or loaded from the programme's "
        "defaults for the school's first year."
    )
    back_url = _url("setup_years", code)
    return _form_page(request, access, "years", form, _("New school year"), back_url, intro=intro)


@GET_POST
def year_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    form = forms.YearDatesForm(_data(request), year=year)

    def save() -> str:
        setup_services.update_term_dates(year=year, **form.term_ranges())
        return _("Term dates of %(name)s saved.") % {"name": year.name}

    if _saved(request, form, save):
        return redirect("schools:setup_years", code=code)
    title = _("School year %(name)s") % {"name": year.name}
    back_url = _url("setup_years", code)
    return _form_page(request, access, "years", form, title, back_url, "year_form.html", year=year)


@require_POST
def year_make_current(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    setup_services.make_year_current(year=year)
    messages.success(request, _("%(name)s is now the current school year.") % {"name": year.name})
    return redirect("schools:setup_years", code=code)


# Classes -------------------------------------------------------------------------------------


@require_safe
def classes(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = _filter_year(request, access)
    filters = forms.ClassFilterForm(_with_year(request, year), school=access.school)
    rows = ClassGroup.objects.filter(year=year).select_related("homeroom_teacher")
    current = Q(enrollments__left_on__isnull=True)
    rows = filters.apply(rows).annotate(student_count=Count("enrollments", filter=current))
    table = _table(request, tables.ClassTable(rows, school_code=code))
    context = {"table": table, "filter_form": filters, "year": year}
    return _page(request, "classes.html", access, "classes", **context)


@GET_POST
def class_create(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = _chosen_year(request, access)
    if year is None:
        return _no_year(request, code)
    form = forms.ClassGroupForm(_data(request), school=access.school)
    back_url = _url("setup_classes", code, query=f"year={year.pk}")

    def save() -> str:
        class_group = setup_services.create_class_group(year=year, **form.cleaned_data)
        return _("Class %(name)s created.") % {"name": class_group.name}

    if _saved(request, form, save):
        return redirect(back_url)
    title = _("New class in %(year)s") % {"year": year.name}
    return _form_page(request, access, "classes", form, title, back_url)


def _class_group(access: SchoolAccess, pk: int) -> ClassGroup:
    queryset = ClassGroup.objects.select_related("year__school", "homeroom_teacher")
    return get_school_object(access, queryset, pk, school_path="year__school")


@GET_POST
def class_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    class_group = _class_group(access, pk)
    form = forms.ClassGroupForm(_data(request), school=access.school, class_group=class_group)
    back_url = _url("setup_classes", code, query=f"year={class_group.year_id}")

    def save() -> str:
        setup_services.update_class_group(class_group=class_group, **form.cleaned_data)
        return _("Class %(name)s saved.") % {"name": class_group.name}

    if _saved(request, form, save):
        return redirect(back_url)
    names = {"name": class_group.name, "year": class_group.year.name}
    title = _("Class %(name)s (%(year)s)") % names
    context = {"class_group": class_group}
    return _form_page(
        request, access, "classes", form, title, back_url, "class_form.html", **context
    )


@require_POST
def class_renumber(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    class_group = _class_group(access, pk)
    renumber_class(class_group=class_group)
    messages.success(request, _("Class %(name)s renumbered by name.") % {"name": class_group.name})
    return redirect("schools:setup_class_edit", code=code, pk=class_group.pk)


# Subjects and curriculum ---------------------------------------------------------------------


@require_safe
def subjects(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    table = _table(request, tables.SubjectTable(access.school.subjects.all(), school_code=code))
    return _page(request, "subjects.html", access, "subjects", table=table, year=access.year)


@GET_POST
def subject_create(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.SubjectForm(_data(request))

    def save() -> str:
        subject = setup_services.create_subject(school=access.school, **form.cleaned_data)
        return _("Subject %(name)s created.") % {"name": subject.name}

    if _saved(request, form, save):
        return redirect("schools:setup_subjects", code=code)
    back_url = _url("setup_subjects", code)
    return _form_page(request, access, "subjects", form, _("New subject"), back_url)


@GET_POST
def subject_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    subject = get_school_object(access, access.school.subjects.all(), pk, school_path="school")
    title = _("Subject %(code)s") % {"code": subject.code}  # before the form changes it
    form = forms.SubjectForm(_data(request), instance=subject)

    def save() -> str:
        setup_services.update_subject(subject=subject, **form.cleaned_data)
        return _("Subject %(name)s saved.") % {"name": subject.name}

    if _saved(request, form, save):
        return redirect("schools:setup_subjects", code=code)
    return _form_page(request, access, "subjects", form, title, _url("setup_subjects", code))


def _grade(request: HttpRequest, access: SchoolAccess) -> int:
    """The grade in ?grade= if the school teaches it, else its first grade."""
    grade = request.GET.get("grade", "")
    grades = access.school.grades
    return int(grade) if grade.isdigit() and int(grade) in grades else grades[0]


@require_safe
def curriculum(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    grade = _grade(request, access)
    entries = year.curriculum.filter(grade=grade).select_related("subject")
    table = tables.CurriculumTable.for_grade(entries, grade=grade, school_code=code)
    context = {"table": _table(request, table), "year": year, "grade": grade}
    context["years"] = access.school.years.all()
    return _page(request, "curriculum.html", access, "subjects", **context)


@GET_POST
def curriculum_entry_create(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    grade = _grade(request, access)
    form = forms.CurriculumAddForm(_data(request), school=access.school, grade=grade)

    def save() -> str:
        entry = setup_services.add_curriculum_entry(year=year, **form.cleaned_data)
        names = {"subject": entry.subject.name, "grade": entry.grade}
        return _("%(subject)s added to grade %(grade)s.") % names

    if _saved(request, form, save):
        added_to = form.cleaned_data["grade"]
        return redirect(_url("setup_curriculum", code, year.pk, query=f"grade={added_to}"))
    title = _("Add a subject to the curriculum of %(year)s") % {"year": year.name}
    back_url = _url("setup_curriculum", code, year.pk, query=f"grade={grade}")
    return _form_page(request, access, "subjects", form, title, back_url)


@GET_POST
def curriculum_entry_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    queryset = CurriculumEntry.objects.select_related("year", "subject")
    entry = get_school_object(access, queryset, pk, school_path="year__school")
    form = forms.CurriculumEntryForm(_data(request), instance=entry)
    back_url = _url("setup_curriculum", code, entry.year_id, query=f"grade={entry.grade}")

    def save() -> str:
        setup_services.update_curriculum_entry(entry=entry, **form.cleaned_data)
        return _("Curriculum entry saved.")

    if _saved(request, form, save):
        return redirect(back_url)
    names = {"subject": entry.subject.name, "grade": entry.grade, "year": entry.year.name}
    title = _("%(subject)s, grade %(grade)s, %(year)s") % names
    return _form_page(request, access, "subjects", form, title, back_url)


@require_POST
def curriculum_load_defaults(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    added = load_default_curriculum(year=year)
    message = _("%(count)s programme entries added; existing entries kept.")
    messages.success(request, message % {"count": added})
    return redirect("schools:setup_curriculum", code=code, pk=year.pk)


# Teachers and other staff --------------------------------------------------------------------


def _staff(access: SchoolAccess) -> QuerySet[User]:
    """Everyone who holds or held a role in the school, with those memberships attached."""
    here = Membership.objects.filter(school=access.school)
    return (
        User.objects.filter(memberships__school=access.school)
        .distinct()
        .prefetch_related(Prefetch("memberships", queryset=here, to_attr="school_memberships"))
    )


@require_safe
def teachers(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    filters = forms.StaffFilterForm(request.GET)
    rows = filters.apply(_staff(access), school=access.school)
    table = _table(request, tables.StaffTable(rows, school_code=code))
    return _page(request, "teachers.html", access, "teachers", table=table, filter_form=filters)


@GET_POST
def teacher_create(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.StaffCreateForm(_data(request))

    def save() -> str:
        details = {k: v for k, v in form.cleaned_data.items() if k != "password_again"}
        user = setup_services.create_staff_account(school=access.school, **details)
        if details["password"]:
            message = _("Account %(username)s created with the initial password.")
        else:
            setup_services.send_password_setup_email(request=request, user=user)
            message = _("Account %(username)s created; a password link was emailed to them.")
        return message % {"username": user.username}

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    intro = _(
        "Someone who already has an account (in another school) keeps it: add it by "
        "username instead."
    )
    existing = (_url("setup_teacher_add_existing", code), _("Add an existing account"))
    back_url = _url("setup_teachers", code)
    title = _("New staff account")
    context = {"intro": intro, "intro_link": existing}
    return _form_page(request, access, "teachers", form, title, back_url, **context)


@GET_POST
def teacher_add_existing(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.StaffAddExistingForm(_data(request))

    def save() -> str:
        user = setup_services.add_existing_staff(school=access.school, **form.cleaned_data)
        return _("%(name)s now works in this school.") % {"name": user.display_name}

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    title = _("Add an existing account")
    return _form_page(request, access, "teachers", form, title, _url("setup_teachers", code))


def _staff_member(access: SchoolAccess, pk: int) -> User:
    return get_school_object(access, _staff(access), pk, school_path="memberships__school")


@GET_POST
def teacher_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    member = _staff_member(access, pk)
    roles = [m.role for m in member.school_memberships if m.is_active]
    shared = setup_services.is_shared_account(school=access.school, user=member)
    form = forms.StaffEditForm(_data(request), user=member, roles=roles, shared=shared)

    def save() -> str:
        setup_services.update_staff_member(
            school=access.school, user=member, actor=request.user, **form.cleaned_data
        )
        return _("%(name)s saved.") % {"name": member.display_name}

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    title = f"{member.display_name} ({member.username})"
    context = {"member": member, "is_active_here": bool(roles)}
    context["is_self"] = member.pk == request.user.pk
    back_url = _url("setup_teachers", code)
    return _form_page(
        request, access, "teachers", form, title, back_url, "teacher_form.html", **context
    )


@require_POST
def teacher_deactivate(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    member = _staff_member(access, pk)
    try:
        setup_services.deactivate_staff_member(
            school=access.school, user=member, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("schools:setup_teacher_edit", code=code, pk=member.pk)
    message = _("%(name)s no longer works in this school.")
    messages.success(request, message % {"name": member.display_name})
    return redirect("schools:setup_teachers", code=code)


# Teaching assignments ------------------------------------------------------------------------


@require_safe
def assignments(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = _filter_year(request, access)
    data = _with_year(request, year)
    filters = forms.AssignmentFilterForm(data, school=access.school, year=year)
    rows = TeachingAssignment.objects.filter(class_group__year=year)
    rows = filters.apply(rows.select_related("class_group", "subject", "teacher"))
    table = _table(request, tables.AssignmentTable(rows, school_code=code))
    context = {"table": table, "filter_form": filters, "year": year}
    return _page(request, "assignments.html", access, "assignments", **context)


@GET_POST
def assignment_create(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = _chosen_year(request, access)
    if year is None:
        return _no_year(request, code)
    form = forms.TeachingAssignmentForm(_data(request), school=access.school, year=year)
    back_url = _url("setup_assignments", code, query=f"year={year.pk}")

    def save() -> str:
        assignment = setup_services.create_teaching_assignment(**form.cleaned_data)
        return _("%(assignment)s assigned.") % {"assignment": assignment}

    if _saved(request, form, save):
        return redirect(back_url)
    title = _("New teaching assignment in %(year)s") % {"year": year.name}
    intro = _("The subject must be in the curriculum of the class's grade.")
    return _form_page(request, access, "assignments", form, title, back_url, intro=intro)


@GET_POST
def assignment_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the assignment."""
    access = _access(request, code)
    queryset = TeachingAssignment.objects.select_related("class_group", "subject", "teacher")
    assignment = get_school_object(access, queryset, pk, school_path="class_group__year__school")
    back_url = _url("setup_assignments", code, query=f"year={assignment.class_group.year_id}")
    if request.method == "POST":
        setup_services.delete_teaching_assignment(assignment=assignment)
        messages.success(request, _("%(assignment)s removed.") % {"assignment": assignment})
        return redirect(back_url)
    context = {"assignment": assignment, "back_url": back_url}
    return _page(request, "assignment_delete.html", access, "assignments", **context)


# Students ------------------------------------------------------------------------------------


@require_safe
def students(request: HttpRequest, code: str) -> HttpResponse:
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
def student_create(request: HttpRequest, code: str) -> HttpResponse:
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
def student_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
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
def student_transfer(request: HttpRequest, code: str, pk: int) -> HttpResponse:
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
def student_move(request: HttpRequest, code: str, pk: int) -> HttpResponse:
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
