"""Set-up pages: subjects and curriculum."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services, tables
from schools.access import SchoolAccess, get_school_object
from schools.models import (
    CurriculumEntry,
)
from schools.services import load_default_curriculum
from schools.setup_views._common import (
    GET_POST,
    _access,
    _data,
    _form_page,
    _page,
    _saved,
    _table,
    _url,
    _year,
)

# Subjects and curriculum ---------------------------------------------------------------------


@require_safe
def subjects(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    table = _table(request, tables.SubjectTable(access.school.subjects.all(), school_code=code))
    return _page(request, "subjects.html", access, "subjects", table=table, year=access.year)


@GET_POST
def subject_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def subject_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
def curriculum(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    grade = _grade(request, access)
    entries = year.curriculum.filter(grade=grade).select_related("subject")
    table = tables.CurriculumTable.for_grade(entries, grade=grade, school_code=code)
    context = {"table": _table(request, table), "year": year, "grade": grade}
    context["years"] = access.school.years.all()
    return _page(request, "curriculum.html", access, "subjects", **context)


@GET_POST
def curriculum_entry_create(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
def curriculum_entry_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
def curriculum_load_defaults(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    added = load_default_curriculum(year=year)
    message = _("%(count)s programme entries added; existing entries kept.")
    messages.success(request, message % {"count": added})
    return redirect("schools:setup_curriculum", code=code, pk=year.pk)
