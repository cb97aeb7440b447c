"""The principal's year-end decision screen and its printed lists (gradebook.year_end)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from gradebook.results import school_year_results
from gradebook.year_end import ALL, ALL_TITLE, OUTCOMES, year_end_lists
from schools.access import LEADERSHIP_ROLES, get_school
from schools.models import SchoolYear


def year_end(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Leadership: each class's students by year-end outcome, ?outcome= one list, ?year= a
    past school year of the school (the current one by default)."""
    access = get_school(request, code, roles=LEADERSHIP_ROLES)
    asked = request.GET.get("year", "")
    if asked:
        if not asked.isdigit():
            return _bad_request(request, access, _("Unknown school year."))
        year = get_object_or_404(SchoolYear, pk=int(asked), school=access.school)
    else:
        year = access.year_or_404()
    outcome = request.GET.get("outcome", ALL) or ALL
    if outcome != ALL and outcome not in OUTCOMES:
        return _bad_request(request, access, _("Unknown list: %(name)s.") % {"name": outcome})
    title = ALL_TITLE if outcome == ALL else OUTCOMES[outcome][1]
    return render(
        request,
        "gradebook/year_end.html",
        {
            "access": access,
            "year": year,
            "years": access.school.years.order_by("-start_year"),
            "outcome": outcome,
            "filters": [(ALL, _("All"))] + [(key, label) for key, (label, _t) in OUTCOMES.items()],
            "title": title,
            "classes": year_end_lists(school_year_results(year), outcome),
        },
    )


def _bad_request(request: AuthenticatedRequest, access, message: str) -> HttpResponse:
    """The page with the message and no list: bad input in the address."""
    context = {"access": access, "error": message, "outcome": ALL, "filters": [], "classes": []}
    return render(request, "gradebook/year_end.html", context, status=400)
