"""Set-up pages: teaching assignments."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services, tables
from schools.access import get_school_object
from schools.models import (
    TeachingAssignment,
)
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

# Teaching assignments ------------------------------------------------------------------------


@require_safe
def assignments(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def assignment_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def assignment_delete(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
