"""What the transcripts' commands share: finding the school and year they name, and reading the
certificate's secret from the environment (never from the command line, where it would show in
the process list and the shell history)."""

from __future__ import annotations

import os

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from schools.models import School, SchoolYear

SECRET_VARIABLE = "SIGNING_SECRET"  # noqa: S105 - the name of the variable, not a secret


def school_and_year(code: str, year_name: str) -> tuple[School, SchoolYear]:
    school = School.objects.filter(code=code).first()
    if school is None:
        raise CommandError(_("No school with code %(code)s.") % {"code": code})
    start = year_name.split("-")[0]
    year = (
        SchoolYear.objects.filter(school=school, start_year=int(start)).first()
        if start.isdigit()
        else None
    )
    if year is None or year.name != year_name:
        raise CommandError(
            _("No school year %(year)s in %(school)s.") % {"year": year_name, "school": school}
        )
    return school, year


def secret_from_environment() -> str:
    secret = os.environ.get(SECRET_VARIABLE)
    if not secret:
        raise CommandError(
            _(
                "Set the environment variable %(name)s to the certificate's password, PIN or "
                "access token."
            )
            % {"name": SECRET_VARIABLE}
        )
    return secret
