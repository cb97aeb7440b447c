"""The roster import page (school admins only): upload a file, see every row's errors or what
was imported, and download the templates."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedRequest
from accounts.models import User
from schools.access import SETUP_ROLES, get_school
from schools.models import School
from schools.roster_import.columns import KINDS
from schools.roster_import.errors import ImportFileError
from schools.roster_import.forms import KIND_CHOICES, RosterImportForm
from schools.roster_import.service import Outcome, import_roster
from schools.roster_import.template import FILENAMES, TEMPLATE_COLUMNS, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def roster_import(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = get_school(request, code, roles=SETUP_ROLES)
    outcome: Outcome | None = None
    if request.method == "POST":
        form = RosterImportForm(request.POST, request.FILES, school=access.school)
        if form.is_valid():
            outcome = _import(form, access.school, request.user)
    else:
        form = RosterImportForm(
            school=access.school, initial={"kind": request.GET.get("kind", "students")}
        )
    return render(
        request,
        "schools/import/roster.html",
        {
            "access": access,
            "form": form,
            "outcome": outcome,
            "kinds": _kinds(),
            "max_kb": settings.ROSTER_IMPORT_MAX_BYTES // 1024,
        },
    )


def _import(form: RosterImportForm, school: School, actor: User) -> Outcome | None:
    upload = form.cleaned_data["file"]
    try:
        return import_roster(
            school=school,
            year=form.cleaned_data["year"],
            kind=form.cleaned_data["kind"],
            data=upload.read(),
            filename=upload.name,
            dry_run=form.cleaned_data["dry_run"],
            actor=actor,
        )
    except ImportFileError as exc:
        form.add_error("file", str(exc))
        return None


def _kinds() -> list[dict]:
    """Each kind with its label and accepted columns, for the page's help."""
    kinds = []
    for name, label in KIND_CHOICES:
        spec = KINDS[name]
        groups = {key: group for group in spec.required for key in group}
        columns = [
            {
                "header": c.header,
                "aliases": c.aliases[1:],
                "required": len(groups.get(c.key, ())) == 1,
                "or": [spec.column(k).header for k in groups.get(c.key, ()) if k != c.key],
            }
            for c in spec.columns
        ]
        kinds.append({"name": name, "label": label, "columns": columns})
    return kinds


def roster_template(request: AuthenticatedRequest, code: str, kind: str) -> HttpResponse:
    access = get_school(request, code, roles=SETUP_ROLES)
    if kind not in TEMPLATE_COLUMNS:
        raise Http404
    first_class = access.year.classes.order_by("grade", "name").first() if access.year else None
    data = template_workbook(kind, class_name=first_class.name if first_class else "6A1")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{FILENAMES[kind]}"'
    return response
