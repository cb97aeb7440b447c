"""Set-up pages: the school's own details."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from schools import forms, setup_services
from schools.setup_views._common import GET_POST, _access, _data, _form_page, _saved, _url


@GET_POST
def school_details(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The address, province and place name printed on the school's transcripts."""
    access = _access(request, code)
    school = access.school
    form = forms.SchoolDetailsForm(_data(request), instance=school)

    def save() -> str:
        setup_services.update_school_details(school=school, **form.cleaned_data)
        return _("The school's details are saved.")

    if _saved(request, form, save):
        return redirect("schools:setup_school", code=code)
    intro = _(
        "%(name)s (school code %(code)s). The place name is printed before the date where "
        "the principal signs a transcript; versions already confirmed keep what they printed."
    ) % {"name": school.name, "code": school.code}
    back_url = _url("setup", code)
    return _form_page(request, access, "school", form, _("School details"), back_url, intro=intro)
