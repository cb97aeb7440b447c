"""The Department's pages: the province's dashboard (filters, charts, an .xlsx of it) and one
school's classes. Read-only (GET and HEAD only), aggregates only (department/overview.py)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from accounts.http import AuthenticatedRequest
from department.access import DepartmentAccess, get_department, get_department_school
from department.charts import dashboard_charts, school_charts, state_names
from department.excel import dashboard_workbook
from department.forms import DashboardFilters
from department.overview import SchoolProgress, default_term, schools_progress, totals
from schools.models import School
from schools.names import vietnamese_text_key

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filtered(
    request: AuthenticatedRequest, access: DepartmentAccess
) -> tuple[DashboardFilters, list[SchoolProgress], int]:
    """The filter form, the listed schools' progress and the term (a fixed number of queries)."""
    province = access.schools()
    districts = sorted(
        set(province.exclude(district="").values_list("district", flat=True).order_by()),
        key=vietnamese_text_key,
    )
    form = DashboardFilters(request.GET or None, districts=districts)
    schools = province
    term = None
    if form.is_valid():
        if form.cleaned_data["district"]:
            schools = schools.filter(district=form.cleaned_data["district"])
        if form.cleaned_data["level"]:
            schools = schools.filter(level=form.cleaned_data["level"])
        term = form.cleaned_data["term"]
    listed = sorted(
        schools, key=lambda s: (vietnamese_text_key(s.district), vietnamese_text_key(s.name))
    )
    if term is None:
        term = default_term(listed, timezone.localdate())
    return form, schools_progress(listed, term=term), term


@require_safe
def dashboard(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Every school of the province (or of the filtered district and level): its gradebooks,
    its transcripts and its packages, with charts."""
    access = get_department(request, code)
    form, rows, term = _filtered(request, access)
    context = {
        "department": access.department,
        "form": form,
        "rows": rows,
        "total": totals(rows),
        "term": term,
        "states": state_names(),
        "charts": dashboard_charts(rows),
    }
    return render(request, "department/dashboard.html", context)


@require_safe
def dashboard_xlsx(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The dashboard's table, with the filters of the page, as an .xlsx."""
    access = get_department(request, code)
    _form, rows, term = _filtered(request, access)
    content = dashboard_workbook(
        department=access.department, rows=rows, total=totals(rows), term=term
    )
    response = HttpResponse(content, content_type=XLSX)
    name = f"so-{access.department.code}-{timezone.localdate():%Y%m%d}-hk{term}.xlsx"
    disposition = content_disposition_header(True, name)
    assert disposition is not None  # always one for an attachment
    response["Content-Disposition"] = disposition
    return response


@require_safe
def school(request: AuthenticatedRequest, code: str, school_code: str) -> HttpResponse:
    """One school of the province, class by class (another province's school: 404)."""
    access = get_department(request, code)
    found: School = get_department_school(access, school_code)
    asked = request.GET.get("term")
    term = int(asked) if asked in ("1", "2") else default_term([found], timezone.localdate())
    [row] = schools_progress([found], term=term)
    context = {
        "department": access.department,
        "row": row,
        "term": term,
        "states": state_names(),
        "charts": school_charts(row),
    }
    return render(request, "department/school.html", context)
