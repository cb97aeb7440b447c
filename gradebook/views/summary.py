"""The homeroom class summary page, with charts, and the same table as an .xlsx download (the
tables: :mod:`gradebook.summary`; the workbook: :mod:`gradebook.exports`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from gradebook import charts
from gradebook.exports import summary_workbook
from gradebook.results import class_results
from gradebook.summary import Period, current_period, summary_table
from schools.access import get_homeroom_book, get_school
from schools.models import ClassGroup


def requested_period(request: HttpRequest, class_group: ClassGroup, *, primary: bool) -> Period:
    """?term=1|2|year; primary has no separate term II (its end-of-year point is term II)."""
    asked = request.GET.get("term")
    if asked in ("1", "2", "year"):
        period: Period = int(asked) if asked != "year" else "year"
    else:
        period = current_period(class_group.year, primary=primary)
    return "year" if primary and period == 2 else period


def _load(request: AuthenticatedRequest, code: str, class_pk: int):
    access = get_school(request, code)
    class_group = get_homeroom_book(access, class_pk, write=False)
    results = class_results(class_group)
    period = requested_period(request, class_group, primary=results.primary)
    return access, class_group, results, period


def class_summary(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """The class summary for ?term=1|2|year: leadership/admin and the homeroom teacher."""
    access, class_group, results, period = _load(request, code, class_pk)
    periods = [(1, _("Term I")), ("year", _("Year"))]
    if not results.primary:
        periods.insert(1, (2, _("Term II")))
    period_label = next(label for key, label in periods if key == period)
    return render(
        request,
        "gradebook/summary.html",
        {
            "access": access,
            "class_group": class_group,
            "results": results,
            "period": period,
            "period_key": str(period),
            "periods": [(str(key), label) for key, label in periods],
            "period_label": period_label,
            "table": summary_table(results, period),
            "charts": charts.class_charts(results, period),
        },
    )


def class_summary_xlsx(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """The same table as an .xlsx file (numbers as numbers)."""
    _access, class_group, results, period = _load(request, code, class_pk)
    content = summary_workbook(summary_table(results, period), title=class_group.name)
    name = f"summary-{class_group.name}-{class_group.year.name}-{period}.xlsx"
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    disposition = content_disposition_header(True, name)
    assert disposition is not None  # always one for an attachment
    response["Content-Disposition"] = disposition
    return response
