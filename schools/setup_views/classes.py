"""Set-up pages: classes."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services, tables
from schools.access import SchoolAccess, get_school_object
from schools.models import (
    ClassGroup,
)
from schools.services import renumber_class
from schools.setup_views._common import (
    GET_POST,
    _access,
    _chosen_year,
    _data,
    _filter_year,
    _form_page,
    _no_year,
    _page,
    _saved,
    _table,
    _url,
    _with_year,
)

# Classes -------------------------------------------------------------------------------------


@require_safe
def classes(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = _filter_year(request, access)
    filters = forms.ClassFilterForm(_with_year(request, year), school=access.school)
    rows: QuerySet[ClassGroup] = ClassGroup.objects.filter(year=year).select_related(
        "homeroom_teacher"
    )
    current = Q(enrollments__left_on__isnull=True)
    rows = filters.apply(rows).annotate(student_count=Count("enrollments", filter=current))
    table = _table(request, tables.ClassTable(rows, school_code=code))
    context = {"table": table, "filter_form": filters, "year": year}
    return _page(request, "classes.html", access, "classes", **context)


@GET_POST
def class_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def class_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
def class_renumber(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    class_group = _class_group(access, pk)
    renumber_class(class_group=class_group)
    messages.success(request, _("Class %(name)s renumbered by name.") % {"name": class_group.name})
    return redirect("schools:setup_class_edit", code=code, pk=class_group.pk)
