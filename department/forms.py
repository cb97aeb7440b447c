from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from schools.models import SchoolLevel


class DashboardFilters(forms.Form):
    """The dashboard's GET filters: district, level and term; empty means every one (the
    term: the one in progress)."""

    district = forms.ChoiceField(label=_("District"), required=False)
    level = forms.ChoiceField(
        label=_("School level"),
        required=False,
        choices=[("", _("All levels")), *SchoolLevel.choices],
    )
    term = forms.TypedChoiceField(
        label=_("Term"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("In progress")), (1, _("Term I")), (2, _("Term II"))],
    )

    def __init__(self, data: QueryDict | None, *, districts: list[str]) -> None:
        super().__init__(data)
        district = self.fields["district"]
        assert isinstance(district, forms.ChoiceField)
        district.choices = [("", _("All districts"))] + [(d, d) for d in districts]
