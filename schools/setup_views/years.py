"""Set-up pages: years."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Min, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services, tables
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

# Years ---------------------------------------------------------------------------------------


@require_safe
def years(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def year_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
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
def year_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
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
def year_make_current(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    year = _year(access, pk)
    setup_services.make_year_current(year=year)
    messages.success(request, _("%(name)s is now the current school year.") % {"name": year.name})
    return redirect("schools:setup_years", code=code)
