"""The upload form of the import page."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from schools.models import School, SchoolYear
from schools.roster_import.reading import too_large_message
from schools.roster_import.service import KINDS_NEEDING_A_YEAR

KIND_CHOICES = [
    ("students", _("Students")),
    ("assignments", _("Teaching assignments")),
    ("teachers", _("Teacher accounts")),
]


class RosterImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What to import"),
        choices=KIND_CHOICES,
        initial="students",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    year: forms.ModelChoiceField[SchoolYear] = forms.ModelChoiceField(
        label=_("School year"),
        queryset=SchoolYear.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.FileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Validate only: check the file and import nothing"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        cast(forms.ModelChoiceField, self.fields["year"]).queryset = school.years.all()
        self.fields["year"].initial = school.current_year()

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > settings.ROSTER_IMPORT_MAX_BYTES:
            raise ValidationError(too_large_message(upload.size))
        return upload

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("year") and "year" not in self.errors:
            cleaned["year"] = self.school.current_year()
        if cleaned.get("kind") in KINDS_NEEDING_A_YEAR and not cleaned.get("year"):
            self.add_error("year", _("Create a school year before importing its classes."))
        return cleaned
