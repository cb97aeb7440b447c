"""Helpers shared by the set-up pages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig, Table

from accounts.http import AuthenticatedRequest
from schools.access import SETUP_ROLES, SchoolAccess, get_school, get_school_object
from schools.models import (
    SchoolYear,
)

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


# Helpers -------------------------------------------------------------------------------------


def _access(request: AuthenticatedRequest, code: str) -> SchoolAccess:
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
    form: BaseForm,
    title: str,
    back_url: str,
    template: str = "form.html",
    **context: object,
) -> HttpResponse:
    context = {"form": form, "title": title, "back_url": back_url, **context}
    return _page(request, template, access, section, **context)


def _data(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _saved(request: HttpRequest, form: BaseForm, save: Callable[[], str]) -> bool:
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
